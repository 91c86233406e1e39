/**
 * PKCS#12 keystores as elasticsearch-certutil writes them (`elastic-certificates.p12` with a
 * key entry and a `ca` certificate entry, `elastic-stack-ca.p12`, `http.p12`), read the way
 * Java's PKCS12 KeyStore reads them: the key entry's chain starts at the certificate with the
 * key's localKeyId and follows issuers through every certificate in the file, which is the
 * chain Elasticsearch's TLS then sends.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type forge from 'node-forge';
import { forgeLib } from './forge.js';
import { systemErrorCode } from '../errors.js';
import { parseCertificate, type Cert } from '../x509/certificate.js';
import { describeContent, isPkcs12 } from './formats.js';
import { MaterialError, type Identity } from './material.js';
import { JAVA_MAX_ITERATIONS, KeystoreRefusal, unwrapPkcs12 } from './pkcs12-unwrap.js';

export interface KeystoreEntry {
  readonly alias: string;
  readonly kind: 'key' | 'certificate';
  /** The key entry's chain (leaf first) or the certificate entry's certificate. */
  readonly chain: readonly Cert[];
}

export interface Keystore {
  readonly file: string;
  readonly entries: readonly KeystoreEntry[];
  /** The first key entry, ready for a TLS server. */
  readonly identity?: Identity;
  /** The trusted certificate entries (certutil's `ca`): what a truststore made of this file trusts. */
  readonly trusted: readonly Cert[];
}

interface Bag { readonly alias?: string; readonly localKeyId?: string; readonly trusted?: boolean; readonly cert?: Cert; readonly key?: KeyObject }

/**
 * Java's trusted-key-usage bag attribute: only certificates carrying it load as trusted
 * certificate entries (keytool and certutil write it; `openssl pkcs12 -export` does not
 * before OpenSSL 3.2's -jdktrust, so Java ignores its `-caname` certificates as entries).
 */
const ORACLE_TRUSTED_KEY_USAGE = '2.16.840.1.113894.746875.1.1';
/** node-forge, taught Java's trusted-key-usage attribute (once, on the first keystore read). */
function forgeWithJavaOids(): typeof forge {
  const lib = forgeLib();
  lib.pki.oids[ORACLE_TRUSTED_KEY_USAGE] = 'oracleTrustedKeyUsage';
  lib.pki.oids.oracleTrustedKeyUsage = ORACLE_TRUSTED_KEY_USAGE;
  return lib;
}

/** Java's message when the MAC does not verify with the password (KeyStore.load). */
export const WRONG_KEYSTORE_PASSWORD = 'keystore password was incorrect';

