import { createHash, createPrivateKey, generateKeyPair, randomBytes, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';

const generateKeyPairAsync = promisify(generateKeyPair);

/** RSA 2048 is the default: Elastic Defend requires RSA certificates for Fleet and Elasticsearch. */
export type KeyType = 'rsa' | 'ecdsa';
export const KEY_TYPES: readonly KeyType[] = ['rsa', 'ecdsa'];

export interface KeyPair {
  readonly type: KeyType;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/**
 * Native key generation on libuv's thread pool, so several keys are made in parallel and
 * the event loop stays free (a pure-JS RSA generator would cost seconds per key).
 */
export async function generateKey(type: KeyType): Promise<KeyPair> {
  const { privateKey, publicKey } =
    type === 'rsa'
      ? await generateKeyPairAsync('rsa', { modulusLength: 2048, publicExponent: 0x10001 })
      : await generateKeyPairAsync('ec', { namedCurve: 'prime256v1' });
  return { type, privateKey, publicKey };
}

export function keyTypeOf(key: KeyObject): KeyType {
  if (key.asymmetricKeyType === 'rsa') return 'rsa';
  if (key.asymmetricKeyType === 'ec') return 'ecdsa';
  throw new Error(`unsupported key type ${key.asymmetricKeyType ?? 'unknown'}`);
}

export type PrivateKeyEncoding =
  /** `PRIVATE KEY`, what Go and OpenSSL 3 write by default. */
  | { format: 'pkcs8' }
  /** `ENCRYPTED PRIVATE KEY` (PBES2, AES-256-CBC): what elastic-agent-libs decrypts since v0.3.10. */
  | { format: 'pkcs8-encrypted'; passphrase: string }
  /** `RSA PRIVATE KEY` / `EC PRIVATE KEY`, the traditional forms. */
  | { format: 'traditional' }
  /** `Proc-Type: 4,ENCRYPTED` legacy PEM encryption (openssl -traditional, elasticsearch-certutil --pem --pass). */
  | { format: 'traditional-encrypted'; passphrase: string };

export function encodePrivateKey(key: KeyObject, encoding: PrivateKeyEncoding): string {
  const traditional = keyTypeOf(key) === 'rsa' ? 'pkcs1' : 'sec1';
  switch (encoding.format) {
    case 'pkcs8':
      return key.export({ type: 'pkcs8', format: 'pem' }) as string;
    case 'pkcs8-encrypted':
      return key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: encoding.passphrase }) as string;
    case 'traditional':
      return key.export({ type: traditional, format: 'pem' }) as string;
    case 'traditional-encrypted':
      return key.export({ type: traditional, format: 'pem', cipher: 'aes-128-cbc', passphrase: encoding.passphrase }) as string;
  }
}

/** Reads a PEM or DER private key; throws Node's error when it is encrypted and the passphrase is wrong. */
export function decodePrivateKey(data: Buffer | string, passphrase?: string): KeyObject {
  return createPrivateKey(passphrase === undefined ? { key: data } : { key: data, passphrase });
}

/** A passphrase that survives being pasted into a shell or a YAML file unquoted. */
export function newPassphrase(): string {
  return randomBytes(18).toString('base64url');
}

/** RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bit string, which every CA tool uses. */
export function subjectKeyIdentifier(publicKey: KeyObject): Buffer {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha1').update(subjectPublicKeyBits(spki)).digest();
}

/** The BIT STRING contents inside a DER SubjectPublicKeyInfo (its last element). */
function subjectPublicKeyBits(spki: Buffer): Buffer {
  // SEQUENCE { AlgorithmIdentifier, BIT STRING }: skip the outer header and the algorithm.
  let offset = headerLength(spki, 0);
  offset += headerLength(spki, offset) + contentLength(spki, offset);
  const bitsHeader = headerLength(spki, offset);
  // The first content byte of a BIT STRING counts unused bits; keys never have any.
  return spki.subarray(offset + bitsHeader + 1, offset + bitsHeader + contentLength(spki, offset));
}

function headerLength(der: Buffer, offset: number): number {
  const first = der[offset + 1] ?? 0;
  return first < 0x80 ? 2 : 2 + (first & 0x7f);
}

function contentLength(der: Buffer, offset: number): number {
  const first = der[offset + 1] ?? 0;
  if (first < 0x80) return first;
  let length = 0;
  for (let i = 0; i < (first & 0x7f); i++) length = length * 256 + (der[offset + 2 + i] ?? 0);
  return length;
}
