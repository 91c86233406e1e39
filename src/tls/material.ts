import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { HarnessError, systemErrorCode, type ErrorCode } from '../errors.js';
import { parseCertificate, parsePemCertificates, type Cert } from '../x509/certificate.js';
import { describeContent } from './formats.js';
import { byContent } from './memo.js';
import { decryptLegacyBlock, decryptPkcs8Block, goParsePrivateKey, isLegacyEncrypted } from './go-keys.js';
import { pemDecode, pemDecodeAll, type PemBlock } from './pem.js';

/** A certificate chain (leaf first) with its private key, ready for Node's TLS. */
export interface Identity {
  readonly chain: readonly Cert[];
  readonly certPem: string;
  /** Decrypted, PKCS#8. */
  readonly keyPem: string;
  /** What libs logged at warn level while loading (the legacy encryption deprecation). */
  readonly warnings?: readonly string[];
}

/**
 * Loading failed the way elastic-agent-libs fails: `libsMessage` is the error the agent or
 * Fleet Server returns, `code` classifies it for the CLI.
 */
export class MaterialError extends HarnessError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly libsMessage: string,
    readonly file: string,
    /** Which input was at fault, so a caller can name the flag that gave it. */
    readonly role: MaterialRole,
    /** The lines libs logs on the way, in order (warn and error level, logger "tls"). */
    readonly logs: readonly string[] = [],
  ) {
    super(code, message);
  }
}

export type MaterialRole = 'certificate' | 'key' | 'passphrase' | 'authority';

/** A file path, or inline PEM as libs accepts it (a value whose trimmed form starts with `-`). */
export type PemSource = string;

/** libs IsPEMString. */
export const isInlinePem = (source: string): boolean => source.trim().startsWith('-');

/** libs (since v0.42.0) logs this for every legacy encrypted block it decrypts. */
export const LEGACY_PEM_WARNING =
  'Encrypted PKCS#1 PEM keys are deprecated and insecure, support will be removed in a future release; please convert the key to encrypted PKCS#8';

const reasonOf = (error: unknown) => (systemErrorCode(error) === 'ENOENT' ? 'no such file or directory' : (error as Error).message);

function readSource(source: PemSource, role: MaterialRole): { text: string; label: string; bytes: Buffer } {
  if (isInlinePem(source)) return { text: source, label: 'inline PEM', bytes: Buffer.from(source, 'latin1') };
  try {
    const bytes = readFileSync(source);
    return { text: bytes.toString('latin1'), label: source, bytes };
  } catch (error) {
    const reason = reasonOf(error);
    // LoadCertificateAuthorities prints its nil *PEMReader after the open error, and logs the open error first.
    const libs = role === 'authority' ? `open ${source}: ${reason} reading <nil>` : `open ${source}: ${reason}`;
    const logs = role === 'authority' ? [`Failed reading CA certificate: open ${source}: ${reason}`] : [];
    throw new MaterialError('FTH_FILE_UNREADABLE', `${source}: ${reason}`, libs, source, role, logs);
  }
}

/** What a file holds, in a few words, when that is worth telling (anything but plain text). */
function holding(bytes: Buffer): string {
  const content = describeContent(bytes);
  return content.kind === 'text' ? '' : ` (it holds ${content.summary})`;
}

/**
 * libs readPEMFile: every block decoded by Go's pem.Decode, encrypted ones decrypted with the
 * passphrase (failures are collected, the block dropped), the rest passed through.
 */
