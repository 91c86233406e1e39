/**
 * How the agent's Go code reads private keys: crypto/tls parsePrivateKey (PKCS#1, then
 * PKCS#8, then SEC1, whatever the PEM label says), youmark/pkcs8 for `ENCRYPTED PRIVATE KEY`
 * (PBES2 only), and x509.DecryptPEMBlock for legacy `Proc-Type: 4,ENCRYPTED` blocks.
 * Node decrypts; these functions decide what Go would accept and in which words it refuses.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import type forge from 'node-forge';
import { forgeLib } from './forge.js';
import { pemEncode, type PemBlock } from './pem.js';
import { DerReader, TAG } from '../x509/der.js';

/** The curves crypto/x509 parses (elliptic.P224..P521). */
const GO_CURVES = new Set(['secp224r1', 'prime256v1', 'secp384r1', 'secp521r1']);

export type KeyEncoding = 'pkcs1' | 'pkcs8' | 'sec1';

/**
 * The encoding a DER key's outer structure says it is in. OpenSSL 3's decoders are lenient
 * (asked for PKCS#1 they also take a PKCS#8 RSA key, asked for SEC1 a PKCS#8 EC key), where
 * Go's ParsePKCS1PrivateKey, ParsePKCS8PrivateKey and ParseECPrivateKey each take only their
 * own SEQUENCE: PKCS#1 { version, modulus INTEGER, ... }, PKCS#8 { version, AlgorithmIdentifier
 * SEQUENCE, OCTET STRING }, SEC1 { version 1, privateKey OCTET STRING, ... }.
 */
function derKeyShape(der: Buffer): KeyEncoding | undefined {
  const outer = new DerReader(der).read(TAG.SEQUENCE);
  if (outer === undefined) return undefined;
  const fields = new DerReader(outer);
  if (fields.read(TAG.INTEGER) === undefined) return undefined;
  if (fields.peekTag(TAG.INTEGER)) return 'pkcs1';
  if (fields.peekTag(TAG.SEQUENCE)) return 'pkcs8';
  if (fields.peekTag(TAG.OCTET_STRING)) return 'sec1';
  return undefined;
}

function tryDer(der: Buffer, type: KeyEncoding): KeyObject | undefined {
  if (derKeyShape(der) !== type) return undefined;
  try {
    return createPrivateKey({ key: der, format: 'der', type });
  } catch {
    return undefined;
  }
}

/** Which encoding a DER private key body is in, as Go tries them; undefined when none parses. */
export function keyEncodingOf(der: Buffer): { encoding: KeyEncoding; key: KeyObject } | undefined {
  for (const encoding of ['pkcs1', 'pkcs8', 'sec1'] as const) {
    const key = tryDer(der, encoding);
    if (key) return { encoding, key };
  }
  return undefined;
}

/** crypto/tls parsePrivateKey: the key, or Go's error text. */
export function goParsePrivateKey(der: Buffer): { key: KeyObject } | { error: string } {
  const pkcs1 = tryDer(der, 'pkcs1');
  if (pkcs1) return { key: pkcs1 };
  const pkcs8 = tryDer(der, 'pkcs8');
  if (pkcs8) {
    const type = pkcs8.asymmetricKeyType;
    if (type === 'rsa' || type === 'ed25519' || (type === 'ec' && GO_CURVES.has(pkcs8.asymmetricKeyDetails?.namedCurve ?? ''))) return { key: pkcs8 };
    // Go >= 1.20 parses X25519 into *ecdh.PrivateKey, which crypto/tls then refuses by name.
    if (type === 'x25519') return { error: 'tls: found unknown private key type in PKCS#8 wrapping' };
  }
  const sec1 = tryDer(der, 'sec1');
  if (sec1 && GO_CURVES.has(sec1.asymmetricKeyDetails?.namedCurve ?? '')) return { key: sec1 };
  return { error: 'tls: failed to parse private key' };
}

const PBES2 = '1.2.840.113549.1.5.13';
const PBKDF2 = '1.2.840.113549.1.5.12';
const SCRYPT = '1.3.6.1.4.1.11591.4.11';
const PRF_OK = new Set(['1.2.840.113549.2.7', '1.2.840.113549.2.9']);
const CIPHERS_OK = new Set([
  '2.16.840.1.101.3.4.1.2', '2.16.840.1.101.3.4.1.6', '2.16.840.1.101.3.4.1.22', '2.16.840.1.101.3.4.1.26',
  '2.16.840.1.101.3.4.1.42', '2.16.840.1.101.3.4.1.46', '1.2.840.113549.3.7',
]);
const CIPHER_NAMES: Record<string, string> = {
  '2.16.840.1.101.3.4.1.2': 'AES-128-CBC', '2.16.840.1.101.3.4.1.22': 'AES-192-CBC', '2.16.840.1.101.3.4.1.42': 'AES-256-CBC',
  '2.16.840.1.101.3.4.1.6': 'AES-128-GCM', '2.16.840.1.101.3.4.1.26': 'AES-192-GCM', '2.16.840.1.101.3.4.1.46': 'AES-256-GCM',
  '1.2.840.113549.3.7': 'DES-EDE3-CBC', '1.2.840.113549.3.2': 'RC2-CBC', '1.3.14.3.2.7': 'DES-CBC',
};

