/**
 * Go 1.19 x509.go signatureAlgorithmDetails and getSignatureAlgorithmFromAI: which
 * SignatureAlgorithm a certificate's AlgorithmIdentifier maps to. RSA-PSS is only
 * recognised in Go's three fixed parameter shapes; anything else is UnknownSignatureAlgorithm.
 */
import { DerReader, TAG, contextConstructed } from './der.js';
import type { PublicKeyAlgorithmName } from './public-key.js';

export type HashName = 'md5' | 'sha1' | 'sha256' | 'sha384' | 'sha512';

export interface SignatureAlgorithmDetails {
  /** Go's SignatureAlgorithm.String(), e.g. "SHA256-RSA"; "0" for unknown. */
  name: string;
  publicKeyAlgorithm: PublicKeyAlgorithmName;
  /** null where Go has crypto.Hash(0): MD2 (unsupported) and pure Ed25519. */
  hash: HashName | null;
  pss: boolean;
}

const UNKNOWN: SignatureAlgorithmDetails = { name: '0', publicKeyAlgorithm: 'unknown', hash: null, pss: false };

const BY_OID: Record<string, SignatureAlgorithmDetails> = {
  '1.2.840.113549.1.1.2': { name: 'MD2-RSA', publicKeyAlgorithm: 'RSA', hash: null, pss: false },
  '1.2.840.113549.1.1.4': { name: 'MD5-RSA', publicKeyAlgorithm: 'RSA', hash: 'md5', pss: false },
  '1.2.840.113549.1.1.5': { name: 'SHA1-RSA', publicKeyAlgorithm: 'RSA', hash: 'sha1', pss: false },
  '1.3.14.3.2.29': { name: 'SHA1-RSA', publicKeyAlgorithm: 'RSA', hash: 'sha1', pss: false },
  '1.2.840.113549.1.1.11': { name: 'SHA256-RSA', publicKeyAlgorithm: 'RSA', hash: 'sha256', pss: false },
  '1.2.840.113549.1.1.12': { name: 'SHA384-RSA', publicKeyAlgorithm: 'RSA', hash: 'sha384', pss: false },
  '1.2.840.113549.1.1.13': { name: 'SHA512-RSA', publicKeyAlgorithm: 'RSA', hash: 'sha512', pss: false },
  '1.2.840.10040.4.3': { name: 'DSA-SHA1', publicKeyAlgorithm: 'DSA', hash: 'sha1', pss: false },
  '2.16.840.1.101.3.4.3.2': { name: 'DSA-SHA256', publicKeyAlgorithm: 'DSA', hash: 'sha256', pss: false },
  '1.2.840.10045.4.1': { name: 'ECDSA-SHA1', publicKeyAlgorithm: 'ECDSA', hash: 'sha1', pss: false },
  '1.2.840.10045.4.3.2': { name: 'ECDSA-SHA256', publicKeyAlgorithm: 'ECDSA', hash: 'sha256', pss: false },
  '1.2.840.10045.4.3.3': { name: 'ECDSA-SHA384', publicKeyAlgorithm: 'ECDSA', hash: 'sha384', pss: false },
  '1.2.840.10045.4.3.4': { name: 'ECDSA-SHA512', publicKeyAlgorithm: 'ECDSA', hash: 'sha512', pss: false },
  '1.3.101.112': { name: 'Ed25519', publicKeyAlgorithm: 'Ed25519', hash: null, pss: false },
};

const OID_RSA_PSS = '1.2.840.113549.1.1.10';
const OID_MGF1 = '1.2.840.113549.1.1.8';
const PSS: Record<string, { salt: number; details: SignatureAlgorithmDetails }> = {
  '2.16.840.1.101.3.4.2.1': { salt: 32, details: { name: 'SHA256-RSAPSS', publicKeyAlgorithm: 'RSA', hash: 'sha256', pss: true } },
  '2.16.840.1.101.3.4.2.2': { salt: 48, details: { name: 'SHA384-RSAPSS', publicKeyAlgorithm: 'RSA', hash: 'sha384', pss: true } },
  '2.16.840.1.101.3.4.2.3': { salt: 64, details: { name: 'SHA512-RSAPSS', publicKeyAlgorithm: 'RSA', hash: 'sha512', pss: true } },
};

const NULL_BYTES = Buffer.from([0x05, 0x00]);

/** An AlgorithmIdentifier's OID and raw parameters (empty when absent). */
function algorithmIdentifier(seq: Buffer | undefined): { oid: string; params: Buffer } | undefined {
  if (seq === undefined) return undefined;
  const r = new DerReader(seq);
  const oid = r.readOid();
  if (oid === undefined) return undefined;
  const params = r.empty ? Buffer.alloc(0) : r.readAny()?.full;
  return params === undefined ? undefined : { oid, params };
}

/** An explicitly tagged field of pssParameters. */
function explicit(r: DerReader, n: number, inner: number): Buffer | undefined {
  const wrapped = r.read(contextConstructed(n));
  return wrapped === undefined ? undefined : new DerReader(wrapped).read(inner);
}

function pssDetails(params: Buffer): SignatureAlgorithmDetails {
  const body = new DerReader(params).read(TAG.SEQUENCE);
  if (body === undefined) return UNKNOWN;
  const r = new DerReader(body);
  const hash = algorithmIdentifier(explicit(r, 0, TAG.SEQUENCE));
  const mgf = algorithmIdentifier(explicit(r, 1, TAG.SEQUENCE));
  const salt = explicit(r, 2, TAG.INTEGER);
  let trailer = 1;
  if (r.peekTag(contextConstructed(3))) {
    const t = explicit(r, 3, TAG.INTEGER);
    if (t === undefined || t.length === 0 || t.length > 6) return UNKNOWN;
    trailer = t.readIntBE(0, Math.min(t.length, 6));
  }
  if (hash === undefined || mgf === undefined || salt === undefined || salt.length === 0 || salt.length > 6) return UNKNOWN;
  const mgfHash = algorithmIdentifier(new DerReader(mgf.params).read(TAG.SEQUENCE));
  if (mgfHash === undefined) return UNKNOWN;
  const nullOrAbsent = (p: Buffer): boolean => p.length === 0 || p.equals(NULL_BYTES);
  if (!nullOrAbsent(hash.params) || mgf.oid !== OID_MGF1 || mgfHash.oid !== hash.oid || !nullOrAbsent(mgfHash.params) || trailer !== 1) {
    return UNKNOWN;
  }
  const known = PSS[hash.oid];
  return known !== undefined && salt.readIntBE(0, salt.length) === known.salt ? known.details : UNKNOWN;
}

export function signatureAlgorithmDetails(oid: string, params: Buffer): SignatureAlgorithmDetails {
  // RFC 8410: Ed25519 parameters must be absent.
  if (oid === '1.3.101.112' && params.length !== 0) return UNKNOWN;
  if (oid === OID_RSA_PSS) return pssDetails(params);
  return BY_OID[oid] ?? UNKNOWN;
}