function readPemFile(source: PemSource, passphrase: string, role: MaterialRole): { blocks: PemBlock[]; warnings: string[]; label: string; bytes: Buffer } {
  let read: ReturnType<typeof readSource>;
  try {
    read = readSource(source, role);
  } catch (error) {
    if (!(error instanceof MaterialError)) throw error;
    // LoadCertificate logs the open error, then returns it with the path appended (tls.go).
    const logs = [role === 'key' ? `Failed reading key file: ${error.libsMessage}` : `Failed reading certificate file ${source}: ${error.libsMessage}`];
    throw new MaterialError(error.code, error.message, `${error.libsMessage} ${source}`, source, role, logs);
  }
  const { text, label, bytes } = read;
  const blocks: PemBlock[] = [];
  const errors: string[] = [];
  const warnings: string[] = [];
  // What libs logs: the deprecation warning, a line per dropped block, then the failure.
  const logs: string[] = [];
  const failed = (libs: string) => [...logs, role === 'key' ? `Failed reading key file: ${libs.slice(0, -label.length - 1)}` : `Failed reading certificate file ${label}: ${libs.slice(0, -label.length - 1)}`];
  let content = text;
  while (content.length > 0) {
    const decoded = pemDecode(content);
    if (!decoded) {
      if (blocks.length === 0) {
        // After a block that failed to decrypt, anything left (even a blank line) makes libs say
        // "no pem file", hiding the real failure: the harness names it.
        if (errors.length > 0) throw failedBlocks(errors, label, role, `no pem file ${label}`, failed(`no pem file ${label}`));
        const what = role === 'key' ? 'no PEM private key in it' : 'no PEM certificate in it';
        throw new MaterialError('FTH_FILE_MALFORMED', `${label}: ${what}${holding(bytes)}`, `no pem file ${label}`, label, role, failed(`no pem file ${label}`));
      }
      break;
    }
    content = decoded.rest;
    const block = decoded.block;
    let result: { block: PemBlock } | { error: string } = { block };
    if (isLegacyEncrypted(block)) {
      warnings.push(LEGACY_PEM_WARNING);
      logs.push(LEGACY_PEM_WARNING);
      result = decryptLegacyBlock(block, passphrase);
      if ('error' in result) logs.push(`Dropping encrypted pem block with private key, block type '${block.type}', could not decrypt PKCS#1: ${result.error}`);
    } else if (block.type === 'ENCRYPTED PRIVATE KEY') {
      result = decryptPkcs8Block(block, passphrase);
      if ('error' in result) logs.push(`Dropping encrypted pem block with private key, block type '${block.type}', could not decrypt as PKCS8: ${result.error}`);
    }
    if ('error' in result) errors.push(result.error);
    else blocks.push(result.block);
  }
  if (blocks.length === 0) {
    const libs = `${['no PEM blocks', ...errors].join('\n')} ${label}`;
    throw failedBlocks(errors, label, role, libs, failed(libs));
  }
  return { blocks, warnings, label, bytes };
}

function failedBlocks(errors: readonly string[], label: string, role: MaterialRole, libs: string, logs: readonly string[]): MaterialError {
  const passphraseTrouble = errors.some((e) => /passphrase|password/.test(e));
  const reason = errors[0] ?? 'no PEM blocks';
  return new MaterialError(passphraseTrouble ? 'FTH_KEY_PASSPHRASE' : 'FTH_FILE_MALFORMED', `${label}: ${reason}`, libs, label, role, logs);
}

/** CA certificates from files or inline PEM (libs LoadCertificateAuthorities, Go AppendCertsFromPEM). */
export function loadCertificateAuthorities(sources: readonly PemSource[]): Cert[] {
  // Each source by its content: a catalog run reads the same few CA files in every scenario.
  return sources.flatMap((source) => byContent('libs-cas', [source], undefined, () => readAuthorities(source)));
}

function readAuthorities(source: PemSource): readonly Cert[] {
  const { text, label, bytes } = readSource(source, 'authority');
  const certs = pemDecodeAll(text)
    .filter((b) => b.type === 'CERTIFICATE' && Object.keys(b.headers).length === 0)
    .flatMap((b) => {
      try {
        return [parseCertificate(b.bytes)];
      } catch {
        // AppendCertsFromPEM skips a certificate it cannot parse.
        return [];
      }
    });
  if (certs.length === 0) {
    const debug = isInlinePem(source) ? 'inline' : label;
    throw new MaterialError('FTH_FILE_MALFORMED', `${label}: not a PEM certificate${holding(bytes)}`,
      `file is not a certificate adding ${debug} to the list of known CAs`, label, 'authority',
      ['Failed to add CA to the cert pool, CA is not a valid PEM document']);
  }
  return certs;
}

/**
 * A certificate and key as libs LoadCertificate reads them (elastic-agent-libs 0.42): the
 * passphrase file verbatim (a trailing newline is part of the passphrase), encrypted PKCS#8
 * (PBES2) and legacy `Proc-Type: 4,ENCRYPTED` keys (with the deprecation warning), then Go's
 * tls.X509KeyPair with its error texts.
 */
export function loadIdentity(certificate: PemSource, key: PemSource, passphrasePath?: string, passphrase?: string): Identity {
  return byContent('libs', [certificate, key, passphrasePath], passphrase, () => readIdentity(certificate, key, passphrasePath, passphrase));
}