/** What an EncryptedPrivateKeyInfo says about its protection, for the doctor and for youmark's refusals. */
export interface Pkcs8Encryption {
  readonly scheme: string;
  /** youmark/pkcs8's refusal before any password is tried, or undefined when it would try. */
  readonly unsupported?: string;
}

export function pkcs8Encryption(der: Buffer): Pkcs8Encryption {
  // Well-formed PBES2 (every key the harness writes) is read without node-forge, whose forty
  // files were a third of a catalog thread's key loading; anything else takes forge's reading.
  const fast = pbes2Parts(der);
  if (fast) return describePbes2(fast.kdfOid, fast.encOid, fast.prfOid);
  try {
    const top = forgeLib().asn1.fromDer(forgeLib().util.createBuffer(der.toString('binary')));
    const algorithm = (top.value as forge.asn1.Asn1[])[0]!;
    const [oidNode, params] = algorithm.value as forge.asn1.Asn1[];
    const oid = forgeLib().asn1.derToOid(oidNode!.value as string);
    if (oid !== PBES2) return { scheme: `PBES1 (${forgeLib().pki.oids[oid] ?? oid})`, unsupported: 'pkcs8: only PBES2 supported' };
    const [kdf, enc] = params!.value as forge.asn1.Asn1[];
    const kdfOid = forgeLib().asn1.derToOid((kdf!.value as forge.asn1.Asn1[])[0]!.value as string);
    const encOid = forgeLib().asn1.derToOid((enc!.value as forge.asn1.Asn1[])[0]!.value as string);
    if (CIPHERS_OK.has(encOid) && kdfOid === PBKDF2) {
      const kdfParams = ((kdf!.value as forge.asn1.Asn1[])[1]!.value as forge.asn1.Asn1[]);
      const prf = kdfParams.find((p) => p.type === forgeLib().asn1.Type.SEQUENCE);
      const prfOid = prf ? forgeLib().asn1.derToOid((prf.value as forge.asn1.Asn1[])[0]!.value as string) : HMAC_SHA1;
      return describePbes2(kdfOid, encOid, prfOid);
    }
    return describePbes2(kdfOid, encOid, HMAC_SHA1);
  } catch {
    return { scheme: 'unknown', unsupported: 'pkcs8: only PKCS #5 v2.0 supported' };
  }
}

const HMAC_SHA1 = '1.2.840.113549.2.7';

/** youmark/pkcs8's checks, in its order, on the OIDs of a PBES2 key. */
function describePbes2(kdfOid: string, encOid: string, prfOid: string): Pkcs8Encryption {
  const cipher = CIPHER_NAMES[encOid] ?? encOid;
  if (!CIPHERS_OK.has(encOid)) return { scheme: `PBES2 ${cipher}`, unsupported: `pkcs8: unsupported cipher (OID: ${encOid})` };
  if (kdfOid === SCRYPT) return { scheme: `PBES2 scrypt ${cipher}` };
  if (kdfOid !== PBKDF2) return { scheme: `PBES2 ${cipher}`, unsupported: `pkcs8: unsupported KDF (OID: ${kdfOid})` };
  const prfName = prfOid === '1.2.840.113549.2.9' ? 'HMAC-SHA256' : prfOid === HMAC_SHA1 ? 'HMAC-SHA1' : prfOid;
  if (!PRF_OK.has(prfOid)) return { scheme: `PBES2 PBKDF2 ${prfName} ${cipher}`, unsupported: 'pkcs8: unsupported hash function' };
  return { scheme: `PBES2 PBKDF2 ${prfName} ${cipher}` };
}

/**
 * The OIDs of a strictly DER-encoded PBES2 EncryptedPrivateKeyInfo (RFC 8018 A.4), or undefined
 * for anything else. The PRF is the first SEQUENCE in PBKDF2-params, as forge's reading finds it.
 */
