/**
 * Go 1.19 parser.go processExtensions: what each extension contributes, which malformed
 * contents fail the whole parse, and Go's rule for UnhandledCriticalExtensions (a critical
 * extension is unhandled when Go does not process it, or processes it and finds nothing
 * it understands, as with a SAN holding only otherName or directoryName entries).
 */
import { DerReader, TAG, bitAt, contextConstructed, contextTag } from './der.js';
import { ipString } from './ip.js';
import { parseNameConstraints, type NameConstraints } from './name-constraints-parse.js';
import { parseGoUrl } from './go-url.js';
import { domainToReverseLabels } from './go-names.js';
import { goQuote } from './go-text.js';
import { CertificateParseError } from './x509-errors.js';

export interface CertExtension {
  oid: string;
  critical: boolean;
  value: Buffer;
}

/** Go's ExtKeyUsage constants by OID, named after their Go identifiers. */
export const EXT_KEY_USAGE: Record<string, string> = {
  '2.5.29.37.0': 'any',
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.5': 'ipsecEndSystem',
  '1.3.6.1.5.5.7.3.6': 'ipsecTunnel',
  '1.3.6.1.5.5.7.3.7': 'ipsecUser',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'ocspSigning',
  '1.3.6.1.4.1.311.10.3.3': 'microsoftServerGatedCrypto',
  '2.16.840.1.113730.4.1': 'netscapeServerGatedCrypto',
  '1.3.6.1.4.1.311.2.1.22': 'microsoftCommercialCodeSigning',
  '1.3.6.1.4.1.311.61.1.1': 'microsoftKernelCodeSigning',
};

export const OID_SAN = '2.5.29.17';
export const OID_NAME_CONSTRAINTS = '2.5.29.30';
const OID_AIA = '1.3.6.1.5.5.7.1.1';

export interface ExtensionFields {
  keyUsage: number;
  basicConstraintsValid: boolean;
  isCA: boolean;
  maxPathLen: number;
  maxPathLenZero: boolean;
  dnsNames: string[];
  emailAddresses: string[];
  ipAddressBytes: Uint8Array[];
  ipAddresses: string[];
  uris: string[];
  extKeyUsage: string[];
  unknownExtKeyUsage: string[];
  subjectKeyId: Buffer | null;
  authorityKeyId: Buffer | null;
  policyIdentifiers: string[];
  nameConstraints: NameConstraints | null;
  unhandledCriticalExtensions: string[];
}

const fail = (message: string): never => {
  throw new CertificateParseError(message);
};

/**
 * forEachSAN: calls back for each (tag ^ 0x80, contents) of a GeneralNames value as it is
 * read, so an invalid entry is reported before a later malformed one, as in Go. Stops at
 * the first result the callback returns.
 */
export function forEachSan<T>(value: Buffer, callback: (tag: number, data: Buffer) => T | undefined): T | undefined {
  const seq = new DerReader(new DerReader(value).read(TAG.SEQUENCE) ?? fail('x509: invalid subject alternative names'));
  while (!seq.empty) {
    const el = seq.readAny() ?? fail('x509: invalid subject alternative name');
    const result = callback(el.tag ^ 0x80, el.content);
    if (result !== undefined) return result;
  }
  return undefined;
}

const ia5 = (b: Buffer): boolean => b.every((x) => x < 0x80);

function parseSan(value: Buffer, f: ExtensionFields): void {
  forEachSan(value, (tag, data) => {
    const text = data.toString('latin1');
    if (tag === 1) {
      if (!ia5(data)) fail('x509: SAN rfc822Name is malformed');
      f.emailAddresses.push(text);
    } else if (tag === 2) {
      if (!ia5(data)) fail('x509: SAN dNSName is malformed');
      f.dnsNames.push(text);
    } else if (tag === 6) {
      if (!ia5(data)) fail('x509: SAN uniformResourceIdentifier is malformed');
      const url = parseGoUrl(text);
      if ('error' in url) fail(`x509: cannot parse URI ${goQuote(text)}: ${url.error}`);
      else if (url.host.length > 0 && domainToReverseLabels(url.host) === undefined) fail(`x509: cannot parse URI ${goQuote(text)}: invalid domain`);
      f.uris.push(text);
    } else if (tag === 7) {
      if (data.length !== 4 && data.length !== 16) fail(`x509: cannot parse IP address of length ${data.length}`);
      f.ipAddressBytes.push(Uint8Array.from(data));
      f.ipAddresses.push(ipString(data));
    }
    return undefined;
  });
}

function parseAki(value: Buffer): Buffer | null {
  const akid = new DerReader(new DerReader(value).read(TAG.SEQUENCE) ?? fail('x509: invalid authority key identifier'));
  if (!akid.peekTag(contextTag(0))) return null;
  return akid.read(contextTag(0)) ?? fail('x509: invalid authority key identifier');
}

