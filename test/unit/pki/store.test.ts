import { createPrivateKey, X509Certificate } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HarnessError } from '../../../src/errors.js';
import { generatePki } from '../../../src/pki/generate.js';
import {
  CA_NAMES, LEAF_NAMES, LEAF_PROFILES, LEAF_VALIDITY_MS, PASSPHRASE_FILE, RENEW_BEFORE_MS, type PkiObjectName,
} from '../../../src/pki/profiles.js';
import { ensurePki, writePki, type Pki, type PkiAction } from '../../../src/pki/store.js';
import { KeyUsage, parsePemCertificates } from '../../../src/x509/certificate.js';

const OBJECTS: readonly PkiObjectName[] = [...CA_NAMES, ...LEAF_NAMES];
const ALL: ReadonlyArray<PkiAction['name']> = [...OBJECTS, PASSPHRASE_FILE];
const DAY = 86_400_000;
const OID_BASIC_CONSTRAINTS = '2.5.29.19';
const OID_KEY_USAGE = '2.5.29.15';
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

/** Every scratch directory this file makes, removed in afterAll. */
const scratch: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'fth-unit-pki-'));
  scratch.push(dir);
  return dir;
}

/** A private copy of a PKI directory, so a test can damage it without touching the others. */
async function copyOf(dir: string): Promise<string> {
  const copy = await tempDir();
  await cp(dir, copy, { recursive: true });
  return copy;
}

async function snapshot(dir: string): Promise<Record<string, string>> {
  const files = (await readdir(dir)).sort();
  return Object.fromEntries(await Promise.all(files.map(async (f) => [f, await readFile(path.join(dir, f), 'utf8')] as const)));
}

function actions(generated: Partial<Record<PkiAction['name'], string>>): PkiAction[] {
  return ALL.map((name) => (generated[name] !== undefined
    ? { name, action: 'generated', reason: generated[name] }
    : { name, action: 'reused' }));
}

const x509 = (dir: string, name: PkiObjectName) => readFile(path.join(dir, `${name}.crt`), 'utf8').then((pem) => new X509Certificate(pem));

/** The ECDSA PKI generated once for this file; tests that change it work on copies. */
let base: string;
let first: { pki: Pki; actions: PkiAction[] };
/** An RSA PKI (the default key type), written once. */
let rsaDir: string;

beforeAll(async () => {
  base = await tempDir();
  rsaDir = await tempDir();
  [first] = await Promise.all([ensurePki({ dir: base, keyType: 'ecdsa' }), ensurePki({ dir: rsaDir })]);
});

afterAll(async () => {
  await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 })));
});

