import { randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import * as asn from '@peculiar/asn1-x509';
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
} as const;

export function issueCertificate(spec: CertificateSpec): IssuedCertificate {
  const signingKey = spec.issuer?.key ?? spec.signingKey;
  if (!signingKey) throw new Error('a self-signed certificate needs signingKey');
  const signatureAlgorithm = new asn.AlgorithmIdentifier(
    keyTypeOf(signingKey) === 'rsa'
      ? { algorithm: OID.rsaSha256, parameters: null }
      : { algorithm: OID.ecdsaSha256 },
  );
  const subject = encodeName(spec.subject);
  const issuerCertificate = spec.issuer ? AsnConvert.parse(spec.issuer.der, asn.Certificate) : undefined;
  const v1 = spec.version === 1;
  const tbs = new asn.TBSCertificate({
    version: v1 ? asn.Version.v1 : asn.Version.v3,
    serialNumber: toArrayBuffer(spec.serialNumber ?? positiveSerial()),
    signature: signatureAlgorithm,
    issuer: issuerCertificate?.tbsCertificate.subject ?? subject,
    subject,
    validity: new asn.Validity({ notBefore: spec.notBefore, notAfter: spec.notAfter }),
    subjectPublicKeyInfo: AsnConvert.parse(toArrayBuffer(spec.publicKey.export({ type: 'spki', format: 'der' })), asn.SubjectPublicKeyInfo),
    ...(v1 ? {} : { extensions: new asn.Extensions(extensions(spec, issuerCertificate)) }),
  });
  const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
  // Node signs natively: ~1 ms for RSA-2048, against ~40 ms for a pure-JS signature.
  const signature = sign('sha256', tbsDer, signingKey);
  const der = Buffer.from(AsnConvert.serialize(new asn.Certificate({ tbsCertificate: tbs, signatureAlgorithm, signatureValue: toArrayBuffer(signature) })));
  return { der, pem: toPem(der) };
}

export function toPem(der: Buffer, label = 'CERTIFICATE'): string {
  const body = der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

function extensions(spec: CertificateSpec, issuer: asn.Certificate | undefined): asn.Extension[] {
  const list: asn.Extension[] = [];
  const add = (extnID: string, critical: boolean, value: object) =>
    list.push(new asn.Extension({ extnID, critical, extnValue: new OctetString(AsnConvert.serialize(value)) }));

  if (spec.basicConstraints !== 'absent') {
    add(asn.id_ce_basicConstraints, true, new asn.BasicConstraints(
      spec.isCA ? { cA: true, ...(spec.pathLength !== undefined ? { pathLenConstraint: spec.pathLength } : {}) } : {},
    ));
  }
  const isRsa = keyTypeOf(spec.publicKey) === 'rsa';
  const usage = spec.keyUsage
    ? spec.keyUsage.reduce((flags, name) => flags | asn.KeyUsageFlags[name], 0)
    : spec.isCA
      ? asn.KeyUsageFlags.keyCertSign | asn.KeyUsageFlags.cRLSign
      : asn.KeyUsageFlags.digitalSignature | (isRsa ? asn.KeyUsageFlags.keyEncipherment : 0);
  add(asn.id_ce_keyUsage, true, new asn.KeyUsage(usage));

  const eku = spec.extendedKeyUsage === undefined ? (spec.isCA ? null : (['serverAuth'] as const)) : spec.extendedKeyUsage;
  if (eku) add(asn.id_ce_extKeyUsage, false, new asn.ExtendedKeyUsage(eku.map((name) => OID[name])));

  const names = [...(spec.dnsNames ?? []).map((dNSName) => new asn.GeneralName({ dNSName }))];
  for (const ip of spec.ipAddresses ?? []) {
    if (!isIP(ip)) throw new Error(`not an IP address: ${ip}`);
    names.push(new asn.GeneralName({ iPAddress: ip }));
  }
  if (names.length > 0 && spec.subjectAltName !== false) {
    add(asn.id_ce_subjectAltName, false, new asn.SubjectAlternativeName(names));
  }

  if (spec.nameConstraints) add(asn.id_ce_nameConstraints, true, nameConstraints(spec.nameConstraints));
  if (spec.criticalExtension) {
    list.push(new asn.Extension({ extnID: spec.criticalExtension, critical: true, extnValue: new OctetString(AsnConvert.serialize(new OctetString(new ArrayBuffer(0)))) }));
  }

  add(asn.id_ce_subjectKeyIdentifier, false, new asn.SubjectKeyIdentifier(toArrayBuffer(subjectKeyIdentifier(spec.publicKey))));
  const issuerKeyId = issuer ? keyIdentifierOf(issuer) : spec.isCA ? undefined : subjectKeyIdentifier(spec.publicKey);
  if (issuerKeyId) {
    add(asn.id_ce_authorityKeyIdentifier, false, new asn.AuthorityKeyIdentifier({ keyIdentifier: new asn.KeyIdentifier(toArrayBuffer(issuerKeyId)) }));
  }
  return list;
}

function nameConstraints(spec: NameConstraintsSpec): asn.NameConstraints {
  const subtrees = (dns: readonly string[] = [], ips: readonly string[] = []) => {
    const bases = [...dns.map((dNSName) => new asn.GeneralName({ dNSName })), ...ips.map((iPAddress) => new asn.GeneralName({ iPAddress }))];
    return bases.length ? new asn.GeneralSubtrees(bases.map((base) => new asn.GeneralSubtree({ base }))) : undefined;
  };
  const permitted = subtrees(spec.permittedDns, spec.permittedIps);
  const excluded = subtrees(spec.excludedDns, spec.excludedIps);
  return new asn.NameConstraints({ ...(permitted ? { permittedSubtrees: permitted } : {}), ...(excluded ? { excludedSubtrees: excluded } : {}) });
}

function keyIdentifierOf(certificate: asn.Certificate): Buffer | undefined {
  const extension = certificate.tbsCertificate.extensions?.find((e) => e.extnID === asn.id_ce_subjectKeyIdentifier);
  return extension ? Buffer.from(AsnConvert.parse(extension.extnValue, asn.SubjectKeyIdentifier).buffer) : undefined;
}

function encodeName(name: DistinguishedName | { readonly raw: Buffer }): asn.Name {
  if ('raw' in name) return AsnConvert.parse(toArrayBuffer(name.raw), asn.Name);
  const rdn = (type: string, value: string) =>
    new asn.RelativeDistinguishedName([new asn.AttributeTypeAndValue({ type, value: new asn.AttributeValue({ utf8String: value }) })]);
  const rdns: asn.RelativeDistinguishedName[] = [];
  if (name.organization) rdns.push(rdn(OID.organization, name.organization));
  if (name.commonName) rdns.push(rdn(OID.commonName, name.commonName));
  return new asn.Name(rdns);
}

/** 16 random bytes with the top bit clear: a positive INTEGER, as RFC 5280 requires. */
function positiveSerial(): Buffer {
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f | 0x01;
  return serial;
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
