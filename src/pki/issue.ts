import { randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { contextConstructed, decodeOid, DerReader, TAG } from '../x509/der.js';
import { bitString, element, explicit, integer, ipBytes, namedBits, NULL, octetString, oid, sequence, set, smallInteger, time, TRUE } from './der-write.js';
import { keyTypeOf, subjectKeyIdentifier } from './keys.js';

/** The subject of a certificate; O defaults to the harness so generated certs are recognisable. */
export interface DistinguishedName {
  readonly commonName?: string;
  readonly organization?: string;
}

export type ExtendedKeyUsage = 'serverAuth' | 'clientAuth';

/**
 * Everything about a certificate a scenario may want to get wrong, as plain data.
 * Defaults describe a well-formed leaf; a CA sets `isCA`.
 */
export interface CertificateSpec {
  /** Names to encode, or the exact DER bytes of a Name to copy. */
  readonly subject: DistinguishedName | { readonly raw: Buffer };
  readonly publicKey: KeyObject;
  /** Absent: self-signed with `signingKey`. */
  readonly issuer?: { readonly der: Buffer; readonly key: KeyObject };
  /** The key that signs a self-signed certificate (the subject's own private key). */
  readonly signingKey?: KeyObject;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly isCA?: boolean;
  readonly pathLength?: number;
  /** 'absent' leaves out basicConstraints entirely (a v3 CA without it cannot sign, per RFC 5280). */
  readonly basicConstraints?: 'critical' | 'absent';
  /** Overrides the usual key usage (keyCertSign and cRLSign for a CA, digitalSignature for a leaf). */
  readonly keyUsage?: ReadonlyArray<'digitalSignature' | 'keyEncipherment' | 'keyCertSign' | 'cRLSign'>;
  /** null leaves the extension out; undefined picks the usual usages for a CA or a leaf. */
  readonly extendedKeyUsage?: readonly ExtendedKeyUsage[] | null;
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  /** false leaves out subjectAltName even when names are given (the CN-only legacy certificate). */
  readonly subjectAltName?: boolean;
  readonly serialNumber?: Buffer;
  /**
   * nameConstraints (critical, RFC 5280 4.2.1.10), as a constrained sub-CA carries them: DNS
   * names (`example.internal` also covers its subdomains) and IP ranges in CIDR (`10.0.0.0/8`).
   */
  readonly nameConstraints?: NameConstraintsSpec;
  /** An extension with this OID and an empty value, marked critical: one no verifier knows. */
  readonly criticalExtension?: string;
  /**
   * 1: an X.509 v1 certificate, with no extensions at all (no basicConstraints, no names), as
   * `openssl x509 -req` without `-extfile` made them before OpenSSL 3.
   */
  readonly version?: 1 | 3;
}

export interface NameConstraintsSpec {
  readonly permittedDns?: readonly string[];
  readonly excludedDns?: readonly string[];
  readonly permittedIps?: readonly string[];
  readonly excludedIps?: readonly string[];
}

export interface IssuedCertificate {
  readonly der: Buffer;
  readonly pem: string;
}

const OID = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  rsaSha256: '1.2.840.113549.1.1.11',
  ecdsaSha256: '1.2.840.10045.4.3.2',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
} as const;

/** RFC 5280 4.2.1.3: bit 0 is the first (most significant) bit of the BIT STRING. */
const KEY_USAGE_BITS = { digitalSignature: 0, keyEncipherment: 2, keyCertSign: 5, cRLSign: 6 } as const;

/**
 * A certificate per RFC 5280, written with the small DER writer (der-write.ts): every field is
 * encoded the one way DER allows, so the bytes depend only on the spec (and the random serial).
 */
