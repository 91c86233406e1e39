/**
 * Builds test certificates with Node crypto and @peculiar/asn1-x509. Every knob a test
 * needs to reproduce a real-world mistake (missing CA bit, wrong EKU, expired, CN only,
 * path length) is an option; extension values are hand-encoded so that tests can also
 * produce what a careless CA would.
 */
import { generateKeyPairSync, sign, createHash, type KeyObject } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier, AttributeTypeAndValue, AttributeValue, Certificate, Extension, Extensions, Name,
  RelativeDistinguishedName, SubjectPublicKeyInfo, TBSCertificate, Validity, Version,
} from '@peculiar/asn1-x509';
import { parseCertificate, type Cert } from '../../../src/x509/certificate.js';
import { parseIP } from '../../../src/x509/ip.js';

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
  kind: 'ec' | 'rsa';
}

export const ecKey = (): KeyPair => ({ ...generateKeyPairSync('ec', { namedCurve: 'P-256' }), kind: 'ec' });

let sharedRsa: KeyPair | undefined;
/** RSA generation is slow; tests that only need "an RSA key" share one. */
export const rsaKey = (): KeyPair => (sharedRsa ??= { ...generateKeyPairSync('rsa', { modulusLength: 2048 }), kind: 'rsa' });

/** Attributes in certificate order, by short name or dotted OID. */
export type NameSpec = Array<[string, string]>;

const SHORT: Record<string, string> = { CN: '2.5.4.3', O: '2.5.4.10', OU: '2.5.4.11', C: '2.5.4.6', L: '2.5.4.7', ST: '2.5.4.8', SERIALNUMBER: '2.5.4.5' };

export function name(spec: NameSpec): Name {
  return new Name(spec.map(([type, value]) => new RelativeDistinguishedName([
    new AttributeTypeAndValue({ type: SHORT[type] ?? type, value: new AttributeValue({ utf8String: value }) }),
  ])));
}

/** A minimal DER writer for extension values (lengths below 64 KiB). */
export function der(tag: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const n = body.length;
  const len = n < 128 ? Buffer.from([n]) : n < 256 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
}

function encodeOid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const bytes: number[] = [40 * (parts[0] as number) + (parts[1] as number)];
  for (const p of parts.slice(2)) {
    const chunk: number[] = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return der(0x06, Buffer.from(bytes));
}

const EKU: Record<string, string> = { serverAuth: '1.3.6.1.5.5.7.3.1', clientAuth: '1.3.6.1.5.5.7.3.2', any: '2.5.29.37.0', codeSigning: '1.3.6.1.5.5.7.3.3' };

export interface RawExtension {
  oid: string;
  critical?: boolean;
  value: Buffer;
}

export interface CertSpec {
  subject?: NameSpec;
  /** The signer; omitted means self-signed. */
  issuer?: Issued;
  key?: KeyPair;
  serial?: bigint;
  notBefore?: Date;
  notAfter?: Date;
  version?: 1 | 3;
  /** basicConstraints cA=TRUE (critical) plus keyCertSign/cRLSign key usage. */
  ca?: boolean;
  pathLen?: number;
  /** Leave out basicConstraints entirely (for a "CA" that forgot it). */
  noBasicConstraints?: boolean;
  /** Key usage bits (Go's KeyUsage values); false leaves the extension out. */
  keyUsage?: number | false;
  eku?: string[];
  dns?: string[];
  ips?: string[];
  emails?: string[];
  /** DNS name constraints: "permitted" and "excluded" subtrees. */
  permittedDNS?: string[];
  excludedDNS?: string[];
  extra?: RawExtension[];
  hash?: 'sha256' | 'sha1' | 'sha384';
}

export interface Issued {
  cert: Cert;
  der: Buffer;
  key: KeyPair;
  subject: Name;
  spec: CertSpec;
}

let nextSerial = 4096n;

function serialBytes(serial: bigint): ArrayBuffer {
  let hex = serial.toString(16);
  if (hex.length % 2 === 1) hex = '0' + hex;
  if (parseInt(hex.slice(0, 2), 16) >= 0x80) hex = '00' + hex;
  return new Uint8Array(Buffer.from(hex, 'hex')).buffer;
}

function sanValue(spec: CertSpec): Buffer | undefined {
  const names: Buffer[] = [
    ...(spec.emails ?? []).map((e) => der(0x81, Buffer.from(e, 'latin1'))),
    ...(spec.dns ?? []).map((d) => der(0x82, Buffer.from(d, 'latin1'))),
    ...(spec.ips ?? []).map((ip) => {
      const bytes = parseIP(ip);
      if (bytes === undefined) throw new Error(`bad IP ${ip}`);
      return der(0x87, Buffer.from(ip.includes(':') ? bytes : bytes.subarray(12)));
    }),
  ];
  return names.length === 0 ? undefined : der(0x30, ...names);
}

