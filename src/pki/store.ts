/**
 * The PKI on disk: which files are reused, regenerated or renewed, and their replacement in one
 * step (temporary files, then renames, then the manifest), so an interrupted run leaves a PKI the
 * next one accepts. (Over 250 lines: deciding and writing are one transaction over the manifest.)
 */
import { createHash, X509Certificate, type KeyObject } from 'node:crypto';
import { readdir, rename, rm } from 'node:fs/promises';
import { ensureDir, entryKind, readOwnFile, TEMP_FILE, tempFileAbandoned, writeTemp } from '../files.js';
import path from 'node:path';
import { HarnessError, systemErrorCode } from '../errors.js';
import { makeTempDir } from '../temp-dirs.js';
import { decodePrivateKey, encodePrivateKey, generateKey, keyTypeOf, newPassphrase, type KeyType } from './keys.js';
import { issueCa, issueLeaf, type KeyedCertificate, type PkiMaterial } from './generate.js';
import { parseCertificate } from '../x509/certificate.js';
import {
  CA_NAMES, ENCRYPTED_KEY, LEAF_NAMES, LEAF_PROFILES, LOOPBACK_DNS, PASSPHRASE_FILE, RENEW_BEFORE_MS,
  type CaName, type LeafName, type PkiObjectName,
} from './profiles.js';

// Longer than the house's 250 lines: the manifest, its journal and the foreign-file rules are one
// invariant (what the harness wrote, and only that, may be replaced), kept in one place to read.
const MANIFEST = '.fleet-tls-pki.json';

/** A PKI on disk: the in-memory material plus where each file is. */
export interface Pki extends PkiMaterial {
  readonly dir: string;
  /** Path of a CA or leaf certificate file. */
  certPath(name: PkiObjectName): string;
  /** Path of a CA or leaf private key file (mode 0600). */
  keyPath(name: PkiObjectName): string;
  readonly passphrasePath: string;
}

export type PkiAction = { readonly name: PkiObjectName | typeof PASSPHRASE_FILE; readonly action: 'reused' | 'generated'; readonly reason?: string };

export interface EnsurePkiOptions {
  readonly dir: string;
  /** Regenerates everything whose type differs; absent keeps the type on disk (RSA for a new PKI). */
  readonly keyType?: KeyType;
  /** Regenerate everything and overwrite files the harness did not write. */
  readonly force?: boolean;
  readonly now?: number;
  /**
   * More DNS names for the server certificates (fleet-cert, es-cert) besides localhost and their
   * service name: a compose file's or a proxy's host names. A reused one that lacks any is reissued.
   */
  readonly extraDnsNames?: readonly string[];
  /**
   * Judges the PKI before anything is written to `dir` (a command's flags, which may name its
   * files): a throw leaves `dir` as it was. When files would be written, the PKI it is handed
   * lives in a private temporary directory, removed once it returns.
   */
  readonly check?: (pki: Pki) => void | Promise<void>;
}

/**
 * What the harness wrote: each file's SHA-256. While files are being replaced, `pending` maps the
 * complete temporary files to the names they are renamed to: a run interrupted then is finished
 * by the next one (roll forward), so the directory only ever holds the old PKI or the new one.
 */
interface Manifest { generator: 'fleet-tls-harness'; keyType: KeyType; files: Record<string, string>; pending?: Record<string, string> }

/**
 * Reuses a valid PKI in `dir`, regenerates what is missing, expired or inconsistent (a CA's
 * leaves go with it), and never overwrites a file it did not write unless `force` is set.
 */
