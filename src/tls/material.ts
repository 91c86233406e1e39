import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { HarnessError, systemErrorCode, type ErrorCode } from '../errors.js';
import { parsePemCertificates, type Cert } from '../x509/certificate.js';

/** A certificate chain (leaf first) with its private key, ready for Node's TLS. */
export interface Identity {
  readonly chain: readonly Cert[];
  readonly certPem: string;
  /** Decrypted, PKCS#8. */
  readonly keyPem: string;
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
  ) {
    super(code, message);
  }
}

export type MaterialRole = 'certificate' | 'key' | 'passphrase' | 'authority';

/** A file path, or inline PEM as libs accepts it (a value whose trimmed form starts with `-`). */
export type PemSource = string;

function readSource(source: PemSource, role: MaterialRole): { text: string; label: string } {
  if (source.trim().startsWith('-')) return { text: source, label: 'inline PEM' };
  try {
    return { text: readFileSync(source, 'latin1'), label: source };
  } catch (error) {
    const reason = systemErrorCode(error) === 'ENOENT' ? 'no such file or directory' : (error as Error).message;
    throw new MaterialError('FTH_FILE_UNREADABLE', `${source}: ${reason}`, `open ${source}: ${reason}`, source, role);
  }
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

interface PemBlock { readonly label: string; readonly text: string; readonly headers: boolean }

function pemBlocks(text: string): PemBlock[] {
  return [...text.matchAll(PEM_BLOCK)].map((m) => ({ label: m[1]!, text: m[0], headers: /^[A-Za-z-]+:/m.test(m[2]!) }));
}

/** CA certificates from files or inline PEM (libs LoadCertificateAuthorities). */
export function loadCertificateAuthorities(sources: readonly PemSource[]): Cert[] {
  return sources.flatMap((source) => {
    const { text, label } = readSource(source, 'authority');
    const certs = safeParse(text);
    if (certs.length === 0) {
      throw new MaterialError('FTH_FILE_MALFORMED', `${label}: not a PEM certificate`,
        `file is not a certificate adding ${label} to the list of known CAs`, label, 'authority');
    }
    return certs;
  });
}

/**
 * A certificate and key as libs LoadCertificate reads them (release of Elastic Agent 9.0):
 * the passphrase file verbatim (a trailing newline is part of the passphrase), encrypted
 * PKCS#8 and legacy `Proc-Type: 4,ENCRYPTED` keys, and its error texts.
 */
export function loadIdentity(certificate: PemSource, key: PemSource, passphrasePath?: string, passphrase?: string): Identity {
  let secret = passphrase ?? '';
  if (!secret && passphrasePath) {
    try {
      secret = readFileSync(passphrasePath, 'latin1');
    } catch (error) {
      const reason = systemErrorCode(error) === 'ENOENT' ? 'no such file or directory' : (error as Error).message;
      throw new MaterialError('FTH_FILE_UNREADABLE', `${passphrasePath}: ${reason}`,
        `unable to read passphrase_file: open ${passphrasePath}: ${reason}`, passphrasePath, 'passphrase');
    }
  }
  const cert = readSource(certificate, 'certificate');
  const chain = safeParse(cert.text);
  if (chain.length === 0) {
    const message = pemBlocks(cert.text).length === 0 ? 'no pem file' : 'tls: failed to find any PEM data in certificate input';
    throw new MaterialError('FTH_FILE_MALFORMED', `${cert.label}: no PEM certificate in it`, `${message} ${cert.label}`, cert.label, 'certificate');
  }
  const keyText = readSource(key, 'key');
  const privateKey = decodeKey(keyText.text, keyText.label, secret);
  const leaf = new X509Certificate(chain[0]!.der);
  if (!leaf.checkPrivateKey(privateKey)) {
    throw new MaterialError('FTH_KEY_MISMATCH', `${keyText.label}: the key does not belong to ${cert.label}`,
      'tls: private key does not match public key', keyText.label, 'key');
  }
  return {
    chain,
    certPem: chain.map((c) => c.pem).join(''),
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
}

function decodeKey(text: string, label: string, passphrase: string): KeyObject {
  const blocks = pemBlocks(text);
  if (blocks.length === 0) {
    const message = text.length === 0 ? 'no PEM blocks' : 'no pem file';
    throw new MaterialError('FTH_FILE_MALFORMED', `${label}: no PEM private key in it`, `${message} ${label}`, label, 'key');
  }
  const failures: string[] = [];
  for (const block of blocks) {
    const encrypted = block.label === 'ENCRYPTED PRIVATE KEY' || block.headers;
    if (!encrypted) {
      if (!block.label.includes('PRIVATE KEY')) continue;
      try {
        return createPrivateKey(block.text);
      } catch {
        failures.push('tls: failed to parse private key');
        continue;
      }
    }
    if (!passphrase) {
      failures.push('no passphrase available');
      continue;
    }
    try {
      return createPrivateKey({ key: block.text, passphrase });
    } catch {
      failures.push(block.label === 'ENCRYPTED PRIVATE KEY'
        ? 'failed to parse key: pkcs8: incorrect password'
        : 'failed to decrypt PKCS#1 key: x509: decryption password incorrect');
    }
  }
  const code: ErrorCode = failures.some((f) => f.includes('password') || f.includes('passphrase')) ? 'FTH_KEY_PASSPHRASE' : 'FTH_FILE_MALFORMED';
  const reason = failures[0] ?? 'no private key block';
  throw new MaterialError(code, `${label}: ${reason}`, `${['no PEM blocks', ...failures].join('\n')} ${label}`, label, 'key');
}

function safeParse(text: string): Cert[] {
  try {
    return parsePemCertificates(text);
  } catch {
    return [];
  }
}

/** An in-memory identity from PEM text (the harness's own PKI). */
export function identityFromPem(certPem: string, key: KeyObject): Identity {
  return { chain: parsePemCertificates(certPem), certPem, keyPem: key.export({ type: 'pkcs8', format: 'pem' }) as string };
}
