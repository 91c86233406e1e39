/**
 * The cipher suites Node/OpenSSL and Go negotiate, and the AEAD primitives their records use.
 *
 * CBC suites are listed so a report can name what a peer chose, but carry `aead: null`: the
 * harness only decrypts AEAD records, and a caller that needs more gets FTH_WIRE_UNSUPPORTED.
 */
import { createCipheriv, createDecipheriv, type CipherGCMTypes } from 'node:crypto';
import { HarnessError } from '../errors.js';

export type HashName = 'sha256' | 'sha384';
export type AeadName = 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';
export type KeyExchange = 'any' | 'ecdhe' | 'dhe' | 'rsa';

// [id, IANA name, OpenSSL name, PRF/HKDF hash, AEAD or null for CBC, key length, key exchange]
const TABLE = [
  [0x1301, 'TLS_AES_128_GCM_SHA256', 'TLS_AES_128_GCM_SHA256', 'sha256', 'aes-128-gcm', 16, 'any'],
  [0x1302, 'TLS_AES_256_GCM_SHA384', 'TLS_AES_256_GCM_SHA384', 'sha384', 'aes-256-gcm', 32, 'any'],
  [0x1303, 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_CHACHA20_POLY1305_SHA256', 'sha256', 'chacha20-poly1305', 32, 'any'],
  [0xc02b, 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'ECDHE-ECDSA-AES128-GCM-SHA256', 'sha256', 'aes-128-gcm', 16, 'ecdhe'],
  [0xc02c, 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'sha384', 'aes-256-gcm', 32, 'ecdhe'],
  [0xc02f, 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'sha256', 'aes-128-gcm', 16, 'ecdhe'],
  [0xc030, 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 'ECDHE-RSA-AES256-GCM-SHA384', 'sha384', 'aes-256-gcm', 32, 'ecdhe'],
  [0xcca8, 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256', 'ECDHE-RSA-CHACHA20-POLY1305', 'sha256', 'chacha20-poly1305', 32, 'ecdhe'],
  [0xcca9, 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', 'ECDHE-ECDSA-CHACHA20-POLY1305', 'sha256', 'chacha20-poly1305', 32, 'ecdhe'],
  // Node's default list still offers DHE-RSA after the ECDHE suites.
  [0x009e, 'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256', 'DHE-RSA-AES128-GCM-SHA256', 'sha256', 'aes-128-gcm', 16, 'dhe'],
  [0x009f, 'TLS_DHE_RSA_WITH_AES_256_GCM_SHA384', 'DHE-RSA-AES256-GCM-SHA384', 'sha384', 'aes-256-gcm', 32, 'dhe'],
  [0xccaa, 'TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256', 'DHE-RSA-CHACHA20-POLY1305', 'sha256', 'chacha20-poly1305', 32, 'dhe'],
  [0x009c, 'TLS_RSA_WITH_AES_128_GCM_SHA256', 'AES128-GCM-SHA256', 'sha256', 'aes-128-gcm', 16, 'rsa'],
  [0x009d, 'TLS_RSA_WITH_AES_256_GCM_SHA384', 'AES256-GCM-SHA384', 'sha384', 'aes-256-gcm', 32, 'rsa'],
  // CBC: Go still offers the SHA-1 ones, Java and older OpenSSL configs the SHA-2 ones.
  [0xc009, 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA', 'ECDHE-ECDSA-AES128-SHA', 'sha256', null, 16, 'ecdhe'],
  [0xc00a, 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA', 'ECDHE-ECDSA-AES256-SHA', 'sha256', null, 32, 'ecdhe'],
  [0xc013, 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA', 'ECDHE-RSA-AES128-SHA', 'sha256', null, 16, 'ecdhe'],
  [0xc014, 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA', 'ECDHE-RSA-AES256-SHA', 'sha256', null, 32, 'ecdhe'],
  [0xc023, 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256', 'ECDHE-ECDSA-AES128-SHA256', 'sha256', null, 16, 'ecdhe'],
  [0xc024, 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384', 'ECDHE-ECDSA-AES256-SHA384', 'sha384', null, 32, 'ecdhe'],
  [0xc027, 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256', 'ECDHE-RSA-AES128-SHA256', 'sha256', null, 16, 'ecdhe'],
  [0xc028, 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384', 'ECDHE-RSA-AES256-SHA384', 'sha384', null, 32, 'ecdhe'],
  [0x002f, 'TLS_RSA_WITH_AES_128_CBC_SHA', 'AES128-SHA', 'sha256', null, 16, 'rsa'],
  [0x0035, 'TLS_RSA_WITH_AES_256_CBC_SHA', 'AES256-SHA', 'sha256', null, 32, 'rsa'],
  [0x003c, 'TLS_RSA_WITH_AES_128_CBC_SHA256', 'AES128-SHA256', 'sha256', null, 16, 'rsa'],
  [0x003d, 'TLS_RSA_WITH_AES_256_CBC_SHA256', 'AES256-SHA256', 'sha256', null, 32, 'rsa'],
  [0xc012, 'TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA', 'ECDHE-RSA-DES-CBC3-SHA', 'sha256', null, 24, 'ecdhe'],
  [0x000a, 'TLS_RSA_WITH_3DES_EDE_CBC_SHA', 'DES-CBC3-SHA', 'sha256', null, 24, 'rsa'],
] as const;

export type IanaSuiteName = (typeof TABLE)[number][1];

export interface SuiteInfo {
  id: number;
  iana: IanaSuiteName;
  openssl: string;
  /** TLS 1.3 HKDF hash, or the TLS 1.2 PRF hash (SHA-256 for every pre-1.2 suite). */
  hash: HashName;
  /** Null for CBC suites, which are named but never decrypted. */
  aead: AeadName | null;
  keyLength: number;
  tls13: boolean;
  keyExchange: KeyExchange;
}

const BY_ID = new Map<number, SuiteInfo>(
  TABLE.map(([id, iana, openssl, hash, aead, keyLength, keyExchange]) => [
    id,
    Object.freeze({ id, iana, openssl, hash, aead, keyLength, tls13: id >> 8 === 0x13, keyExchange }),
  ]),
);

export function suiteInfo(id: number): SuiteInfo | undefined {
  return BY_ID.get(id);
}

/** By IANA or OpenSSL name, as a scenario or Node's `ciphers` option spells it. */
export function suiteByName(name: string): SuiteInfo | undefined {
  for (const suite of BY_ID.values()) if (suite.iana === name || suite.openssl === name) return suite;
  return undefined;
}

/** What a report prints for any suite id, known or not. */
export function suiteName(id: number): string {
  return suiteInfo(id)?.iana ?? `0x${id.toString(16).padStart(4, '0')}`;
}

export function hashLength(hash: HashName): number {
  return hash === 'sha256' ? 32 : 48;
}

/** The suite's AEAD, or FTH_WIRE_UNSUPPORTED naming the suite the peer chose. */
export function requireAead(suite: SuiteInfo): AeadName {
  if (suite.aead === null) {
    throw new HarnessError('FTH_WIRE_UNSUPPORTED', `${suite.iana} is a CBC suite; only AEAD records can be decrypted or forged`);
  }
  return suite.aead;
}

export const TAG_LENGTH = 16;

/** AEAD encryption; returns ciphertext followed by the 16-byte tag. */
export function aeadSeal(aead: AeadName, key: Buffer, nonce: Buffer, aad: Buffer, plaintext: Buffer): Buffer {
  const cipher =
    aead === 'chacha20-poly1305'
      ? createCipheriv(aead, key, nonce, { authTagLength: TAG_LENGTH })
      : createCipheriv(aead satisfies CipherGCMTypes, key, nonce, { authTagLength: TAG_LENGTH });
  cipher.setAAD(aad, { plaintextLength: plaintext.length });
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

/** AEAD decryption of ciphertext||tag; undefined when authentication fails. */
export function aeadOpen(aead: AeadName, key: Buffer, nonce: Buffer, aad: Buffer, sealed: Buffer): Buffer | undefined {
  if (sealed.length < TAG_LENGTH) return undefined;
  const decipher =
    aead === 'chacha20-poly1305'
      ? createDecipheriv(aead, key, nonce, { authTagLength: TAG_LENGTH })
      : createDecipheriv(aead satisfies CipherGCMTypes, key, nonce, { authTagLength: TAG_LENGTH });
  decipher.setAAD(aad, { plaintextLength: sealed.length - TAG_LENGTH });
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_LENGTH));
  const body = decipher.update(sealed.subarray(0, sealed.length - TAG_LENGTH));
  try {
    return Buffer.concat([body, decipher.final()]);
  } catch {
    return undefined;
  }
}

/** RFC 8446 §5.3 / RFC 7905 §2: the per-record nonce is the IV XOR the left-padded sequence. */
export function xorSequence(iv: Buffer, sequence: bigint): Buffer {
  const nonce = Buffer.from(iv);
  const seq = Buffer.alloc(8);
  seq.writeBigUInt64BE(sequence);
  for (let i = 0; i < 8; i++) nonce[nonce.length - 8 + i]! ^= seq[i]!;
  return nonce;
}