export async function ensurePki(options: EnsurePkiOptions): Promise<{ pki: Pki; actions: PkiAction[] }> {
  const dir = path.resolve(options.dir);
  const now = options.now ?? Date.now();
  const manifest = await readManifest(dir, options.force === true);
  if (manifest) await finishInterrupted(dir, manifest);
  await clearAbandonedTemps(dir);
  const existing = options.force ? emptyState() : await readExisting(dir, manifest, now);
  const keyType = options.keyType ?? (options.force ? undefined : manifest?.keyType) ?? existing.keyType ?? 'rsa';

  const extraDns = [...new Set(options.extraDnsNames ?? [])];
  const stale = new Map<string, string>();
  let passphrase = existing.passphrase;
  if (passphrase === undefined) stale.set(PASSPHRASE_FILE, 'missing');
  for (const name of CA_NAMES) {
    const problem = existing.problems.get(name) ?? typeProblem(existing.cas[name], keyType);
    if (problem) stale.set(name, problem);
  }
  for (const name of LEAF_NAMES) {
    const issuer = LEAF_PROFILES[name].issuer;
    const problem = stale.has(issuer)
      ? `its issuer ${issuer} is regenerated`
      : name === ENCRYPTED_KEY && stale.has(PASSPHRASE_FILE)
        ? 'its passphrase is regenerated'
        : existing.problems.get(name) ?? typeProblem(existing.leaves[name], keyType) ?? issuerProblem(existing.leaves[name], existing.cas[issuer])
          ?? sanProblem(name, existing.leaves[name], extraDns);
    if (problem) stale.set(name, problem);
  }

  const foreign = [...stale.keys()].flatMap((name) => filesOf(name)).filter((file) => existing.foreign.has(file));
  if (foreign.length > 0) {
    const file = foreign[0]!;
    const why = existing.foreign.get(file) || stale.get(baseName(file));
    throw new HarnessError('FTH_PKI_FOREIGN_FILE',
      `${path.join(dir, file)} was not written by fleet-tls and would be replaced (${why}); ` +
      'use --force to replace it or choose another directory');
  }

  const staleNames = [...stale.keys()];
  const keys = await Promise.all(staleNames.filter((n) => n !== PASSPHRASE_FILE).map(async (n) => [n, await generateKey(keyType)] as const));
  const newKey = new Map(keys);
  const cas = { ...existing.cas } as Record<CaName, KeyedCertificate>;
  const leaves = { ...existing.leaves } as Record<LeafName, KeyedCertificate>;
  if (passphrase === undefined) passphrase = newPassphrase();
  for (const name of CA_NAMES) if (stale.has(name)) cas[name] = issueCa(name, newKey.get(name)!, now);
  for (const name of LEAF_NAMES) {
    if (!stale.has(name)) continue;
    const dnsNames = SERVER_LEAVES.includes(name) && extraDns.length ? { dnsNames: [...new Set([...LOOPBACK_DNS, LEAF_PROFILES[name].hostName, ...extraDns])] } : {};
    leaves[name] = issueLeaf(name, cas[LEAF_PROFILES[name].issuer], newKey.get(name)!, dnsNames, now);
  }

  const material: PkiMaterial = { keyType, cas, leaves, passphrase };
  if (options.check) await checkBeforeWriting(dir, material, staleNames.length > 0, options.check);
  if (staleNames.length > 0 || manifest?.pending) {
    await writePki(dir, material, stale, manifest).catch((error: unknown) => {
      throw new HarnessError('FTH_FILE_UNWRITABLE', `${dir}: cannot write the PKI there: ${(error as Error).message}`, { cause: error });
    });
  }
  const names: ReadonlyArray<PkiAction['name']> = [...CA_NAMES, ...LEAF_NAMES, PASSPHRASE_FILE];
  const actions = names.map((name): PkiAction =>
    stale.has(name) ? { name, action: 'generated', reason: stale.get(name)! } : { name, action: 'reused' });
  return { pki: withPaths(dir, material), actions };
}

async function checkBeforeWriting(dir: string, material: PkiMaterial, writes: boolean, check: (pki: Pki) => void | Promise<void>): Promise<void> {
  if (!writes) return check(withPaths(dir, material));
  const temp = await makeTempDir('pki-check');
  try {
    await check(await writePki(temp.dir, material));
  } catch (error) {
    // The refusal names the files where they will be, not the stand-in directory.
    if (error instanceof Error) error.message = error.message.split(temp.dir).join(dir);
    throw error;
  } finally {
    await temp.remove();
  }
}

/**
 * Writes a complete in-memory PKI to `dir` (used by tests and by `ensurePki`): every file goes to
 * an exclusive temporary file first, the manifest then records them as pending (the commit
 * point), and only then are they renamed into place.
 */
