/**
 * SubjectPublicKeyInfo as Go 1.19 parser.go parsePublicKey judges it. Go rejects some
 * encodings OpenSSL takes (compressed EC points, RSA without NULL parameters) and takes
 * some OpenSSL might refuse, so Go's checks run first and Node only builds the KeyObject.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { DerReader, TAG, minimalInteger, twosComplement } from './der.js';
import { CertificateParseError } from './x509-errors.js';

/** Go's PublicKeyAlgorithm. DSA is parsed (so the TLS layer can name it) but never verified. */
export type PublicKeyAlgorithmName = 'RSA' | 'ECDSA' | 'Ed25519' | 'DSA' | 'unknown';

export interface ParsedPublicKey {
  algorithm: PublicKeyAlgorithmName;
  /** null for unknown algorithms, and where OpenSSL cannot load a key Go accepts. */
  key: KeyObject | null;
  /** RSA modulus and exponent, for Go's own PKCS #1 v1.5 arithmetic. */
  rsa?: { n: bigint; e: bigint; size: number };
  /** Go's %T of the key, as TLS errors print it. */
  goType: string;
}

export const OID_PUBLIC_KEY: Record<string, PublicKeyAlgorithmName> = {
  '1.2.840.113549.1.1.1': 'RSA',
  '1.2.840.10040.4.1': 'DSA',
  '1.2.840.10045.2.1': 'ECDSA',
  '1.3.101.112': 'Ed25519',
};

const CURVES: Record<string, number> = {
  '1.3.132.0.33': 28, // P-224
  '1.2.840.10045.3.1.7': 32, // P-256
  '1.3.132.0.34': 48, // P-384
  '1.3.132.0.35': 66, // P-521
};

const fail = (message: string): never => {
  throw new CertificateParseError(message);
};

function load(spki: Buffer): KeyObject | null {
  try {
    return createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch {
    return null;
  }
}

function derElement(tag: number, body: Buffer): Buffer {
  const n = body.length;
  const len = n < 128 ? [n] : n < 256 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...len]), body]);
}

function oidBytes(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number);
  const out = [40 * a + b];
  for (const v of rest) {
    const chunk = [v & 0x7f];
    for (let x = Math.floor(v / 128); x > 0; x = Math.floor(x / 128)) chunk.unshift((x & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return derElement(TAG.OID, Buffer.from(out));
}

/**
 * OpenSSL loads the key from a canonical SubjectPublicKeyInfo rebuilt from what Go read,
 * because Go ignores bytes OpenSSL would choke on (anything after the curve OID or the
 * algorithm parameters).
 */
function canonicalSpki(algorithmOid: string, params: Buffer | null, key: Buffer): Buffer {
  const algorithm = derElement(TAG.SEQUENCE, Buffer.concat([oidBytes(algorithmOid), params ?? Buffer.alloc(0)]));
  return derElement(TAG.SEQUENCE, Buffer.concat([algorithm, derElement(TAG.BIT_STRING, Buffer.concat([Buffer.from([0]), key]))]));
}

const b64url = (n: bigint): string => {
  const hex = n.toString(16);
  return Buffer.from(hex.length % 2 === 1 ? '0' + hex : hex, 'hex').toString('base64url');
};

/** readASN1BigInt through a reader, keeping Go's minimal-encoding rule. */
function bigInt(r: DerReader): bigint | undefined {
  const c = r.read(TAG.INTEGER);
  return c === undefined || !minimalInteger(c) ? undefined : twosComplement(c);
}

export function parsePublicKey(algorithmOid: string, params: Buffer, keyBytes: Buffer, spki: Buffer): ParsedPublicKey {
  const algorithm = OID_PUBLIC_KEY[algorithmOid] ?? 'unknown';
  switch (algorithm) {
    case 'RSA': {
      if (!params.equals(Buffer.from([0x05, 0x00]))) fail('x509: RSA key missing NULL parameters');
      const seq = new DerReader(new DerReader(keyBytes).read(TAG.SEQUENCE) ?? fail('x509: invalid RSA public key'));
      const n = bigInt(seq) ?? fail('x509: invalid RSA modulus');
      const eBytes = seq.read(TAG.INTEGER);
      // The exponent is read into a Go int, so anything beyond 64 bits fails the read.
      if (eBytes === undefined || !minimalInteger(eBytes) || eBytes.length > 8) fail('x509: invalid RSA public exponent');
      const e = twosComplement(eBytes as Buffer);
      if (n <= 0n) fail('x509: RSA modulus is not a positive number');
      if (e <= 0n) fail('x509: RSA public exponent is not a positive number');
      const size = Math.ceil(n.toString(2).length / 8);
      let key: KeyObject | null;
      try {
        key = createPublicKey({ key: { kty: 'RSA', n: b64url(n), e: b64url(e) }, format: 'jwk' });
      } catch {
        // Go's own PKCS #1 v1.5 arithmetic does not need OpenSSL's key.
        key = null;
      }
      return { algorithm, key, rsa: { n, e, size }, goType: '*rsa.PublicKey' };
    }
    case 'ECDSA': {
      const curveOid = new DerReader(params).readOid() ?? fail('x509: invalid ECDSA parameters');
      const byteLen = CURVES[curveOid] ?? fail('x509: unsupported elliptic curve');
      // elliptic.Unmarshal: uncompressed points only, and on the curve (OpenSSL checks that).
      if (keyBytes.length !== 1 + 2 * byteLen || keyBytes[0] !== 4) fail('x509: failed to unmarshal elliptic curve point');
      const key = load(canonicalSpki(algorithmOid, oidBytes(curveOid), keyBytes)) ?? fail('x509: failed to unmarshal elliptic curve point');
      return { algorithm, key, goType: '*ecdsa.PublicKey' };
    }
    case 'Ed25519': {
      if (params.length !== 0) fail('x509: Ed25519 key encoded with illegal parameters');
      if (keyBytes.length !== 32) fail('x509: wrong Ed25519 public key size');
      return { algorithm, key: load(canonicalSpki(algorithmOid, null, keyBytes)), goType: 'ed25519.PublicKey' };
    }
    case 'DSA': {
      const y = bigInt(new DerReader(keyBytes)) ?? fail('x509: invalid DSA public key');
      const seqBytes = new DerReader(params).read(TAG.SEQUENCE);
      const p = seqBytes === undefined ? undefined : new DerReader(seqBytes);
      const values = p === undefined ? [] : [bigInt(p), bigInt(p), bigInt(p)];
      if (values.length !== 3 || values.some((v) => v === undefined)) fail('x509: invalid DSA parameters');
      if (y <= 0n || values.some((v) => (v as bigint) <= 0n)) fail('x509: zero or negative DSA parameter');
      return { algorithm, key: load(spki), goType: '*dsa.PublicKey' };
    }
    default:
      // Go keeps a nil key and parses on; %T of a nil interface prints "<nil>".
      return { algorithm, key: null, goType: '<nil>' };
  }
}