function extensions(spec: CertSpec, spki: Buffer, issuerSkid: Buffer | undefined): RawExtension[] {
  const list: RawExtension[] = [];
  if (spec.ca === true && spec.noBasicConstraints !== true) {
    const pathLen = spec.pathLen === undefined ? [] : [der(0x02, Buffer.from([spec.pathLen]))];
    list.push({ oid: '2.5.29.19', critical: true, value: der(0x30, der(0x01, Buffer.from([0xff])), ...pathLen) });
  } else if (spec.ca === false) {
    list.push({ oid: '2.5.29.19', critical: true, value: der(0x30) });
  }
  const ku = spec.keyUsage ?? (spec.ca === true ? 1 | 32 | 64 : 1);
  if (ku !== false) {
    const bits = Buffer.from([ku & 0xff, (ku >> 8) & 0xff].map((b) => parseInt(b.toString(2).padStart(8, '0').split('').reverse().join(''), 2)));
    const used = ku > 0xff ? bits : bits.subarray(0, 1);
    let unused = 0;
    while (unused < 7 && ((used[used.length - 1] as number) & (1 << unused)) === 0) unused++;
    list.push({ oid: '2.5.29.15', critical: true, value: der(0x03, Buffer.from([unused]), used) });
  }
  if (spec.eku !== undefined) list.push({ oid: '2.5.29.37', value: der(0x30, ...spec.eku.map((e) => encodeOid(EKU[e] ?? e))) });
  const san = sanValue(spec);
  if (san !== undefined) list.push({ oid: '2.5.29.17', value: san });
  if (spec.permittedDNS !== undefined || spec.excludedDNS !== undefined) {
    const subtrees = (names: string[]): Buffer => der(0x30, ...names.map((n) => der(0x30, der(0x82, Buffer.from(n)))));
    const parts = [
      ...(spec.permittedDNS ? [der(0xa0, subtrees(spec.permittedDNS).subarray(2))] : []),
      ...(spec.excludedDNS ? [der(0xa1, subtrees(spec.excludedDNS).subarray(2))] : []),
    ];
    list.push({ oid: '2.5.29.30', critical: true, value: der(0x30, ...parts) });
  }
  const skid = createHash('sha1').update(spki).digest();
  list.push({ oid: '2.5.29.14', value: der(0x04, skid) });
  if (issuerSkid !== undefined) list.push({ oid: '2.5.29.35', value: der(0x30, der(0x80, issuerSkid)) });
  list.push(...(spec.extra ?? []));
  return list;
}

const SIG_ALG: Record<string, Record<string, string>> = {
  ec: { sha256: '1.2.840.10045.4.3.2', sha384: '1.2.840.10045.4.3.3', sha1: '1.2.840.10045.4.1' },
  rsa: { sha256: '1.2.840.113549.1.1.11', sha384: '1.2.840.113549.1.1.12', sha1: '1.2.840.113549.1.1.5' },
};

export const DEFAULT_NOT_BEFORE = new Date('2025-01-01T00:00:00Z');
export const DEFAULT_NOT_AFTER = new Date('2035-01-01T00:00:00Z');
/** The instant every test verifies at, unless it says otherwise. */
export const NOW = new Date('2026-06-01T12:00:00Z');

/** The signed DER of a certificate, without parsing it (for certificates Go must refuse). */
export function issueDer(spec: CertSpec = {}): { der: Buffer; key: KeyPair; subject: Name } {
  const key = spec.key ?? ecKey();
  const subject = name(spec.subject ?? [['CN', 'leaf']]);
  const signer = spec.issuer;
  const signingKey = signer?.key ?? key;
  const spki = key.publicKey.export({ type: 'spki', format: 'der' });
  const hash = spec.hash ?? 'sha256';
  const algorithm = SIG_ALG[signingKey.kind]?.[hash] as string;
  const sigAlg = new AlgorithmIdentifier({ algorithm, ...(signingKey.kind === 'rsa' ? { parameters: null } : {}) });
  const issuerSkid = signer?.cert.subjectKeyId ?? undefined;
  const version = spec.version ?? 3;
  const tbs = new TBSCertificate({
    version: version === 1 ? Version.v1 : Version.v3,
    serialNumber: serialBytes(spec.serial ?? nextSerial++),
    signature: sigAlg,
    issuer: signer?.subject ?? subject,
    validity: new Validity({ notBefore: spec.notBefore ?? DEFAULT_NOT_BEFORE, notAfter: spec.notAfter ?? DEFAULT_NOT_AFTER }),
    subject,
    subjectPublicKeyInfo: AsnConvert.parse(spki, SubjectPublicKeyInfo),
    ...(version === 3 ? {
      extensions: new Extensions(extensions(spec, spki, issuerSkid).map((e) =>
        new Extension({ extnID: e.oid, critical: e.critical ?? false, extnValue: new OctetString(e.value) }))),
    } : {}),
  });
  const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
  const signature = sign(hash, tbsDer, signingKey.privateKey);
  const certDer = Buffer.from(AsnConvert.serialize(new Certificate({
    tbsCertificate: tbs, signatureAlgorithm: sigAlg, signatureValue: new Uint8Array(signature).buffer,
  })));
  return { der: certDer, key, subject };
}

export function issue(spec: CertSpec = {}): Issued {
  const built = issueDer(spec);
  return { ...built, cert: parseCertificate(built.der), spec };
}

/** A root, an intermediate under it and a leaf under that, with the usual server profile. */
export function pki(leaf: CertSpec = {}): { root: Issued; intermediate: Issued; leaf: Issued } {
  const root = issue({ subject: [['O', 'Elastic'], ['CN', 'test-root']], ca: true });
  const intermediate = issue({ subject: [['O', 'Elastic'], ['CN', 'test-intermediate']], ca: true, issuer: root });
  return { root, intermediate, leaf: issue({ dns: ['fleet.example.internal'], eku: ['serverAuth'], ...leaf, issuer: leaf.issuer ?? intermediate }) };
}