describe('ensurePki on an empty directory', () => {
  it('generates the seven objects of PRODUCT.md and the passphrase; CAs and passphrase as missing, leaves for their new issuer', () => {
    expect(first.actions).toEqual(actions({
      ...Object.fromEntries(CA_NAMES.map((name) => [name, 'missing'])),
      ...Object.fromEntries(LEAF_NAMES.map((name) => [name, `its issuer ${LEAF_PROFILES[name].issuer} is regenerated`])),
      [PASSPHRASE_FILE]: 'missing',
    }));
    expect(first.pki.dir).toBe(path.resolve(base));
    expect(first.pki.keyType).toBe('ecdsa');
  });

  it('writes <name>.crt and <name>.key for each object, the passphrase file and the manifest, and nothing else', async () => {
    const expected = [...OBJECTS.flatMap((n) => [`${n}.crt`, `${n}.key`]), PASSPHRASE_FILE, '.fleet-tls-pki.json'].sort();
    expect((await readdir(base)).sort()).toEqual(expected);
    expect(first.pki.certPath('fleet-ca')).toBe(path.join(path.resolve(base), 'fleet-ca.crt'));
    expect(first.pki.keyPath('agent-cert')).toBe(path.join(path.resolve(base), 'agent-cert.key'));
    expect(first.pki.passphrasePath).toBe(path.join(path.resolve(base), PASSPHRASE_FILE));
  });

  it('writes keys and the passphrase file mode 0600 and certificates mode 0644', async () => {
    const mode = async (file: string) => (await stat(path.join(base, file))).mode & 0o777;
    for (const name of OBJECTS) {
      expect([name, await mode(`${name}.key`)]).toEqual([name, 0o600]);
      expect([name, await mode(`${name}.crt`)]).toEqual([name, 0o644]);
    }
    expect(await mode(PASSPHRASE_FILE)).toBe(0o600);
  });

  it('writes the passphrase with no trailing newline, and it decrypts agent-cert.key, the one ENCRYPTED PRIVATE KEY', async () => {
    const passphrase = await readFile(path.join(base, PASSPHRASE_FILE), 'utf8');
    expect(passphrase).toBe(first.pki.passphrase);
    expect(passphrase).not.toMatch(/\s$/);
    const agentKey = await readFile(path.join(base, 'agent-cert.key'), 'utf8');
    expect(agentKey.split('\n')[0]).toBe('-----BEGIN ENCRYPTED PRIVATE KEY-----');
    expect(() => createPrivateKey({ key: agentKey, passphrase: `${passphrase}\n` })).toThrow();
    const key = createPrivateKey({ key: agentKey, passphrase });
    expect((await x509(base, 'agent-cert')).checkPrivateKey(key)).toBe(true);
    for (const name of OBJECTS.filter((n) => n !== 'agent-cert')) {
      const pem = await readFile(path.join(base, `${name}.key`), 'utf8');
      expect([name, pem.split('\n')[0]]).toEqual([name, '-----BEGIN PRIVATE KEY-----']);
      expect((await x509(base, name)).checkPrivateKey(createPrivateKey(pem))).toBe(true);
    }
  });

  it('makes each CA self-signed, with a critical basicConstraints CA:TRUE and keyCertSign', async () => {
    for (const name of CA_NAMES) {
      const cert = await x509(base, name);
      expect(cert.ca).toBe(true);
      expect(cert.subject).toBe(`O=fleet-tls-harness\nCN=${name}`);
      expect(cert.checkIssued(cert)).toBe(true);
      const parsed = parsePemCertificates(cert.toString())[0]!;
      expect(parsed.extensions.find((e) => e.oid === OID_BASIC_CONSTRAINTS)?.critical).toBe(true);
      expect(parsed.extensions.find((e) => e.oid === OID_KEY_USAGE)?.critical).toBe(true);
      expect(parsed.isCA).toBe(true);
      expect(parsed.keyUsage & KeyUsage.CertSign).toBe(KeyUsage.CertSign);
    }
  });

  it('gives server leaves only serverAuth and client leaves only clientAuth, each issued by its CA', async () => {
    const usage = { 'fleet-cert': [SERVER_AUTH], 'es-cert': [SERVER_AUTH], 'agent-cert': [CLIENT_AUTH], 'fleet-es-cert': [CLIENT_AUTH] };
    for (const name of LEAF_NAMES) {
      const cert = await x509(base, name);
      const issuer = await x509(base, LEAF_PROFILES[name].issuer);
      expect([name, cert.keyUsage]).toEqual([name, usage[name]]);
      expect([name, cert.ca]).toEqual([name, false]);
      expect([name, cert.checkIssued(issuer) && cert.verify(issuer.publicKey)]).toEqual([name, true]);
    }
  });

  it('puts localhost, 127.0.0.1, ::1 and the component name in every leaf\'s SANs', async () => {
    for (const name of LEAF_NAMES) {
      const host = LEAF_PROFILES[name].hostName;
      const cert = await x509(base, name);
      expect(cert.subjectAltName).toBe(`DNS:localhost, DNS:${host}, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1`);
      const parsed = parsePemCertificates(cert.toString())[0]!;
      expect(parsed.dnsNames).toEqual(['localhost', host]);
      expect(parsed.ipAddresses).toEqual(['127.0.0.1', '::1']);
    }
    expect(LEAF_NAMES.map((n) => LEAF_PROFILES[n].hostName)).toEqual(['fleet-server', 'elastic-agent', 'elasticsearch', 'fleet-server']);
  });
});