export function issueCertificate(spec: CertificateSpec): IssuedCertificate {
  const signingKey = spec.issuer?.key ?? spec.signingKey;
  if (!signingKey) throw new Error('a self-signed certificate needs signingKey');
  // RFC 4055 2.1 gives sha256WithRSAEncryption a NULL parameter; RFC 5758 3.2 gives ECDSA none.
  const signatureAlgorithm = keyTypeOf(signingKey) === 'rsa' ? sequence(oid(OID.rsaSha256), NULL) : sequence(oid(OID.ecdsaSha256));
  const subject = encodeName(spec.subject);
  const issuer = spec.issuer ? issuerParts(spec.issuer.der) : undefined;
  const v1 = spec.version === 1;
  // A v1 certificate leaves the version out (DEFAULT v1) and has no extensions.
  const tbs = sequence(
    ...(v1 ? [] : [explicit(0, integer(Buffer.from([2])))]),
    integer(spec.serialNumber ?? positiveSerial()),
    signatureAlgorithm,
    issuer?.subject ?? subject,
    sequence(time(spec.notBefore), time(spec.notAfter)),
    subject,
    spec.publicKey.export({ type: 'spki', format: 'der' }),
    ...(v1 ? [] : [explicit(3, sequence(...extensions(spec, issuer?.keyIdentifier)))]),
  );
  // Node signs natively: ~1 ms for RSA-2048, against ~40 ms for a pure-JS signature.
  const signature = sign('sha256', tbs, signingKey);
  const der = sequence(tbs, signatureAlgorithm, bitString(signature));
  return { der, pem: toPem(der) };
}