function pbes2Parts(der: Buffer): { kdfOid: string; encOid: string; prfOid: string } | undefined {
  const sequence = (bytes: Buffer | undefined) => (bytes === undefined ? undefined : new DerReader(bytes));
  const top = sequence(new DerReader(der).read(TAG.SEQUENCE));
  const algorithm = sequence(top?.read(TAG.SEQUENCE));
  if (!algorithm || algorithm.readOid() !== PBES2) return undefined;
  const params = sequence(algorithm.read(TAG.SEQUENCE));
  const kdf = sequence(params?.read(TAG.SEQUENCE));
  const enc = sequence(params?.read(TAG.SEQUENCE));
  const kdfOid = kdf?.readOid();
  const encOid = enc?.readOid();
  if (!kdf || kdfOid === undefined || encOid === undefined) return undefined;
  if (kdfOid !== PBKDF2) return { kdfOid, encOid, prfOid: HMAC_SHA1 };
  const kdfParams = sequence(kdf.read(TAG.SEQUENCE));
  if (!kdfParams) return undefined;
  while (!kdfParams.empty) {
    const element = kdfParams.readAny();
    if (!element) return undefined;
    // Forge matches the tag number in any class: leave other classes' 16 to it.
    if ((element.tag & 0x1f) === 0x10 && element.tag !== TAG.SEQUENCE) return undefined;
    if (element.tag !== TAG.SEQUENCE) continue;
    const prfOid = new DerReader(element.content).readOid();
    return prfOid === undefined ? undefined : { kdfOid, encOid, prfOid };
  }
  return { kdfOid, encOid, prfOid: HMAC_SHA1 };
}

/**
 * libs decryptPKCS8Key: the decrypted key re-labelled `RSA PRIVATE KEY` or `ECDSA PRIVATE KEY`
 * around a PKCS#8 body, or the error libs joins into its message.
 */
export function decryptPkcs8Block(block: PemBlock, passphrase: string): { block: PemBlock } | { error: string } {
  if (!passphrase) return { error: 'no passphrase available' };
  const { unsupported } = pkcs8Encryption(block.bytes);
  if (unsupported) return { error: `failed to parse key: ${unsupported}` };
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pemEncode({ type: block.type, bytes: block.bytes }), passphrase });
  } catch {
    return { error: 'failed to parse key: pkcs8: incorrect password' };
  }
  const type = key.asymmetricKeyType;
  // youmark's own parse goes through x509.ParsePKCS8PrivateKey, which knows only Go's curves.
  if (type === 'ec' && !GO_CURVES.has(key.asymmetricKeyDetails?.namedCurve ?? '')) return { error: 'failed to parse key: pkcs8: incorrect password' };
  if (type !== 'rsa' && type !== 'ec') {
    const goType = type === 'ed25519' ? 'ed25519.PrivateKey' : type === 'x25519' ? '*ecdh.PrivateKey' : undefined;
    return { error: goType ? `unknown key type ${goType}` : 'failed to parse key: pkcs8: incorrect password' };
  }
  const bytes = key.export({ type: 'pkcs8', format: 'der' });
  return { block: { type: type === 'rsa' ? 'RSA PRIVATE KEY' : 'ECDSA PRIVATE KEY', headers: {}, bytes } };
}

/** The DEK-Info ciphers x509.DecryptPEMBlock knows (rfc1423Algos). */
const LEGACY_CIPHERS = new Set(['DES-CBC', 'DES-EDE3-CBC', 'AES-128-CBC', 'AES-192-CBC', 'AES-256-CBC']);

/** x509.IsEncryptedPEMBlock: a DEK-Info header is all it looks for. */
export function isLegacyEncrypted(block: PemBlock): boolean {
  return 'DEK-Info' in block.headers;
}

/**
 * libs decryptPKCS1Key. Go checks only the CBC padding, so about one wrong passphrase in 256
 * "decrypts" to noise and fails later as a key that does not parse; Node always refuses it,
 * and this reports the common case.
 */
export function decryptLegacyBlock(block: PemBlock, passphrase: string): { block: PemBlock } | { error: string } {
  if (!passphrase) return { error: 'no passphrase available' };
  const dek = block.headers['DEK-Info'] ?? '';
  const [mode, iv] = dek.split(',');
  if (!mode || !iv) return { error: 'failed to decrypt PKCS#1 key: x509: malformed DEK-Info header' };
  if (!LEGACY_CIPHERS.has(mode)) return { error: 'failed to decrypt PKCS#1 key: x509: unknown encryption mode' };
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pemEncode(block), passphrase });
  } catch {
    return { error: 'failed to decrypt PKCS#1 key: x509: decryption password incorrect' };
  }
  const encoding: KeyEncoding = block.type === 'RSA PRIVATE KEY' ? 'pkcs1' : block.type === 'EC PRIVATE KEY' ? 'sec1' : 'pkcs8';
  const bytes = key.export({ type: encoding, format: 'der' } as never) as Buffer;
  return { block: { type: block.type, headers: {}, bytes } };
}
