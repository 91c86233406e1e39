/**
 * Takes the expensive layers off a PKCS#12 file before node-forge reads its structure: the MAC
 * is checked by OpenSSL, and PBES2 (PBKDF2 + AES, what OpenSSL 3, keytool and certutil write
 * today) is decrypted with Node's native PBKDF2. forge does both in JavaScript, which takes
 * minutes for a file made with millions of iterations that openssl writes in a second.
 * Legacy PKCS#12 PBE layers are left for forgeLib(). Java's own limits apply first, in its words
 * (sun.security.pkcs12.PKCS12KeyStore, JDK 17: MAX_ITERATION_COUNT).
 */
import { createDecipheriv, createPrivateKey, pbkdf2Sync } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import type forge from 'node-forge';
import { forgeLib } from './forge.js';

type Asn1 = forge.asn1.Asn1;
const asn1 = () => forgeLib().asn1;

/** PKCS12KeyStore.MAX_ITERATION_COUNT: a keystore asking for more is refused, not computed. */
export const JAVA_MAX_ITERATIONS = 5_000_000;

const OID = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
} as const;
const PRF: Record<string, string> = {
  '1.2.840.113549.2.7': 'sha1', '1.2.840.113549.2.8': 'sha224', '1.2.840.113549.2.9': 'sha256',
  '1.2.840.113549.2.10': 'sha384', '1.2.840.113549.2.11': 'sha512',
};
const CIPHER: Record<string, string> = {
  '2.16.840.1.101.3.4.1.2': 'aes-128-cbc', '2.16.840.1.101.3.4.1.22': 'aes-192-cbc', '2.16.840.1.101.3.4.1.42': 'aes-256-cbc',
  '1.2.840.113549.3.7': 'des-ede3-cbc',
};

/** What Java says instead of loading the file; the caller wraps it as its other keystore errors. */
export class KeystoreRefusal extends Error {
  constructor(readonly kind: 'password' | 'limit', message: string) {
    super(message);
  }
}

const children = (node: Asn1 | undefined): Asn1[] => (Array.isArray(node?.value) ? node.value : []);
const oidOf = (node: Asn1 | undefined): string => (node && typeof node.value === 'string' ? asn1().derToOid(node.value) : '');
/** An OCTET STRING's bytes, BER's constructed form included. */
const octets = (node: Asn1 | undefined): string => (!node ? '' : typeof node.value === 'string' ? node.value : children(node).map(octets).join(''));
const integer = (node: Asn1 | undefined): number => (node && typeof node.value === 'string' ? asn1().derToInteger(node.value) : 0);
const fromBytes = (bytes: string): Asn1 => asn1().fromDer(forgeLib().util.createBuffer(bytes), false);
const toBytes = (node: Asn1): string => asn1().toDer(node).getBytes();
const contentInfo = (oid: string, inner: Asn1): Asn1 => asn1().create(asn1().Class.UNIVERSAL, asn1().Type.SEQUENCE, true, [
  asn1().create(asn1().Class.UNIVERSAL, asn1().Type.OID, false, asn1().oidToDer(oid).getBytes()),
  asn1().create(asn1().Class.CONTEXT_SPECIFIC, 0, true, [inner]),
]);
const octetString = (bytes: string): Asn1 => asn1().create(asn1().Class.UNIVERSAL, asn1().Type.OCTETSTRING, false, bytes);

/** The iteration count of an AlgorithmIdentifier: PBES2's PBKDF2 parameters, or a legacy PBE's. */
function iterations(algorithm: Asn1): number {
  const [oid, params] = children(algorithm);
  if (oidOf(oid) === OID.pbes2) return integer(children(children(children(params)[0])[1])[1]);
  return integer(children(params)[1]);
}

/** PBES2 decryption with native PBKDF2; undefined for anything else (forge handles those). */
function pbes2Decrypt(algorithm: Asn1, encrypted: string, password: string): string | undefined {
  const [oid, params] = children(algorithm);
  if (oidOf(oid) !== OID.pbes2) return undefined;
  const [kdf, scheme] = children(params);
  const [kdfOid, kdfParams] = children(kdf);
  const [schemeOid, iv] = children(scheme);
  const cipher = CIPHER[oidOf(schemeOid)];
  if (oidOf(kdfOid) !== OID.pbkdf2 || !cipher) return undefined;
  const fields = children(kdfParams);
  const prfNode = fields.find((f) => f.type === asn1().Type.SEQUENCE);
  const digest = prfNode ? PRF[oidOf(children(prfNode)[0])] : 'sha1';
  if (!digest) return undefined;
  const keyLength = cipher === 'des-ede3-cbc' ? 24 : Number(cipher.split('-')[1]) / 8;
  const key = pbkdf2Sync(Buffer.from(password, 'utf8'), Buffer.from(octets(fields[0]), 'binary'), integer(fields[1]), keyLength, digest);
  const decipher = createDecipheriv(cipher, key, Buffer.from(octets(iv), 'binary'));
  return Buffer.concat([decipher.update(Buffer.from(encrypted, 'binary')), decipher.final()]).toString('binary');
}

