/**
 * x509.ParseCertificate from Go 1.19 parser.go, step for step, so that a certificate Go
 * refuses is refused here with Go's text, and every field verification reads is what Go
 * would have read.
 * (Over 250 lines: parser.go's steps in its order, so the two can be read side by side.)
 */
import { createHash, type KeyObject } from 'node:crypto';
import { DerReader, TAG, contextConstructed, contextTag, rightAlign } from './der.js';
import { processExtensions, OID_NAME_CONSTRAINTS, OID_SAN, type CertExtension, type ExtensionFields } from './extensions.js';
import { formatRfc3339, parseGeneralizedTime, parseUtcTime, type GoTime } from './go-time.js';
import { parseName, type GoName } from './name.js';
import type { NameConstraints } from './name-constraints-parse.js';
import { parsePublicKey, type ParsedPublicKey, type PublicKeyAlgorithmName } from './public-key.js';
import { signatureAlgorithmDetails, type SignatureAlgorithmDetails } from './signature-algorithm.js';
import { checkSignature } from './signature.js';
import { CertificateParseError } from './x509-errors.js';
import { Remembered } from '../remember.js';

export { CertificateParseError };
export type { CertExtension, NameConstraints, PublicKeyAlgorithmName, GoName };

/** Go's KeyUsage bits. */
export const KeyUsage = {
  DigitalSignature: 1, ContentCommitment: 2, KeyEncipherment: 4, DataEncipherment: 8, KeyAgreement: 16,
  CertSign: 32, CRLSign: 64, EncipherOnly: 128, DecipherOnly: 256,
} as const;

const fail = (message: string): never => {
  throw new CertificateParseError(message);
};

/** A parsed certificate with the fields Go's crypto/x509 exposes and verification needs. */
export class Cert {
  readonly sha256Hex: string;
  readonly subject: string;
  readonly issuer: string;
  readonly commonName: string;
  readonly organization: readonly string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Validity bounds as Go's RFC 3339 text, in the offset the certificate wrote them with. */
  readonly notBeforeText: string;
  readonly notAfterText: string;
  readonly publicKeyAlgorithm: PublicKeyAlgorithmName;
  readonly publicKey: KeyObject | null;
  readonly hasSanExtension: boolean;
  readonly hasNameConstraints: boolean;
  /** The raw SubjectAltName extension value, for name-constraint checks. */
  readonly sanValue: Buffer | null;
  private selfSigned: boolean | undefined;

  constructor(
    readonly der: Buffer,
    readonly rawTbs: Buffer,
    readonly version: number,
    readonly serialNumber: string,
    readonly signatureAlgorithmOid: string,
    readonly signatureAlgorithmDetails: SignatureAlgorithmDetails,
    readonly rawIssuer: Buffer,
    readonly issuerName: GoName,
    readonly validity: { notBefore: GoTime; notAfter: GoTime },
    readonly rawSubject: Buffer,
    readonly subjectName: GoName,
    readonly spkiDer: Buffer,
    readonly parsedPublicKey: ParsedPublicKey,
    readonly extensions: readonly CertExtension[],
    readonly fields: ExtensionFields,
    readonly signature: Buffer,
  ) {
    this.sha256Hex = createHash('sha256').update(der).digest('hex');
    this.subject = subjectName.text;
    this.issuer = issuerName.text;
    this.commonName = subjectName.commonName;
    this.organization = subjectName.organization;
    this.notBefore = new Date(validity.notBefore.ms);
    this.notAfter = new Date(validity.notAfter.ms);
    this.notBeforeText = formatRfc3339(validity.notBefore.ms, validity.notBefore.offsetMinutes);
    this.notAfterText = formatRfc3339(validity.notAfter.ms, validity.notAfter.offsetMinutes);
    this.publicKeyAlgorithm = parsedPublicKey.algorithm;
    this.publicKey = parsedPublicKey.key;
    this.sanValue = extensions.find((e) => e.oid === OID_SAN)?.value ?? null;
    this.hasSanExtension = this.sanValue !== null;
    this.hasNameConstraints = extensions.some((e) => e.oid === OID_NAME_CONSTRAINTS);
  }