function parseCrlDistributionPoints(value: Buffer): void {
  const bad = 'x509: invalid CRL distribution point';
  const seq = new DerReader(new DerReader(value).read(TAG.SEQUENCE) ?? fail('x509: invalid CRL distribution points'));
  while (!seq.empty) {
    const dp = new DerReader(seq.read(TAG.SEQUENCE) ?? fail(bad));
    const name = dp.readOptional(contextConstructed(0));
    if (!name.ok) fail(bad);
    if (name.content === undefined) continue;
    const fullName = new DerReader(new DerReader(name.content).read(contextConstructed(0)) ?? fail(bad));
    while (!fullName.empty && fullName.peekTag(contextTag(6))) {
      if (fullName.read(contextTag(6)) === undefined) fail(bad);
    }
  }
}

function parseAia(value: Buffer): void {
  const bad = 'x509: invalid authority info access';
  const seq = new DerReader(new DerReader(value).read(TAG.SEQUENCE) ?? fail(bad));
  while (!seq.empty) {
    const aia = new DerReader(seq.read(TAG.SEQUENCE) ?? fail(bad));
    if (aia.readOid() === undefined) fail(bad);
    if (aia.peekTag(contextTag(6)) && aia.read(contextTag(6)) === undefined) fail(bad);
  }
}

function parseEku(value: Buffer, f: ExtensionFields): void {
  const seq = new DerReader(new DerReader(value).read(TAG.SEQUENCE) ?? fail('x509: invalid extended key usages'));
  while (!seq.empty) {
    const oid = seq.readOid() ?? fail('x509: invalid extended key usages');
    const name = EXT_KEY_USAGE[oid];
    f.extKeyUsage.push(name ?? oid);
    if (name === undefined) f.unknownExtKeyUsage.push(oid);
  }
}

function parsePolicies(value: Buffer, f: ExtensionFields): void {
  const bad = 'x509: invalid certificate policies';
  const seq = new DerReader(new DerReader(value).read(TAG.SEQUENCE) ?? fail(bad));
  while (!seq.empty) {
    const cp = new DerReader(seq.read(TAG.SEQUENCE) ?? fail(bad));
    f.policyIdentifiers.push(cp.readOid() ?? fail(bad));
  }
}

function parseBasicConstraints(value: Buffer, f: ExtensionFields): void {
  const seq = new DerReader(new DerReader(value).read(TAG.SEQUENCE) ?? fail('x509: invalid basic constraints a'));
  let isCA = false;
  if (seq.peekTag(TAG.BOOLEAN)) isCA = seq.readBoolean() ?? fail('x509: invalid basic constraints b');
  let maxPathLen = -1;
  if (seq.peekTag(TAG.INTEGER)) maxPathLen = seq.readInt64() ?? fail('x509: invalid basic constraints c');
  Object.assign(f, { isCA, maxPathLen, basicConstraintsValid: true, maxPathLenZero: maxPathLen === 0 });
}

/** Runs Go's per-extension processing in certificate order; throws Go's parse error. */
export function processExtensions(extensions: CertExtension[]): ExtensionFields {
  const f: ExtensionFields = {
    keyUsage: 0, basicConstraintsValid: false, isCA: false, maxPathLen: -1, maxPathLenZero: false,
    dnsNames: [], emailAddresses: [], ipAddressBytes: [], ipAddresses: [], uris: [], extKeyUsage: [],
    unknownExtKeyUsage: [], subjectKeyId: null, authorityKeyId: null, policyIdentifiers: [],
    nameConstraints: null, unhandledCriticalExtensions: [],
  };
  for (const e of extensions) {
    let unhandled = false;
    const id = /^2\.5\.29\.(\d+)$/.exec(e.oid)?.[1];
    if (id !== undefined) {
      switch (id) {
        case '15': {
          const bits = new DerReader(e.value).readBitString() ?? fail('x509: invalid key usage');
          f.keyUsage = 0;
          for (let i = 0; i < 9; i++) if (bitAt(bits, i) !== 0) f.keyUsage |= 1 << i;
          break;
        }
        case '19': parseBasicConstraints(e.value, f); break;
        case '17':
          parseSan(e.value, f);
          // Nothing Go understands in the SAN: it is then subject to the critical check.
          unhandled = f.dnsNames.length + f.emailAddresses.length + f.ipAddresses.length + f.uris.length === 0;
          break;
        case '30': {
          const parsed = parseNameConstraints(e.value, e.critical);
          f.nameConstraints = parsed.constraints;
          unhandled = parsed.unhandled;
          break;
        }
        case '31': parseCrlDistributionPoints(e.value); break;
        case '35': f.authorityKeyId = parseAki(e.value); break;
        case '37': parseEku(e.value, f); break;
        case '14': f.subjectKeyId = new DerReader(e.value).read(TAG.OCTET_STRING) ?? fail('x509: invalid subject key identifier'); break;
        case '32': parsePolicies(e.value, f); break;
        default: unhandled = true;
      }
    } else if (e.oid === OID_AIA) {
      parseAia(e.value);
    } else {
      unhandled = true;
    }
    if (e.critical && unhandled) f.unhandledCriticalExtensions.push(e.oid);
  }
  return f;
}
