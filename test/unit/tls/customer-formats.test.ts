/**
 * Files as customers make them with the openssl CLI, read as elastic-agent-libs (and Go's
 * crypto/tls) read them, and as Java reads a certutil-shaped PKCS#12.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeContent } from '../../../src/tls/formats.js';
import { loadJavaAuthorities, loadJavaIdentity, loadKeystoreIdentity } from '../../../src/tls/java-material.js';
import { LEGACY_PEM_WARNING, loadCertificateAuthorities, loadIdentity, MaterialError } from '../../../src/tls/material.js';
import { readKeystore } from '../../../src/tls/pkcs12.js';
import { customerPki, P12_PASSWORD, PASSPHRASE, type CustomerPki } from '../../helpers/customer-pki.js';
import { scratchDir } from '../../helpers/pki.js';

let pki: CustomerPki;
let cleanup: () => Promise<void>;
const f = (name: string) => pki.file(name);

beforeAll(async () => {
  const scratch = await scratchDir('fth-formats-');
  cleanup = scratch.cleanup;
  pki = await customerPki(scratch.dir, { certutilTrust: true });
  const relabel = (await readFile(f('fleet.key'), 'latin1')).replace(/PRIVATE KEY-----/g, 'X').replace(/-----BEGIN X/, '-----BEGIN EC PRIVATE KEY-----').replace(/-----END X/, '-----END EC PRIVATE KEY-----');
  await Promise.all([
    // A PKCS#8 body under a traditional label, as Elastic's test certutil writes keys.
    writeFile(f('fleet-relabelled.key'), relabel),
    execa('openssl', ['ecparam', '-genkey', '-name', 'prime256v1', '-out', f('sec1.key')]),
    execa('openssl', ['rsa', '-in', f('rsa-agent.key'), '-outform', 'der', '-out', f('rsa-agent.der')]),
    // openssl 3's default: an RSA key in PKCS#8, which its decoders also accept when asked for PKCS#1.
    execa('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024', '-out', f('rsa-pkcs8.key')]),
  ]);
  // A key's body under a CERTIFICATE label, as a mislabelled copy-paste leaves it.
  const keyBody = (await readFile(f('rsa-agent.key'), 'latin1')).replace(/RSA PRIVATE KEY/g, 'CERTIFICATE');
  await writeFile(f('key-as-certificate.crt'), keyBody);
}, 30_000);
afterAll(() => cleanup());

function failure(load: () => unknown): Pick<MaterialError, 'code' | 'libsMessage' | 'message'> {
  try {
    load();
  } catch (error) {
    if (!(error instanceof MaterialError)) throw error;
    return { code: error.code, libsMessage: error.libsMessage, message: error.message };
  }
  throw new Error('loaded without an error');
}

describe('keys and chains made with the openssl CLI, read as libs reads them', () => {
  it('reads a chain file (leaf then intermediate) with an OpenSSL 3 PKCS#8 key', () => {
    const identity = loadIdentity(f('fleet-chain.crt'), f('fleet.key'));
    expect(identity.chain.map((c) => c.subject)).toEqual(['CN=fleet-server', 'CN=Customer Intermediate CA']);
    expect(identity.warnings).toBeUndefined();
  });

  it('reads `openssl genrsa -traditional` (RSA PRIVATE KEY, PKCS#1)', () => {
    expect(loadIdentity(f('rsa-agent.crt'), f('rsa-agent.key')).chain[0]!.subject).toBe('CN=rsa agent');
  });

  it('decrypts `openssl rsa -aes256 -traditional` with the passphrase file and logs the deprecation warning', () => {
    const identity = loadIdentity(f('rsa-agent.crt'), f('rsa-agent-legacy.key'), f('passphrase'));
    expect(identity.warnings).toEqual([LEGACY_PEM_WARNING]);
    expect(LEGACY_PEM_WARNING).toBe('Encrypted PKCS#1 PEM keys are deprecated and insecure, support will be removed in a future release; please convert the key to encrypted PKCS#8');
  });

  it('decrypts `openssl pkcs8 -topk8 -v2 aes-256-cbc` (PBES2)', () => {
    expect(loadIdentity(f('fleet.crt'), f('fleet-pkcs8-enc.key'), f('passphrase')).warnings).toBeUndefined();
  });

  it('refuses `-v1 PBE-SHA1-3DES` as youmark/pkcs8 does: only PBES2 supported', () => {
    expect(failure(() => loadIdentity(f('fleet.crt'), f('fleet-pbes1.key'), f('passphrase')))).toEqual({
      code: 'FTH_FILE_MALFORMED',
      libsMessage: `no PEM blocks\nfailed to parse key: pkcs8: only PBES2 supported ${f('fleet-pbes1.key')}`,
      message: `${f('fleet-pbes1.key')}: failed to parse key: pkcs8: only PBES2 supported`,
    });
  });

  it('fails a legacy key with a passphrase file ending in a newline: x509: decryption password incorrect', () => {
    expect(failure(() => loadIdentity(f('rsa-agent.crt'), f('rsa-agent-legacy.key'), f('passphrase-newline')))).toEqual({
      code: 'FTH_KEY_PASSPHRASE',
      libsMessage: `no PEM blocks\nfailed to decrypt PKCS#1 key: x509: decryption password incorrect ${f('rsa-agent-legacy.key')}`,
      message: `${f('rsa-agent-legacy.key')}: failed to decrypt PKCS#1 key: x509: decryption password incorrect`,
    });
  });

  it('reads a PKCS#8 body under an "EC PRIVATE KEY" label, as Go does whatever the label says', () => {
    expect(loadIdentity(f('fleet.crt'), f('fleet-relabelled.key')).chain[0]!.subject).toBe('CN=fleet-server');
    expect(describeContent(Buffer.from('')).kind).toBe('empty');
  });

  it('reads `openssl ecparam -genkey` (EC PARAMETERS then a SEC1 EC PRIVATE KEY)', async () => {
    await execa('openssl', ['req', '-x509', '-key', f('sec1.key'), '-subj', '/CN=sec1', '-days', '1', '-out', f('sec1.crt')]);
    expect(loadIdentity(f('sec1.crt'), f('sec1.key')).chain[0]!.subject).toBe('CN=sec1');
  });

  it('refuses a DER certificate with no pem file and says what the file holds', () => {
    expect(failure(() => loadIdentity(f('fleet.der'), f('fleet.key')))).toEqual({
      code: 'FTH_FILE_MALFORMED',
      libsMessage: `no pem file ${f('fleet.der')}`,
      message: `${f('fleet.der')}: no PEM certificate in it (it holds a DER (binary) certificate)`,
    });
    expect(failure(() => loadCertificateAuthorities([f('root.der')])).libsMessage).toBe(`file is not a certificate adding ${f('root.der')} to the list of known CAs`);
  });

  it('refuses a CSR where the certificate belongs with X509KeyPair\'s list of skipped blocks', () => {
    expect(failure(() => loadIdentity(f('fleet.csr'), f('fleet.key')))).toEqual({
      code: 'FTH_FILE_MALFORMED',
      libsMessage: 'tls: failed to find "CERTIFICATE" PEM block in certificate input after skipping PEM blocks of the following types: [CERTIFICATE REQUEST]',
      message: `${f('fleet.csr')}: no PEM certificate in it (it holds a certificate signing request (CERTIFICATE REQUEST))`,
    });
  });

  it('refuses a certificate where the key belongs: found a certificate rather than a key', () => {
    expect(failure(() => loadIdentity(f('fleet.crt'), f('fleet.crt'))).libsMessage).toBe('tls: found a certificate rather than a key in the PEM for the private key');
  });

  it('refuses a key of another type than the certificate\'s: private key type does not match public key type', () => {
    expect(failure(() => loadIdentity(f('fleet.crt'), f('rsa-agent.key')))).toMatchObject({
      code: 'FTH_KEY_MISMATCH', libsMessage: 'tls: private key type does not match public key type',
    });
  });

  it('names what each customer file holds', () => {
    const summary = async (name: string) => describeContent(await readFile(f(name))).summary;
    return Promise.all([
      expect(summary('fleet-chain.crt')).resolves.toBe('a PEM certificate chain (2 certificates)'),
      expect(summary('rsa-agent.key')).resolves.toBe('a PEM private key (PKCS#1)'),
      expect(summary('rsa-agent-legacy.key')).resolves.toBe('a PEM private key (legacy encrypted, Proc-Type: 4,ENCRYPTED AES-256-CBC)'),
      expect(summary('fleet-pkcs8-enc.key')).resolves.toBe('a PEM private key (encrypted PKCS#8 PBES2 PBKDF2 HMAC-SHA256 AES-256-CBC)'),
      expect(summary('fleet-relabelled.key')).resolves.toBe('a PEM private key (PKCS#8 under a "EC PRIVATE KEY" label)'),
      // OpenSSL 3's `rsa -outform der` writes PKCS#8 whatever the input's encoding.
      expect(summary('rsa-agent.der')).resolves.toBe('a DER (binary) private key (PKCS#8)'),
      expect(summary('elastic-certificates.p12')).resolves.toBe('a PKCS#12 keystore'),
      expect(summary('fleet.csr')).resolves.toBe('a certificate signing request (CERTIFICATE REQUEST)'),
      expect(summary('passphrase')).resolves.toBe('text that is not PEM'),
      expect(summary('rsa-pkcs8.key')).resolves.toBe('a PEM private key (PKCS#8)'),
      expect(summary('key-as-certificate.crt')).resolves.toBe('a PEM block labelled "CERTIFICATE" whose body is a PKCS#1 private key'),
    ]);
  });

  it('says what a CERTIFICATE block holds when it is no certificate, instead of calling it one', () => {
    expect(failure(() => loadCertificateAuthorities([f('key-as-certificate.crt')])).message)
      .toBe(`${f('key-as-certificate.crt')}: not a PEM certificate (it holds a PEM block labelled "CERTIFICATE" whose body is a PKCS#1 private key)`);
  });
});

describe('PKCS#12 shaped like elasticsearch-certutil\'s, read as Java reads it', () => {
  it('lists the instance key entry with its chain and the trusted `ca` entry', () => {
    const store = readKeystore(f('elastic-certificates.p12'), P12_PASSWORD);
    expect(store.entries.map((e) => [e.alias, e.kind, e.chain.map((c) => c.subject)])).toEqual([
      ['instance', 'key', ['CN=elasticsearch', 'CN=Customer root CA']],
      ['ca', 'certificate', ['CN=Customer root CA']],
    ]);
    expect(store.trusted.map((c) => c.subject)).toEqual(['CN=Customer root CA']);
  });

  it('ignores, as Java does, the `-caname ca` certificate of openssl pkcs12 -export (no trusted-key-usage attribute)', () => {
    const store = readKeystore(f('openssl-export.p12'), P12_PASSWORD);
    expect(store.entries.map((e) => [e.alias, e.kind])).toEqual([['instance', 'key']]);
    expect(failure(() => loadJavaAuthorities([f('openssl-export.p12')], P12_PASSWORD)).libsMessage)
      .toBe(`the truststore [${f('openssl-export.p12')}] does not contain any trusted certificate entries`);
  });

  it('gives the fake Elasticsearch the key entry\'s chain, and reads an empty password', () => {
    expect(loadKeystoreIdentity(f('elastic-certificates.p12'), P12_PASSWORD).chain.map((c) => c.subject)).toEqual(['CN=elasticsearch', 'CN=Customer root CA']);
    expect(loadKeystoreIdentity(f('fleet-nopass.p12')).chain.map((c) => c.subject)).toEqual(['CN=fleet-server', 'CN=Customer Intermediate CA']);
    expect(loadJavaAuthorities([f('elastic-certificates.p12')], P12_PASSWORD).map((c) => c.subject)).toEqual(['CN=Customer root CA']);
  });

  it('refuses a wrong password with Java\'s words', () => {
    expect(failure(() => readKeystore(f('elastic-certificates.p12'), 'wrong'))).toEqual({
      code: 'FTH_KEY_PASSPHRASE',
      libsMessage: 'java.io.IOException: keystore password was incorrect',
      message: `${f('elastic-certificates.p12')}: the PKCS#12 password is wrong (keystore password was incorrect)`,
    });
  });

  it('refuses a file that is not a keystore, saying what it holds', () => {
    expect(failure(() => readKeystore(f('fleet.key'))).message).toBe(`${f('fleet.key')}: not a PKCS#12 keystore (it holds a PEM private key (PKCS#8))`);
  });

  it('reads a DER certificate for the fake Elasticsearch, as Java\'s CertificateFactory does', async () => {
    await execa('openssl', ['x509', '-in', f('es.crt'), '-outform', 'der', '-out', f('es.der')]);
    expect(loadJavaIdentity(f('es.der'), f('es.key')).chain[0]!.subject).toBe('CN=elasticsearch');
    expect(PASSPHRASE).not.toContain('\n');
  });
});