export async function writePki(dir: string, pki: PkiMaterial, only?: ReadonlyMap<string, string>, previous?: Manifest): Promise<Pki> {
  await ensureDir(dir);
  const files: Record<string, string> = { ...(previous?.files ?? {}) };
  const pending: Record<string, string> = {};
  const put = async (file: string, content: string, secret: boolean) => {
    // Keys are created 0600 before any byte is written, so no window exposes them.
    pending[await writeTemp(dir, content, secret ? 0o600 : 0o644)] = file;
    files[file] = sha256(content);
  };
  try {
    for (const name of [...CA_NAMES, ...LEAF_NAMES]) {
      if (only && !only.has(name)) continue;
      const item = name in pki.cas ? pki.cas[name as CaName] : pki.leaves[name as LeafName];
      await put(`${name}.crt`, item.pem, false);
      const encoding = name === ENCRYPTED_KEY ? { format: 'pkcs8-encrypted' as const, passphrase: pki.passphrase } : { format: 'pkcs8' as const };
      await put(`${name}.key`, encodePrivateKey(item.key, encoding), true);
    }
    // No trailing newline: the agent reads the file untrimmed, so a newline would be part of the passphrase.
    if (!only || only.has(PASSPHRASE_FILE)) await put(PASSPHRASE_FILE, pki.passphrase, true);
    await putManifest(dir, { generator: 'fleet-tls-harness', keyType: pki.keyType, files, pending });
  } catch (error) {
    await Promise.all(Object.keys(pending).map((temp) => rm(path.join(dir, temp), { force: true })));
    throw error;
  }
  await finishInterrupted(dir, { generator: 'fleet-tls-harness', keyType: pki.keyType, files, pending });
  return withPaths(dir, pki);
}

async function putManifest(dir: string, manifest: Manifest): Promise<void> {
  const temp = await writeTemp(dir, `${JSON.stringify(manifest, null, 2)}\n`, 0o644);
  await rename(path.join(dir, temp), path.join(dir, MANIFEST)).catch(async (error: unknown) => {
    await rm(path.join(dir, temp), { force: true });
    throw error;
  });
}

/** Renames the pending files that are still temporary, then records the manifest without them. */
async function finishInterrupted(dir: string, manifest: Manifest): Promise<void> {
  if (!manifest.pending) return;
  for (const [temp, file] of Object.entries(manifest.pending)) {
    if (!TEMP_FILE.test(temp) || path.basename(file) !== file) continue;
    if ((await entryKind(path.join(dir, temp))) === 'file') await rename(path.join(dir, temp), path.join(dir, file));
  }
  const { pending: _done, ...rest } = manifest;
  await putManifest(dir, rest);
  delete manifest.pending;
}

/** Temporary files left by a `certs` that was killed before its manifest named them. */
async function clearAbandonedTemps(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(names.filter(tempFileAbandoned).map(async (name) => {
    if ((await entryKind(path.join(dir, name))) === 'file') await rm(path.join(dir, name), { force: true });
  }));
}

export function withPaths(dir: string, material: PkiMaterial): Pki {
  return {
    ...material,
    dir,
    certPath: (name) => path.join(dir, `${name}.crt`),
    keyPath: (name) => path.join(dir, `${name}.key`),
    passphrasePath: path.join(dir, PASSPHRASE_FILE),
  };
}

interface ExistingState {
  keyType?: KeyType;
  cas: Partial<Record<CaName, KeyedCertificate>>;
  leaves: Partial<Record<LeafName, KeyedCertificate>>;
  passphrase?: string;
  problems: Map<string, string>;
  /** Files present on disk that the manifest does not vouch for, and why when it is not their content. */
  foreign: Map<string, string>;
}

function emptyState(): ExistingState {
  return { cas: {}, leaves: {}, problems: new Map(CA_NAMES.map((n) => [n, 'forced'] as [string, string]).concat(LEAF_NAMES.map((n) => [n, 'forced']))), foreign: new Map() };
}

async function readExisting(dir: string, manifest: Manifest | undefined, now: number): Promise<ExistingState> {
  const state: ExistingState = { cas: {}, leaves: {}, problems: new Map(), foreign: new Map() };
  const read = async (file: string) => {
    const kind = await entryKind(path.join(dir, file)).catch(() => 'file' as const);
    if (kind === 'symlink' || kind === 'other') {
      // Never read through, and never replaced without --force: the link may point anywhere.
      state.foreign.set(file, kind === 'symlink' ? 'it is a symbolic link' : 'it is not a regular file');
      return undefined;
    }
    const content = await readOwnFile(path.join(dir, file)).catch((error: unknown) => {
      const code = systemErrorCode(error);
      if (code === 'ENOENT') return undefined;
      if (code === 'ENOTDIR') throw new HarnessError('FTH_FILE_UNREADABLE', `${dir}: not a directory`, { cause: error });
      throw new HarnessError('FTH_FILE_UNREADABLE', `${path.join(dir, file)}: ${(error as Error).message}`, { cause: error });
    });
    if (content !== undefined && manifest?.files[file] !== sha256(content)) state.foreign.set(file, '');
    return content;
  };
  state.passphrase = await read(PASSPHRASE_FILE);
  for (const name of [...CA_NAMES, ...LEAF_NAMES]) {
    const [certPem, keyPem] = await Promise.all([read(`${name}.crt`), read(`${name}.key`)]);
    const loaded = certPem && keyPem ? loadPair(certPem, keyPem, name === ENCRYPTED_KEY ? state.passphrase : undefined, now) : 'missing';
    if (typeof loaded === 'string') {
      state.problems.set(name, loaded);
      continue;
    }
    if (name in LEAF_PROFILES) state.leaves[name as LeafName] = loaded;
    else state.cas[name as CaName] = loaded;
    state.keyType ??= keyTypeOf(loaded.key);
  }
  return state;
}