function readIdentity(certificate: PemSource, key: PemSource, passphrasePath?: string, passphrase?: string): Identity {
  let secret = passphrase ?? '';
  if (!secret && passphrasePath) {
    try {
      secret = readFileSync(passphrasePath, 'latin1');
    } catch (error) {
      const reason = reasonOf(error);
      throw new MaterialError('FTH_FILE_UNREADABLE', `${passphrasePath}: ${reason}`,
        `unable to read passphrase_file: open ${passphrasePath}: ${reason}`, passphrasePath, 'passphrase');
    }
  }
  const cert = readPemFile(certificate, secret, 'certificate');
  const keyFile = readPemFile(key, secret, 'key');
  const { chain, privateKey } = x509KeyPair(cert, keyFile);
  const warnings = [...cert.warnings, ...keyFile.warnings];
  return {
    chain,
    certPem: chain.map((c) => c.pem).join(''),
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    ...(warnings.length ? { warnings } : {}),
  };
}

type ReadFile = ReturnType<typeof readPemFile>;

/** Go's tls.X509KeyPair over the decoded blocks; its errors reach the agent unwrapped. */
function x509KeyPair(cert: ReadFile, key: ReadFile): { chain: Cert[]; privateKey: KeyObject } {
  const logs = (message: string) => [...cert.warnings, ...key.warnings, `Failed loading client certificate ${message}`];
  const certFail = (message: string) =>
    new MaterialError('FTH_FILE_MALFORMED', `${cert.label}: no PEM certificate in it${holding(cert.bytes)}`, message, cert.label, 'certificate', logs(message));
  const keyFail = (code: ErrorCode, summary: string, message: string) =>
    new MaterialError(code, `${key.label}: ${summary}`, message, key.label, 'key', logs(message));

  const certBlocks = cert.blocks.filter((b) => b.type === 'CERTIFICATE');
  if (certBlocks.length === 0) {
    const skipped = cert.blocks.map((b) => b.type);
    if (skipped.length === 0) throw certFail('tls: failed to find any PEM data in certificate input');
    if (skipped.length === 1 && skipped[0]!.endsWith('PRIVATE KEY')) {
      throw certFail('tls: failed to find certificate PEM data in certificate input, but did find a private key; PEM inputs may have been switched');
    }
    throw certFail(`tls: failed to find "CERTIFICATE" PEM block in certificate input after skipping PEM blocks of the following types: [${skipped.join(' ')}]`);
  }
  const keyIndex = key.blocks.findIndex((b) => b.type === 'PRIVATE KEY' || b.type.endsWith(' PRIVATE KEY'));
  if (keyIndex < 0) {
    const skipped = key.blocks.map((b) => b.type);
    const summary = `no PEM private key in it${holding(key.bytes)}`;
    if (skipped.length === 1 && skipped[0] === 'CERTIFICATE') throw keyFail('FTH_FILE_MALFORMED', summary, 'tls: found a certificate rather than a key in the PEM for the private key');
    throw keyFail('FTH_FILE_MALFORMED', summary, `tls: failed to find PEM block with type ending in "PRIVATE KEY" in key input after skipping PEM blocks of the following types: [${skipped.join(' ')}]`);
  }
  let chain: Cert[];
  try {
    chain = certBlocks.map((b) => parseCertificate(b.bytes));
  } catch (error) {
    throw new MaterialError('FTH_FILE_MALFORMED', `${cert.label}: the certificate does not parse (${(error as Error).message})`,
      (error as Error).message, cert.label, 'certificate');
  }
  const parsed = goParsePrivateKey(key.blocks[keyIndex]!.bytes);
  if ('error' in parsed) throw keyFail('FTH_FILE_MALFORMED', `the private key does not parse (${parsed.error})`, parsed.error);
  const leaf = chain[0]!;
  const expected = { RSA: 'rsa', ECDSA: 'ec', Ed25519: 'ed25519' }[leaf.publicKeyAlgorithm as string];
  if (expected === undefined) throw certFail('tls: unknown public key algorithm');
  if (parsed.key.asymmetricKeyType !== expected) {
    throw keyFail('FTH_KEY_MISMATCH', `the key is not of the type of ${cert.label}'s key`, 'tls: private key type does not match public key type');
  }
  if (!leaf.publicKey || !createPublicKey(parsed.key).equals(leaf.publicKey)) {
    throw keyFail('FTH_KEY_MISMATCH', `the key does not belong to ${cert.label}`, 'tls: private key does not match public key');
  }
  return { chain, privateKey: parsed.key };
}

/** An in-memory identity from PEM text (the harness's own PKI). */
export function identityFromPem(certPem: string, key: KeyObject): Identity {
  return { chain: parsePemCertificates(certPem), certPem, keyPem: key.export({ type: 'pkcs8', format: 'pem' }) as string };
}
