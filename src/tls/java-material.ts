/**
 * The fake Elasticsearch's certificate as Elasticsearch reads it: `ssl.certificate` through
 * Java's CertificateFactory (PEM or DER, a whole chain), `ssl.key` through its PemUtils (PEM
 * only: PKCS#1, PKCS#8, SEC1, encrypted PKCS#8 or legacy encrypted with `ssl.key_passphrase`),
 * or `ssl.keystore.path` as a PKCS#12 keystore whose first key entry it serves.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { systemErrorCode } from '../errors.js';
import { parseCertificate, type Cert } from '../x509/certificate.js';
import { describeContent } from './formats.js';
import { MaterialError, type Identity } from './material.js';
import { pemDecodeAll, pemEncode } from './pem.js';
import { byContent } from './memo.js';
import { readKeystore } from './pkcs12.js';

function read(file: string, role: 'certificate' | 'key'): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    const reason = systemErrorCode(error) === 'ENOENT' ? 'no such file or directory' : (error as Error).message;
    throw new MaterialError('FTH_FILE_UNREADABLE', `${file}: ${reason}`, `java.nio.file.NoSuchFileException: ${file}`, file, role);
  }
}

function certificates(file: string, bytes: Buffer): Cert[] {
  const blocks = pemDecodeAll(bytes.toString('latin1')).filter((b) => b.type === 'CERTIFICATE');
  try {
    if (blocks.length > 0) return blocks.map((b) => parseCertificate(b.bytes));
    if (describeContent(bytes).kind === 'der-certificate') return [parseCertificate(bytes)];
  } catch { /* reported below */ }
  throw new MaterialError('FTH_FILE_MALFORMED', `${file}: not a certificate (it holds ${describeContent(bytes).summary})`,
    'java.security.cert.CertificateException: Could not parse certificate', file, 'certificate');
}

function privateKey(file: string, bytes: Buffer, passphrase: string | undefined): KeyObject {
  const block = pemDecodeAll(bytes.toString('latin1')).find((b) => b.type.endsWith('PRIVATE KEY'));
  if (!block) {
    throw new MaterialError('FTH_FILE_MALFORMED', `${file}: no PEM private key in it (it holds ${describeContent(bytes).summary})`,
      `error parsing Private Key [${file}], file does not contain a supported key format`, file, 'key');
  }
  try {
    return createPrivateKey(passphrase === undefined ? pemEncode(block) : { key: pemEncode(block), passphrase });
  } catch {
    const encrypted = block.type === 'ENCRYPTED PRIVATE KEY' || 'DEK-Info' in block.headers;
    throw new MaterialError(encrypted ? 'FTH_KEY_PASSPHRASE' : 'FTH_FILE_MALFORMED',
      `${file}: ${encrypted ? 'the key cannot be decrypted with the passphrase given' : 'the private key does not parse'}`,
      `error parsing Private Key [${file}]`, file, 'key');
  }
}

export function loadJavaIdentity(certFile: string, keyFile: string, passphrase?: string): Identity {
  return byContent('java', [certFile, keyFile], passphrase, () => readJavaIdentity(certFile, keyFile, passphrase));
}

function readJavaIdentity(certFile: string, keyFile: string, passphrase?: string): Identity {
  const chain = certificates(certFile, read(certFile, 'certificate'));
  const key = privateKey(keyFile, read(keyFile, 'key'), passphrase);
  if (!chain[0]!.publicKey?.equals(createPublicKey(key))) {
    throw new MaterialError('FTH_KEY_MISMATCH', `${keyFile}: the key does not belong to ${certFile}`,
      'the configured PrivateKey and Certificate do not match', keyFile, 'key');
  }
  return { chain, certPem: chain.map((c) => c.pem).join(''), keyPem: key.export({ type: 'pkcs8', format: 'pem' }) as string };
}

/** `ssl.keystore.path` (PKCS#12) with `ssl.keystore.secure_password`, empty when unset. */
export function loadKeystoreIdentity(file: string, password = ''): Identity {
  const store = readKeystore(file, password);
  if (!store.identity) {
    throw new MaterialError('FTH_FILE_MALFORMED', `${file}: the keystore has no private key entry (entries: ${store.entries.map((e) => e.alias).join(', ') || 'none'})`,
      `the keystore [${file}] does not contain a private key entry`, file, 'certificate');
  }
  return store.identity;
}

/** CA certificates Elasticsearch trusts for clients: PEM or DER files, or a PKCS#12's certificate entries. */
export function loadJavaAuthorities(files: readonly string[], password = ''): Cert[] {
  // Each file by its content (and the password, for a keystore): scenarios share the same few.
  return files.flatMap((file) => byContent('java-cas', [file], password, () => readJavaAuthorities(file, password)));
}

function readJavaAuthorities(file: string, password: string): readonly Cert[] {
  const bytes = read(file, 'certificate');
  if (describeContent(bytes).kind === 'pkcs12') {
    const store = readKeystore(file, password);
    if (store.trusted.length === 0) {
      throw new MaterialError('FTH_FILE_MALFORMED',
        `${file}: the keystore has no trusted certificate entry (entries: ${store.entries.map((e) => `${e.alias} (${e.kind})`).join(', ') || 'none'}); Java ignores certificates without its trusted-key-usage attribute, which openssl pkcs12 -export does not write`,
        `the truststore [${file}] does not contain any trusted certificate entries`, file, 'authority');
    }
    return [...store.trusted];
  }
  return certificates(file, bytes);
}