/** The pair, or why it cannot be reused. */
function loadPair(certPem: string, keyPem: string, passphrase: string | undefined, now: number): KeyedCertificate | string {
  let x509: X509Certificate;
  let key: KeyObject;
  try {
    x509 = new X509Certificate(certPem);
    key = decodePrivateKey(keyPem, passphrase);
  } catch {
    return 'unreadable';
  }
  if (!x509.checkPrivateKey(key)) return 'key does not match certificate';
  if (Date.parse(x509.validTo) - now < RENEW_BEFORE_MS) return 'expired or about to expire';
  if (Date.parse(x509.validFrom) > now) return 'not yet valid';
  return { der: x509.raw, pem: certPem, key };
}

function typeProblem(item: KeyedCertificate | undefined, keyType: KeyType): string | undefined {
  return item && keyTypeOf(item.key) !== keyType ? `key type is not ${keyType}` : undefined;
}

function issuerProblem(leaf: KeyedCertificate | undefined, ca: KeyedCertificate | undefined): string | undefined {
  if (!leaf || !ca) return undefined;
  const caCert = new X509Certificate(ca.der);
  return new X509Certificate(leaf.der).verify(caCert.publicKey) ? undefined : 'not signed by the CA on disk';
}

/**
 * The manifest, or undefined when there is none. One the harness did not write (a symlink, a
 * directory, another program's JSON) is a foreign file: refused, or replaced under `force`.
 */
async function readManifest(dir: string, force: boolean): Promise<Manifest | undefined> {
  const file = path.join(dir, MANIFEST);
  const refuse = (why: string) => {
    if (force) return undefined;
    throw new HarnessError('FTH_PKI_FOREIGN_FILE', `${file} was not written by fleet-tls and would be replaced (${why}); use --force to replace it or choose another directory`);
  };
  let kind;
  try {
    kind = await entryKind(file);
  } catch (error) {
    if (systemErrorCode(error) === 'ENOTDIR') throw new HarnessError('FTH_FILE_UNREADABLE', `${dir}: not a directory`, { cause: error });
    throw new HarnessError('FTH_FILE_UNREADABLE', `${file}: ${(error as Error).message}`, { cause: error });
  }
  if (kind === 'missing') return undefined;
  if (kind === 'symlink') return refuse('it is a symbolic link');
  if (kind === 'other') return refuse('it is not a regular file');
  let parsed: Manifest;
  try {
    parsed = JSON.parse((await readOwnFile(file)) ?? '') as Manifest;
  } catch {
    return refuse('it is not fleet-tls\'s JSON');
  }
  if (parsed?.generator !== 'fleet-tls-harness' || typeof parsed.files !== 'object' || parsed.files === null) return refuse('it is not fleet-tls\'s manifest');
  return parsed;
}

function filesOf(name: string): string[] {
  return name === PASSPHRASE_FILE ? [name] : [`${name}.crt`, `${name}.key`];
}

function baseName(file: string): string {
  return file.replace(/\.(crt|key)$/, '');
}

function sha256(content: string): string {
  return createHash('sha256').update(content).digest('hex');
}

/** The certificates servers present: the ones whose names clients check. */
const SERVER_LEAVES: readonly LeafName[] = ['fleet-cert', 'es-cert'];

/** Why a reused server certificate must be reissued for the extra names asked for. */
function sanProblem(name: LeafName, leaf: KeyedCertificate | undefined, extra: readonly string[]): string | undefined {
  if (!leaf || extra.length === 0 || !SERVER_LEAVES.includes(name)) return undefined;
  const names = new Set(parseCertificate(leaf.der).dnsNames.map((n) => n.toLowerCase()));
  const missing = extra.filter((n) => !names.has(n.toLowerCase()));
  return missing.length ? `it does not name ${missing.join(', ')}` : undefined;
}