export function readKeystore(file: string, password = ''): Keystore {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    const reason = systemErrorCode(error) === 'ENOENT' ? 'no such file or directory' : (error as Error).message;
    throw new MaterialError('FTH_FILE_UNREADABLE', `${file}: ${reason}`, `java.nio.file.NoSuchFileException: ${file}`, file, 'certificate');
  }
  if (!isPkcs12(bytes)) {
    const what = describeContent(bytes).summary;
    throw new MaterialError('FTH_FILE_MALFORMED', `${file}: not a PKCS#12 keystore (it holds ${what})`,
      `java.io.IOException: toDerInputStream rejects tag type ${bytes[0] ?? 0}`, file, 'certificate');
  }
  let p12: forge.pkcs12.Pkcs12Pfx;
  try {
    p12 = forgeWithJavaOids().pkcs12.pkcs12FromAsn1(unwrapPkcs12(bytes, password), false, password);
  } catch (error) {
    if (error instanceof KeystoreRefusal) {
      const wrongPassword = error.kind === 'password';
      throw new MaterialError(wrongPassword ? 'FTH_KEY_PASSPHRASE' : 'FTH_FILE_MALFORMED',
        wrongPassword ? `${file}: the PKCS#12 password is wrong (${WRONG_KEYSTORE_PASSWORD})` : `${file}: Java refuses this keystore (${error.message}; it allows at most ${JAVA_MAX_ITERATIONS} iterations)`,
        `java.io.IOException: ${error.message}`, file, wrongPassword ? 'passphrase' : 'certificate');
    }
    const wrong = /MAC could not be verified|Invalid password|decrypt/i.test((error as Error).message);
    throw new MaterialError(wrong ? 'FTH_KEY_PASSPHRASE' : 'FTH_FILE_MALFORMED',
      wrong ? `${file}: the PKCS#12 password is wrong (${WRONG_KEYSTORE_PASSWORD})` : `${file}: the PKCS#12 keystore does not parse (${(error as Error).message})`,
      `java.io.IOException: ${wrong ? WRONG_KEYSTORE_PASSWORD : (error as Error).message}`, file, 'passphrase');
  }
  const bags: Bag[] = p12.safeContents.flatMap((contents) => contents.safeBags.map((bag) => toBag(bag)));
  const certs = bags.filter((b) => b.cert).map((b) => b.cert!);
  const entries: KeystoreEntry[] = [];
  let identity: Identity | undefined;
  for (const bag of bags.filter((b) => b.key)) {
    const leaf = bags.find((b) => b.cert && bag.localKeyId && b.localKeyId === bag.localKeyId)?.cert ??
      certs.find((c) => c.publicKey?.equals(toPublic(bag.key!)));
    if (!leaf) continue;
    const chain = javaChain(leaf, certs);
    entries.push({ alias: bag.alias ?? '(no alias)', kind: 'key', chain });
    identity ??= { chain, certPem: chain.map((c) => c.pem).join(''), keyPem: bag.key!.export({ type: 'pkcs8', format: 'pem' }) as string };
  }
  for (const bag of bags.filter((b) => b.cert && b.trusted)) {
    entries.push({ alias: bag.alias ?? bag.cert!.subject, kind: 'certificate', chain: [bag.cert!] });
  }
  return { file, entries, ...(identity ? { identity } : {}), trusted: entries.filter((e) => e.kind === 'certificate').map((e) => e.chain[0]!) };
}

function toPublic(key: KeyObject): KeyObject {
  return createPublicKey(key);
}

function toBag(bag: forge.pkcs12.Bag): Bag {
  const alias = bag.attributes.friendlyName?.[0];
  const localKeyId = bag.attributes.localKeyId?.[0] ? forgeLib().util.bytesToHex(bag.attributes.localKeyId[0]) : undefined;
  const trusted = (bag.attributes as Record<string, unknown>).oracleTrustedKeyUsage !== undefined;
  const base = { ...(alias !== undefined ? { alias } : {}), ...(localKeyId ? { localKeyId } : {}), ...(trusted ? { trusted } : {}) };
  if (bag.cert) {
    const der = Buffer.from(forgeLib().asn1.toDer(forgeLib().pki.certificateToAsn1(bag.cert)).getBytes(), 'binary');
    return { ...base, cert: parseCertificate(der) };
  }
  if (bag.asn1 && !bag.cert && bag.type === forgeLib().pki.oids.certBag) {
    // forge parses only RSA certificates; take the DER from the bag for the others.
    const der = Buffer.from(forgeLib().asn1.toDer(bag.asn1).getBytes(), 'binary');
    return { ...base, cert: parseCertificate(der) };
  }
  if (bag.key) {
    return { ...base, key: createPrivateKey(forgeLib().pki.privateKeyToPem(bag.key)) };
  }
  if (bag.asn1 && (bag.type === forgeLib().pki.oids.keyBag || bag.type === forgeLib().pki.oids.pkcs8ShroudedKeyBag)) {
    // forge decrypts the bag but converts only RSA keys; EC keys stay as PrivateKeyInfo.
    const der = Buffer.from(forgeLib().asn1.toDer(bag.asn1).getBytes(), 'binary');
    return { ...base, key: createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }) };
  }
  return base;
}

/** PKCS12KeyStore.engineLoad: from the leaf, the issuer by subject among all certificates, until self-issued. */
function javaChain(leaf: Cert, certs: readonly Cert[]): Cert[] {
  const chain = [leaf];
  let current = leaf;
  while (!current.rawIssuer.equals(current.rawSubject)) {
    const issuer = certs.find((c) => c.rawSubject.equals(current.rawIssuer));
    if (!issuer || chain.includes(issuer)) break;
    chain.push(issuer);
    current = issuer;
  }
  return chain;
}