describe('ensurePki on an existing PKI', () => {
  it('reuses every object on a second run and rewrites no file', async () => {
    const dir = await copyOf(base);
    const before = await snapshot(dir);
    const second = await ensurePki({ dir });
    expect(second.actions).toEqual(actions({}));
    expect(second.pki.keyType).toBe('ecdsa');
    expect(second.pki.passphrase).toBe(first.pki.passphrase);
    expect(second.pki.cas['fleet-ca'].pem).toBe(first.pki.cas['fleet-ca'].pem);
    expect(await snapshot(dir)).toEqual(before);
  });

  it('regenerates leaves about to expire and reuses their CAs and the passphrase', async () => {
    const dir = await copyOf(base);
    const before = await snapshot(dir);
    const now = Date.now() + LEAF_VALIDITY_MS - RENEW_BEFORE_MS + DAY;
    const result = await ensurePki({ dir, now });
    expect(result.actions).toEqual(actions(Object.fromEntries(LEAF_NAMES.map((n) => [n, 'expired or about to expire']))));
    const after = await snapshot(dir);
    for (const name of CA_NAMES) expect(after[`${name}.crt`]).toBe(before[`${name}.crt`]);
    expect(after[PASSPHRASE_FILE]).toBe(before[PASSPHRASE_FILE]);
    for (const name of LEAF_NAMES) {
      const leaf = await x509(dir, name);
      expect(Date.parse(leaf.validTo)).toBe(Math.floor((now + LEAF_VALIDITY_MS) / 1000) * 1000);
      expect(leaf.verify((await x509(dir, LEAF_PROFILES[name].issuer)).publicKey)).toBe(true);
    }
    // The regenerated agent key is still encrypted with the kept passphrase.
    createPrivateKey({ key: after['agent-cert.key']!, passphrase: before[PASSPHRASE_FILE]! });
  });

  it('regenerates a missing CA together with the leaves it issued, and reuses the rest', async () => {
    const dir = await copyOf(base);
    const before = await snapshot(dir);
    await unlink(path.join(dir, 'es-ca.crt'));
    const result = await ensurePki({ dir });
    expect(result.actions).toEqual(actions({
      'es-ca': 'missing',
      'es-cert': 'its issuer es-ca is regenerated',
      'fleet-es-cert': 'its issuer es-ca is regenerated',
    }));
    const after = await snapshot(dir);
    for (const file of ['fleet-ca.crt', 'agent-ca.key', 'fleet-cert.crt', 'agent-cert.key', PASSPHRASE_FILE]) expect(after[file]).toBe(before[file]);
    expect(after['es-ca.key']).not.toBe(before['es-ca.key']);
    const esCa = await x509(dir, 'es-ca');
    for (const name of ['es-cert', 'fleet-es-cert'] as const) expect((await x509(dir, name)).verify(esCa.publicKey)).toBe(true);
    expect((await ensurePki({ dir })).actions).toEqual(actions({}));
  });

  it('regenerates a missing passphrase file together with agent-cert, whose key it encrypts', async () => {
    const dir = await copyOf(base);
    await unlink(path.join(dir, PASSPHRASE_FILE));
    const result = await ensurePki({ dir });
    expect(result.actions).toEqual(actions({ [PASSPHRASE_FILE]: 'missing', 'agent-cert': 'its passphrase is regenerated' }));
    const passphrase = await readFile(path.join(dir, PASSPHRASE_FILE), 'utf8');
    expect(passphrase).not.toBe(first.pki.passphrase);
    createPrivateKey({ key: await readFile(path.join(dir, 'agent-cert.key'), 'utf8'), passphrase });
  });

  it('refuses to replace a file it did not write, naming it, and leaves its bytes alone', async () => {
    const dir = await copyOf(base);
    const foreign = path.join(dir, 'fleet-cert.crt');
    await writeFile(foreign, 'my own certificate, do not touch\n');
    const error = await ensurePki({ dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HarnessError);
    expect((error as HarnessError).code).toBe('FTH_PKI_FOREIGN_FILE');
    expect((error as HarnessError).message).toBe(
      `${path.resolve(foreign)} was not written by fleet-tls and would be replaced (unreadable); use --force to replace it or choose another directory`);
    expect(await readFile(foreign, 'utf8')).toBe('my own certificate, do not touch\n');
  });

  it('refuses a directory of someone else\'s certificates that has no manifest', async () => {
    const dir = await tempDir();
    const theirs = path.join(dir, 'es-ca.crt');
    await writeFile(theirs, first.pki.cas['es-ca'].pem);
    const error = await ensurePki({ dir, keyType: 'ecdsa' }).catch((e: unknown) => e);
    expect([(error as HarnessError).code, (error as HarnessError).message.split(' was not written')[0]]).toEqual(['FTH_PKI_FOREIGN_FILE', theirs]);
    expect(await readdir(dir)).toEqual(['es-ca.crt']);
  });

  it('replaces a foreign file with force, regenerating everything, and the result is reused afterwards', async () => {
    const dir = await copyOf(base);
    const foreign = path.join(dir, 'fleet-cert.crt');
    await writeFile(foreign, 'my own certificate, do not touch\n');
    const forced = await ensurePki({ dir, force: true, keyType: 'ecdsa' });
    expect(forced.actions.map((a) => [a.name, a.action])).toEqual(ALL.map((name) => [name, 'generated']));
    expect(forced.actions.filter((a) => a.name !== PASSPHRASE_FILE).map((a) => a.reason)).toEqual([
      ...CA_NAMES.map(() => 'forced'),
      ...LEAF_NAMES.map((name) => `its issuer ${LEAF_PROFILES[name].issuer} is regenerated`),
    ]);
    expect(await readFile(foreign, 'utf8')).toBe(forced.pki.leaves['fleet-cert'].pem);
    expect((await ensurePki({ dir })).actions).toEqual(actions({}));
  });

  it('regenerates an RSA PKI as EC keys when keyType is ecdsa, keeping the passphrase', async () => {
    const dir = await copyOf(rsaDir);
    const rsaKey = createPrivateKey(await readFile(path.join(dir, 'fleet-ca.key'), 'utf8'));
    expect(rsaKey.asymmetricKeyType).toBe('rsa');
    const result = await ensurePki({ dir, keyType: 'ecdsa' });
    expect(result.actions).toEqual(actions({
      'fleet-ca': 'key type is not ecdsa',
      'agent-ca': 'key type is not ecdsa',
      'es-ca': 'key type is not ecdsa',
      'fleet-cert': 'its issuer fleet-ca is regenerated',
      'agent-cert': 'its issuer agent-ca is regenerated',
      'es-cert': 'its issuer es-ca is regenerated',
      'fleet-es-cert': 'its issuer es-ca is regenerated',
    }));
    const passphrase = await readFile(path.join(dir, PASSPHRASE_FILE), 'utf8');
    for (const name of OBJECTS) {
      const pem = await readFile(path.join(dir, `${name}.key`), 'utf8');
      const key = createPrivateKey(name === 'agent-cert' ? { key: pem, passphrase } : { key: pem });
      expect([name, key.asymmetricKeyType]).toEqual([name, 'ec']);
    }
    const again = await ensurePki({ dir });
    expect([again.pki.keyType, again.actions]).toEqual(['ecdsa', actions({})]);
  });

  it('keeps an RSA PKI as RSA when no keyType is given', async () => {
    const result = await ensurePki({ dir: rsaDir });
    expect([result.pki.keyType, result.actions]).toEqual(['rsa', actions({})]);
  });
});

describe('writePki', () => {
  it('writes an in-memory PKI that ensurePki then reuses as it is', async () => {
    const dir = await tempDir();
    const material = await generatePki('ecdsa');
    const pki = await writePki(dir, material);
    expect(pki.certPath('es-cert')).toBe(path.join(dir, 'es-cert.crt'));
    expect(await readFile(pki.passphrasePath, 'utf8')).toBe(material.passphrase);
    const reused = await ensurePki({ dir });
    expect(reused.actions).toEqual(actions({}));
    expect(reused.pki.leaves['agent-cert'].pem).toBe(material.leaves['agent-cert'].pem);
  });
});

describe('ensurePki after an interrupted write', () => {
  const DEAD_PID = 999_999_999; // above any pid_max: no such process
  const temp = (n: number) => `.fleet-tls-${DEAD_PID}-${n.toString(16).padStart(24, '0')}.tmp`;

  it('finishes a write killed after its manifest named the new files (roll forward to the new PKI)', async () => {
    const dir = await copyOf(base);
    const fresh = await copyOf(rsaDir);
    const manifest = JSON.parse(await readFile(path.join(fresh, '.fleet-tls-pki.json'), 'utf8')) as { files: Record<string, string>; pending?: Record<string, string> };
    const files = Object.keys(manifest.files);
    manifest.pending = {};
    // Killed half-way through the renames: the first half is in place, the rest still temporary.
    for (const [i, file] of files.entries()) {
      const target = i < files.length / 2 ? file : temp(i);
      await writeFile(path.join(dir, target), await readFile(path.join(fresh, file)));
      if (target !== file) manifest.pending[target] = file;
    }
    await writeFile(path.join(dir, '.fleet-tls-pki.json'), JSON.stringify(manifest));
    const result = await ensurePki({ dir });
    expect(result.actions).toEqual(actions({}));
    expect(result.pki.keyType).toBe('rsa');
    expect(await snapshot(dir)).toEqual(await snapshot(fresh).then((s) => ({ ...s, '.fleet-tls-pki.json': expect.any(String) })));
  });

  it('removes the temporary files of a writer that died before its manifest named them, and nothing else', async () => {
    const dir = await copyOf(base);
    await writeFile(path.join(dir, temp(1)), 'half a key');
    await writeFile(path.join(dir, `.fleet-tls-${process.pid}-${'0'.repeat(24)}.tmp`), 'a live writer\'s');
    await writeFile(path.join(dir, 'notes.tmp'), 'mine');
    expect((await ensurePki({ dir })).actions).toEqual(actions({}));
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp')).sort()).toEqual([`.fleet-tls-${process.pid}-${'0'.repeat(24)}.tmp`, 'notes.tmp']);
  });
});