  get keyUsage(): number { return this.fields.keyUsage; }
  get basicConstraintsValid(): boolean { return this.fields.basicConstraintsValid; }
  get isCA(): boolean { return this.fields.isCA; }
  /** -1 when absent; 0 with maxPathLenZero when explicitly zero (Go's MaxPathLen semantics). */
  get maxPathLen(): number { return this.fields.maxPathLen; }
  get maxPathLenZero(): boolean { return this.fields.maxPathLenZero; }
  /**
   * Every EKU in certificate order: Go's known ones by name ('serverAuth', 'clientAuth',
   * 'any', ...), others as dotted OIDs. Go keeps the two kinds apart (ExtKeyUsage,
   * UnknownExtKeyUsage); an OID can never equal a requested usage, so one list serves.
   */
  get extKeyUsage(): readonly string[] { return this.fields.extKeyUsage; }
  /** Go's UnknownExtKeyUsage: the OIDs among extKeyUsage. */
  get unknownExtKeyUsage(): readonly string[] { return this.fields.unknownExtKeyUsage; }
  get dnsNames(): readonly string[] { return this.fields.dnsNames; }
  /** IP SANs as Go's net.IP.String() prints them. */
  get ipAddresses(): readonly string[] { return this.fields.ipAddresses; }
  get ipAddressBytes(): readonly Uint8Array[] { return this.fields.ipAddressBytes; }
  get emailAddresses(): readonly string[] { return this.fields.emailAddresses; }
  get uris(): readonly string[] { return this.fields.uris; }
  get subjectKeyId(): Buffer | null { return this.fields.subjectKeyId; }
  get authorityKeyId(): Buffer | null { return this.fields.authorityKeyId; }
  get nameConstraints(): NameConstraints | null { return this.fields.nameConstraints; }
  /** OIDs of critical extensions Go did not (fully) process; Verify fails on any. */
  get unhandledCriticalExtensions(): readonly string[] { return this.fields.unhandledCriticalExtensions; }
  get policyIdentifiers(): readonly string[] { return this.fields.policyIdentifiers; }
  get signatureAlgorithm(): string { return this.signatureAlgorithmDetails.name; }

  /** The certificate as a PEM block (64-column base64, trailing newline), as Go's pem.Encode writes it. */
  get pem(): string {
    const lines = this.der.toString('base64').match(/.{1,64}/g) ?? [];
    return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
  }

  /** Subject equals issuer and the certificate's own key verifies its signature. */
  get isSelfSigned(): boolean {
    if (this.selfSigned === undefined) {
      this.selfSigned = this.rawSubject.equals(this.rawIssuer) &&
        checkSignature(this.signatureAlgorithmDetails, this.rawTbs, this.signature, this.parsedPublicKey, true) === null;
    }
    return this.selfSigned;
  }
}

function readTime(r: DerReader): GoTime {
  if (r.peekTag(TAG.UTCTime)) {
    const c = r.read(TAG.UTCTime) ?? fail('x509: malformed UTCTime');
    return parseUtcTime(c.toString('latin1')) ?? fail('x509: malformed UTCTime');
  }
  if (r.peekTag(TAG.GeneralizedTime)) {
    const c = r.read(TAG.GeneralizedTime) ?? fail('x509: malformed GeneralizedTime');
    return parseGeneralizedTime(c.toString('latin1')) ?? fail('x509: malformed GeneralizedTime');
  }
  return fail('x509: unsupported time format');
}

function algorithmIdentifier(seq: Buffer): { oid: string; params: Buffer } {
  const r = new DerReader(seq);
  const oid = r.readOid() ?? fail('x509: malformed OID');
  if (r.empty) return { oid, params: Buffer.alloc(0) };
  const params = r.readAny() ?? fail('x509: malformed parameters');
  return { oid, params: params.full };
}

function readExtensions(tbs: DerReader): CertExtension[] {
  const wrapped = tbs.readOptional(contextConstructed(3));
  if (!wrapped.ok) fail('x509: malformed extensions');
  if (wrapped.content === undefined) return [];
  const list = new DerReader(new DerReader(wrapped.content).read(TAG.SEQUENCE) ?? fail('x509: malformed extensions'));
  const seen = new Set<string>();
  const out: CertExtension[] = [];
  while (!list.empty) {
    const ext = new DerReader(list.read(TAG.SEQUENCE) ?? fail('x509: malformed extension'));
    const oid = ext.readOid() ?? fail('x509: malformed extension OID field');
    let critical = false;
    if (ext.peekTag(TAG.BOOLEAN)) critical = ext.readBoolean() ?? fail('x509: malformed extension critical field');
    const value = ext.read(TAG.OCTET_STRING) ?? fail('x509: malformed extension value field');
    if (seen.has(oid)) fail('x509: certificate contains duplicate extensions');
    seen.add(oid);
    out.push({ oid, critical, value });
  }
  return out;
}

const parsed = new Remembered<string, Cert>(512);

/**
 * x509.ParseCertificate: throws CertificateParseError with Go's message. The same few
 * certificates cross every handshake of a run, so parses are remembered (a Cert is immutable).
 */
export function parseCertificate(der: Buffer): Cert {
  return parsed.get(der.toString('base64'), () => parseDer(der));
}