export function toPem(der: Buffer, label = 'CERTIFICATE'): string {
  const body = der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

function extensions(spec: CertificateSpec, issuerKeyIdentifier: Buffer | undefined): Buffer[] {
  const list: Buffer[] = [];
  // Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }:
  // DER leaves a default value out.
  const add = (extnID: string, critical: boolean, value: Buffer) =>
    list.push(sequence(oid(extnID), ...(critical ? [TRUE] : []), octetString(value)));

  if (spec.basicConstraints !== 'absent') {
    add(OID.basicConstraints, true, sequence(...(spec.isCA ? [TRUE, ...(spec.pathLength !== undefined ? [smallInteger(spec.pathLength)] : [])] : [])));
  }
  const isRsa = keyTypeOf(spec.publicKey) === 'rsa';
  const usage: ReadonlyArray<keyof typeof KEY_USAGE_BITS> = spec.keyUsage
    ?? (spec.isCA ? ['keyCertSign', 'cRLSign'] : ['digitalSignature', ...(isRsa ? ['keyEncipherment' as const] : [])]);
  add(OID.keyUsage, true, namedBits(usage.map((name) => KEY_USAGE_BITS[name])));

  const eku = spec.extendedKeyUsage === undefined ? (spec.isCA ? null : (['serverAuth'] as const)) : spec.extendedKeyUsage;
  if (eku) add(OID.extKeyUsage, false, sequence(...eku.map((name) => oid(OID[name]))));

  // GeneralName: dNSName [2] IA5String, iPAddress [7] OCTET STRING (4 or 16 bytes), both implicit.
  const names = (spec.dnsNames ?? []).map((name) => element(0x82, Buffer.from(name, 'latin1')));
  for (const ip of spec.ipAddresses ?? []) {
    if (!isIP(ip)) throw new Error(`not an IP address: ${ip}`);
    names.push(element(0x87, ipBytes(ip)));
  }
  if (names.length > 0 && spec.subjectAltName !== false) add(OID.subjectAltName, false, sequence(...names));

  if (spec.nameConstraints) add('2.5.29.30', true, nameConstraints(spec.nameConstraints));
  if (spec.criticalExtension) add(spec.criticalExtension, true, octetString(Buffer.alloc(0)));

  add(OID.subjectKeyIdentifier, false, octetString(subjectKeyIdentifier(spec.publicKey)));
  const authorityKeyId = spec.issuer ? issuerKeyIdentifier : spec.isCA ? undefined : subjectKeyIdentifier(spec.publicKey);
  // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING OPTIONAL, ... }
  if (authorityKeyId) add(OID.authorityKeyIdentifier, false, sequence(element(0x80, authorityKeyId)));
  return list;
}

/**
 * NameConstraints ::= SEQUENCE { permittedSubtrees [0], excludedSubtrees [1] } of GeneralSubtree
 * SEQUENCE { base GeneralName } (minimum 0 is the default, left out): dNSName [2], iPAddress [7]
 * holding the address then its mask.
 */
function nameConstraints(spec: NameConstraintsSpec): Buffer {
  const range = (cidr: string) => {
    const [address = '', bits = ''] = cidr.split('/');
    if (!isIP(address)) throw new Error(`not an IP range: ${cidr}`);
    const bytes = ipBytes(address);
    const prefix = Number(bits);
    const mask = Buffer.alloc(bytes.length);
    for (let i = 0; i < mask.length; i++) mask[i] = prefix >= (i + 1) * 8 ? 0xff : prefix > i * 8 ? (0xff << (8 - (prefix - i * 8))) & 0xff : 0;
    return element(0x87, Buffer.concat([bytes, mask]));
  };
  const subtrees = (tag: number, dns: readonly string[] = [], ips: readonly string[] = []) => {
    const bases = [...dns.map((name) => element(0x82, Buffer.from(name, 'latin1'))), ...ips.map(range)];
    return bases.length ? [element(tag, Buffer.concat(bases.map((base) => sequence(base))))] : [];
  };
  return sequence(...subtrees(0xa0, spec.permittedDns, spec.permittedIps), ...subtrees(0xa1, spec.excludedDns, spec.excludedIps));
}

/** The issuer certificate's subject Name (its exact bytes) and its subjectKeyIdentifier, if any. */
function issuerParts(der: Buffer): { subject: Buffer; keyIdentifier?: Buffer } {
  const malformed = () => new Error('the issuer certificate does not parse');
  const tbs = new DerReader(new DerReader(der).read(TAG.SEQUENCE) ?? Buffer.alloc(0)).read(TAG.SEQUENCE);
  if (!tbs) throw malformed();
  const fields = new DerReader(tbs);
  if (fields.peekTag(contextConstructed(0))) fields.readAny();
  fields.readAny(); // serialNumber
  fields.readAny(); // signature
  fields.readAny(); // issuer
  fields.readAny(); // validity
  const subject = fields.readElement(TAG.SEQUENCE);
  if (!subject) throw malformed();
  fields.readAny(); // subjectPublicKeyInfo
  while (!fields.empty) {
    const field = fields.readAny();
    if (!field) throw malformed();
    if (field.tag !== contextConstructed(3)) continue;
    const list = new DerReader(new DerReader(field.content).read(TAG.SEQUENCE) ?? Buffer.alloc(0));
    while (!list.empty) {
      const extension = new DerReader(list.read(TAG.SEQUENCE) ?? Buffer.alloc(0));
      const id = extension.read(TAG.OID);
      if (id === undefined) throw malformed();
      if (extension.peekTag(TAG.BOOLEAN)) extension.readAny();
      const value = extension.read(TAG.OCTET_STRING);
      if (decodeOid(id) === OID.subjectKeyIdentifier && value) {
        return { subject, keyIdentifier: new DerReader(value).read(TAG.OCTET_STRING) };
      }
    }
  }
  return { subject };
}

/** The exact bytes of a raw Name, or O then CN as UTF8Strings, one attribute per RDN. */
function encodeName(name: DistinguishedName | { readonly raw: Buffer }): Buffer {
  if ('raw' in name) return name.raw;
  const rdn = (type: string, value: string) => set(sequence(oid(type), element(TAG.UTF8String, Buffer.from(value, 'utf8'))));
  return sequence(...(name.organization ? [rdn(OID.organization, name.organization)] : []), ...(name.commonName ? [rdn(OID.commonName, name.commonName)] : []));
}

/** 16 random bytes with the top bit clear: a positive INTEGER, as RFC 5280 requires. */
function positiveSerial(): Buffer {
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f | 0x01;
  return serial;
}