function checkLimit(count: number, message: string): void {
  if (count > JAVA_MAX_ITERATIONS) throw new KeystoreRefusal('limit', message);
}

/** SafeContents with each PBES2-shrouded key bag turned into a plain key bag. */
function unwrapBags(safeContents: string, password: string): string {
  const bags = fromBytes(safeContents);
  for (const bag of children(bags)) {
    const [bagId, wrapped] = children(bag);
    if (oidOf(bagId) !== OID.shroudedKeyBag) continue;
    const encryptedInfo = children(wrapped)[0]!;
    const [algorithm] = children(encryptedInfo);
    // Java decrypts a key only when it is asked for it, so this limit is met after the MAC's.
    checkLimit(iterations(algorithm!), 'key PBE iteration count too large');
    if (oidOf(children(algorithm)[0]) !== OID.pbes2) continue;
    let plain: Buffer;
    try {
      plain = createPrivateKey({ key: Buffer.from(toBytes(encryptedInfo), 'binary'), format: 'der', type: 'pkcs8', passphrase: Buffer.from(password, 'utf8') })
        .export({ format: 'der', type: 'pkcs8' });
    } catch {
      continue; // forge then says what is wrong with it
    }
    bagId!.value = asn1().oidToDer(OID.keyBag).getBytes();
    wrapped!.value = [fromBytes(plain.toString('binary'))];
  }
  return toBytes(bags);
}

/**
 * The PFX with its MAC checked and removed and its PBES2 layers decrypted, ready for
 * forgeLib().pkcs12.pkcs12FromAsn1 without a password for those layers.
 */
export function unwrapPkcs12(bytes: Buffer, password: string): Asn1 {
  const pfx = fromBytes(bytes.toString('binary'));
  const [version, authSafe, macData] = children(pfx);
  const infos = children(fromBytes(octets(children(children(authSafe)[1])[0])));
  // Java reads (and limits) the encrypted certificates while loading, before it checks the MAC.
  const encrypted = (info: Asn1) => {
    const [type, explicit] = children(info);
    if (oidOf(type) !== OID.encryptedData) return undefined;
    const [, algorithm, content] = children(children(children(explicit)[0])[1]);
    return { algorithm: algorithm!, content };
  };
  for (const info of infos) {
    const layer = encrypted(info);
    if (layer) checkLimit(iterations(layer.algorithm), 'cert PBE iteration count too large');
  }
  if (macData) {
    const count = integer(children(macData)[2]) || 1;
    if (count > JAVA_MAX_ITERATIONS) throw new KeystoreRefusal('limit', `MAC iteration count too large: ${count}`);
    verifyMac(bytes, password);
  }
  const unwrapped = infos.map((info) => {
    const layer = encrypted(info);
    if (!layer) return contentInfo(OID.data, octetString(unwrapBags(octets(children(children(info)[1])[0]), password)));
    const plain = pbes2Decrypt(layer.algorithm, octets(layer.content), password);
    return plain === undefined ? info : contentInfo(OID.data, octetString(unwrapBags(plain, password)));
  });
  const authenticated = asn1().create(asn1().Class.UNIVERSAL, asn1().Type.SEQUENCE, true, unwrapped);
  return asn1().create(asn1().Class.UNIVERSAL, asn1().Type.SEQUENCE, true, [version!, contentInfo(OID.data, octetString(toBytes(authenticated)))]);
}

/** OpenSSL's PKCS12_verify_mac, reached through a secure context: only its MAC failure matters here. */
function verifyMac(bytes: Buffer, password: string): void {
  try {
    createSecureContext({ pfx: bytes, passphrase: password });
  } catch (error) {
    if (/mac verify failure/i.test((error as Error).message)) throw new KeystoreRefusal('password', 'keystore password was incorrect');
  }
}
