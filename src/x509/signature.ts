/**
 * Go 1.19 Certificate.CheckSignatureFrom and checkSignature (x509.go): the CA and
 * keyCertSign gate, SHA-1/MD5 rejection, algorithm/key agreement, then the signature.
 * Results are Go's error text, or null when the signature is good.
 */
import { constants, createHash, publicDecrypt, verify, type KeyObject } from 'node:crypto';
import type { Cert } from './certificate.js';
import type { ParsedPublicKey } from './public-key.js';
import type { SignatureAlgorithmDetails } from './signature-algorithm.js';
import { Remembered } from '../remember.js';

export const ERR_UNSUPPORTED_ALGORITHM = 'x509: cannot verify signature: algorithm unimplemented';
export const ERR_CONSTRAINT_VIOLATION = 'x509: invalid signature: parent certificate cannot sign this kind of certificate';
const ERR_RSA_VERIFICATION = 'crypto/rsa: verification error';
const KEY_USAGE_CERT_SIGN = 32;

// DER DigestInfo prefixes of crypto/rsa's hashPrefixes.
const DIGEST_INFO: Record<string, string> = {
  sha1: '3021300906052b0e03021a05000414',
  sha256: '3031300d060960864801650304020105000420',
  sha384: '3041300d060960864801650304020205000430',
  sha512: '3051300d060960864801650304020305000440',
};

function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let result = 1n;
  let b = base % mod;
  for (let e = exp; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % mod;
    b = (b * b) % mod;
  }
  return result;
}

/**
 * sig^e mod n. Natively when OpenSSL will (the signature below the modulus, the usual case), in
 * JavaScript for what OpenSSL refuses and Go takes.
 */
function rawRsa(rsa: NonNullable<ParsedPublicKey['rsa']>, key: KeyObject | null, sig: Buffer): Buffer {
  if (key) {
    try {
      return publicDecrypt({ key, padding: constants.RSA_NO_PADDING }, sig);
    } catch { /* not below the modulus: Go's arithmetic below */ }
  }
  const m = modPow(BigInt('0x' + (sig.toString('hex') || '0')), rsa.e, rsa.n);
  return Buffer.from(m.toString(16).padStart(rsa.size * 2, '0'), 'hex');
}

/**
 * rsa.VerifyPKCS1v15 done with Go's arithmetic rather than OpenSSL's, because Go takes
 * signatures OpenSSL refuses (an integer not below the modulus) and refuses ones of the
 * wrong length.
 */
function verifyPkcs1v15(rsa: NonNullable<ParsedPublicKey['rsa']>, key: KeyObject | null, hash: string, hashed: Buffer, sig: Buffer): boolean {
  const prefix = Buffer.from(DIGEST_INFO[hash] ?? '', 'hex');
  const tLen = prefix.length + hashed.length;
  const k = rsa.size;
  if (k < tLen + 11 || sig.length !== k) return false;
  const em = rawRsa(rsa, key, sig);
  if (em.length !== k || em[0] !== 0 || em[1] !== 1 || em[k - tLen - 1] !== 0) return false;
  for (let i = 2; i < k - tLen - 1; i++) if (em[i] !== 0xff) return false;
  return em.subarray(k - tLen, k - hashed.length).equals(prefix) && em.subarray(k - hashed.length).equals(hashed);
}

/** checkSignature(algo, signed, signature, publicKey, allowSHA1). */
export function checkSignature(
  algo: SignatureAlgorithmDetails,
  signed: Buffer,
  signature: Buffer,
  key: ParsedPublicKey,
  allowSHA1 = false,
): string | null {
  if (algo.hash === null) {
    if (algo.publicKeyAlgorithm !== 'Ed25519') return ERR_UNSUPPORTED_ALGORITHM;
  } else if (algo.hash === 'md5' || (algo.hash === 'sha1' && !allowSHA1)) {
    // InsecureAlgorithmError. Go 1.19 adds the GODEBUG hint for the two SHA-1 algorithms a
    // CA would use. Go 1.24 removed the x509sha1 setting and with it the hint (seen in a
    // transliteration of Go 1.25.5 x509.go InsecureAlgorithmError.Error, not in Go itself).
    const hint = algo.name === 'SHA1-RSA' || algo.name === 'ECDSA-SHA1' ? ' (temporarily override with GODEBUG=x509sha1=1)' : '';
    return `x509: cannot verify signature: insecure algorithm ${algo.name}${hint}`;
  }
  const mismatch = `x509: signature algorithm specifies an ${algo.publicKeyAlgorithm === 'unknown' ? '0' : algo.publicKeyAlgorithm} public key, but have public key of type ${key.goType}`;
  switch (key.algorithm) {
    case 'RSA': {
      if (algo.publicKeyAlgorithm !== 'RSA') return mismatch;
      const hash = algo.hash as string;
      const hashed = createHash(hash).update(signed).digest();
      if (!algo.pss) return verifyPkcs1v15(key.rsa as NonNullable<ParsedPublicKey['rsa']>, key.key, hash, hashed, signature) ? null : ERR_RSA_VERIFICATION;
      if (key.key === null || signature.length !== key.rsa?.size) return ERR_RSA_VERIFICATION;
      const ok = verify(hash, signed, { key: key.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: hashed.length }, signature);
      return ok ? null : ERR_RSA_VERIFICATION;
    }
    case 'ECDSA': {
      if (algo.publicKeyAlgorithm !== 'ECDSA') return mismatch;
      const ok = key.key !== null && safeVerify(() => verify(algo.hash as string, signed, { key: key.key!, dsaEncoding: 'der' }, signature));
      return ok ? null : 'x509: ECDSA verification failure';
    }
    case 'Ed25519': {
      if (algo.publicKeyAlgorithm !== 'Ed25519') return mismatch;
      const ok = key.key !== null && safeVerify(() => verify(null, signed, key.key!, signature));
      return ok ? null : 'x509: Ed25519 verification failure';
    }
    default:
      // DSA keys and unknown algorithms: Go has no verifier for them.
      return ERR_UNSUPPORTED_ALGORITHM;
  }
}

function safeVerify(run: () => boolean): boolean {
  try {
    return run();
  } catch {
    return false;
  }
}

const checked = new Remembered<string, string | null>(1024);

/**
 * Certificate.CheckSignatureFrom: null when parent signed child and may sign certificates. Every
 * handshake of a run checks the same few pairs, so verdicts are remembered (certificates are
 * immutable).
 */
export function checkSignatureFrom(child: Cert, parent: Cert): string | null {
  return checked.get(`${child.sha256Hex}:${parent.sha256Hex}`, () => signatureFrom(child, parent));
}

function signatureFrom(child: Cert, parent: Cert): string | null {
  // RFC 5280 4.2.1.9: a v3 certificate without basicConstraints, or with cA false, may not sign.
  if ((parent.version === 3 && !parent.basicConstraintsValid) || (parent.basicConstraintsValid && !parent.isCA)) {
    return ERR_CONSTRAINT_VIOLATION;
  }
  if (parent.keyUsage !== 0 && (parent.keyUsage & KEY_USAGE_CERT_SIGN) === 0) return ERR_CONSTRAINT_VIOLATION;
  if (parent.publicKeyAlgorithm === 'unknown') return ERR_UNSUPPORTED_ALGORITHM;
  return checkSignature(child.signatureAlgorithmDetails, child.rawTbs, child.signature, parent.parsedPublicKey);
}