function parseDer(der: Buffer): Cert {
  const top = new DerReader(der);
  const raw = top.readElement(TAG.SEQUENCE) ?? fail('x509: malformed certificate');
  const input = new DerReader(new DerReader(raw).read(TAG.SEQUENCE) ?? fail('x509: malformed certificate'));
  const rawTbs = input.readElement(TAG.SEQUENCE) ?? fail('x509: malformed tbs certificate');
  const tbs = new DerReader(new DerReader(rawTbs).read(TAG.SEQUENCE) ?? fail('x509: malformed tbs certificate'));

  let version = 0;
  const explicitVersion = tbs.readOptional(contextConstructed(0));
  if (!explicitVersion.ok) fail('x509: malformed version');
  if (explicitVersion.content !== undefined) {
    const v = new DerReader(explicitVersion.content);
    const n = v.readInt64();
    if (n === undefined || !v.empty) fail('x509: malformed version');
    version = n as number;
  }
  if (version < 0) fail('x509: malformed version');
  // Go's Version is one-based.
  version++;
  if (version > 3) fail('x509: invalid version');

  const serial = tbs.readBigInt() ?? fail('x509: malformed serial number');
  const sigAI = tbs.read(TAG.SEQUENCE) ?? fail('x509: malformed signature algorithm identifier');
  const outerSigAI = input.read(TAG.SEQUENCE) ?? fail('x509: malformed algorithm identifier');
  if (!outerSigAI.equals(sigAI)) fail("x509: inner and outer signature algorithm identifiers don't match");
  const sigAlg = algorithmIdentifier(sigAI);

  const rawIssuer = tbs.readElement(TAG.SEQUENCE) ?? fail('x509: malformed issuer');
  const issuerName = parseName(rawIssuer);
  const validityReader = new DerReader(tbs.read(TAG.SEQUENCE) ?? fail('x509: malformed validity'));
  const notBefore = readTime(validityReader);
  const notAfter = readTime(validityReader);
  // Go reports a malformed subject as "malformed issuer" (a copy-paste in parser.go).
  const rawSubject = tbs.readElement(TAG.SEQUENCE) ?? fail('x509: malformed issuer');
  const subjectName = parseName(rawSubject);

  const spkiDer = tbs.readElement(TAG.SEQUENCE) ?? fail('x509: malformed spki');
  const spki = new DerReader(new DerReader(spkiDer).read(TAG.SEQUENCE) ?? fail('x509: malformed spki'));
  const pkAI = algorithmIdentifier(spki.read(TAG.SEQUENCE) ?? fail('x509: malformed public key algorithm identifier'));
  const keyBits = spki.readBitString() ?? fail('x509: malformed subjectPublicKey');
  const publicKey = parsePublicKey(pkAI.oid, pkAI.params, rightAlign(keyBits), spkiDer);

  let extensions: CertExtension[] = [];
  if (version > 1) {
    if (!tbs.skipOptional(contextTag(1))) fail('x509: malformed issuerUniqueID');
    if (!tbs.skipOptional(contextTag(2))) fail('x509: malformed subjectUniqueID');
    // Extensions of a v1 or v2 certificate are never looked at.
    if (version === 3) extensions = readExtensions(tbs);
  }
  const fields = processExtensions(extensions);
  const signature = rightAlign(input.readBitString() ?? fail('x509: malformed signature'));
  if (!top.empty) fail('x509: trailing data');

  return new Cert(
    raw, rawTbs, version, serial.toString(), sigAlg.oid, signatureAlgorithmDetails(sigAlg.oid, sigAlg.params),
    rawIssuer, issuerName, { notBefore, notAfter }, rawSubject, subjectName, spkiDer, publicKey,
    extensions, fields, signature,
  );
}

/** pkix.Name.String() of a DER-encoded Name (for CA names in a CertificateRequest, say). */
export function nameToString(rawName: Buffer): string {
  return parseName(rawName).text;
}

// Callers that reach the name printer through the parser find it here too.
parseCertificate.nameToString = nameToString;

const PEM_BLOCK = /-----BEGIN ([^-\r\n]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

/** Every CERTIFICATE block of a PEM text, parsed; other block types are skipped. */
export function parsePemCertificates(pem: string | Buffer): Cert[] {
  return pemCertificateDers(pem).map((der) => parseCertificate(der));
}

/** The DER of every CERTIFICATE block of a PEM text, unparsed; other block types are skipped. */
export function pemCertificateDers(pem: string | Buffer): Buffer[] {
  const text = typeof pem === 'string' ? pem : pem.toString('latin1');
  const ders: Buffer[] = [];
  for (const m of text.matchAll(PEM_BLOCK)) {
    if (m[1] !== 'CERTIFICATE') continue;
    const body = (m[2] as string).split(/\r?\n/).filter((line) => !line.includes(':')).join('');
    ders.push(Buffer.from(body, 'base64'));
  }
  return ders;
}
