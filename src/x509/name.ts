/**
 * Distinguished names as Go 1.19 reads and prints them: parser.go parseName and
 * parseASN1String, then pkix.Name.FillFromRDNSequence and pkix.Name.String().
 *
 * Go's String() is not the RDN order of the certificate: it rebuilds the sequence as
 * C, ST, L, STREET, POSTALCODE, O, OU, CN, SERIALNUMBER (after any other attribute) and
 * prints it reversed, so "CN=fleet-server,O=Elastic" comes out whatever the DER order.
 */
import { DerReader, TAG } from './der.js';
import { bytesToGoString } from './go-text.js';
import { CertificateParseError } from './x509-errors.js';

export interface NameAttribute {
  oid: string;
  /** The value as Go holds it (a Go string is bytes; BMPString is converted to UTF-8). */
  bytes: Buffer;
  /** The same value as text. */
  value: string;
}

export interface GoName {
  /** Every attribute in certificate order (Go's Name.Names). */
  attributes: NameAttribute[];
  commonName: string;
  serialNumber: string;
  country: string[];
  organization: string[];
  organizationalUnit: string[];
  locality: string[];
  province: string[];
  streetAddress: string[];
  postalCode: string[];
  /** pkix.Name.String(). */
  text: string;
}

const fail = (message: string): never => {
  throw new CertificateParseError(message);
};

// encoding/asn1 isPrintable, with Go's leniency for '*' and '&' when parsing.
const printableByte = (b: number, lenient: boolean): boolean =>
  (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39) ||
  (b >= 0x27 && b <= 0x29) || (b >= 0x2b && b <= 0x2f) ||
  b === 0x20 || b === 0x3a || b === 0x3d || b === 0x3f || (lenient && (b === 0x2a || b === 0x26));

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function validUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** parseASN1String: the Go string bytes, or the inner error text. */
function parseAsn1String(tag: number, value: Buffer): Buffer | string {
  switch (tag) {
    case TAG.T61String:
      return value;
    case TAG.PrintableString:
      return value.every((b) => printableByte(b, true)) ? value : 'invalid PrintableString';
    case TAG.UTF8String:
      return validUtf8(value) ? value : 'invalid UTF-8 string';
    case TAG.BMPString: {
      if (value.length % 2 !== 0) return 'invalid BMPString';
      let v = value;
      if (v.length >= 2 && v[v.length - 1] === 0 && v[v.length - 2] === 0) v = v.subarray(0, v.length - 2);
      const units: number[] = [];
      for (let i = 0; i < v.length; i += 2) units.push(((v[i] as number) << 8) | (v[i + 1] as number));
      // utf16.Decode turns unpaired surrogates into U+FFFD.
      const text = String.fromCharCode(...units).replace(LONE_SURROGATE, '\ufffd');
      return Buffer.from(text, 'utf8');
    }
    case TAG.IA5String:
      return value.every((b) => b < 0x80) ? value : 'invalid IA5String';
    case TAG.NumericString:
      return value.every((b) => (b >= 0x30 && b <= 0x39) || b === 0x20) ? value : 'invalid NumericString';
    default:
      return `unsupported string type: ${tag}`;
  }
}

/** parseName over the full DER Name element (tag and length included). */
export function parseName(raw: Buffer): GoName {
  const outer = new DerReader(raw).read(TAG.SEQUENCE) ?? fail('x509: invalid RDNSequence');
  const seq = new DerReader(outer);
  const attributes: NameAttribute[] = [];
  while (!seq.empty) {
    const set = new DerReader(seq.read(TAG.SET) ?? fail('x509: invalid RDNSequence'));
    while (!set.empty) {
      const atav = new DerReader(set.read(TAG.SEQUENCE) ?? fail('x509: invalid RDNSequence: invalid attribute'));
      const oid = atav.readOid() ?? fail('x509: invalid RDNSequence: invalid attribute type');
      const el = atav.readAny() ?? fail('x509: invalid RDNSequence: invalid attribute value');
      const parsed = parseAsn1String(el.tag, el.content);
      if (typeof parsed === 'string') fail(`x509: invalid RDNSequence: invalid attribute value: ${parsed}`);
      const bytes = parsed as Buffer;
      attributes.push({ oid, bytes, value: bytesToGoString(bytes) });
    }
  }
  return fillName(attributes);
}

const STANDARD: Record<string, keyof Omit<GoName, 'attributes' | 'text'>> = {
  '2.5.4.3': 'commonName',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'country',
  '2.5.4.7': 'locality',
  '2.5.4.8': 'province',
  '2.5.4.9': 'streetAddress',
  '2.5.4.10': 'organization',
  '2.5.4.11': 'organizationalUnit',
  '2.5.4.17': 'postalCode',
};

function fillName(attributes: NameAttribute[]): GoName {
  const name: GoName = {
    attributes, commonName: '', serialNumber: '', country: [], organization: [], organizationalUnit: [],
    locality: [], province: [], streetAddress: [], postalCode: [], text: '',
  };
  for (const a of attributes) {
    const field = STANDARD[a.oid];
    if (field === 'commonName' || field === 'serialNumber') name[field] = a.value;
    else if (field !== undefined) name[field].push(a.value);
  }
  name.text = nameString(name);
  return name;
}

function escapeValue(value: string): string {
  const chars = Array.from(value);
  return chars
    .map((c, k) => {
      const escape = ',+"\\<>;'.includes(c) || (c === ' ' && (k === 0 || k === chars.length - 1)) || (c === '#' && k === 0);
      return escape ? '\\' + c : c;
    })
    .join('');
}

function derLength(n: number): Buffer {
  if (n < 128) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** An attribute Go has no short name for: "oid=#" and the hex of asn1.Marshal(value). */
function unknownAttribute(a: NameAttribute): string {
  const ascii = a.bytes.every((b) => b < 0x80 && printableByte(b, false));
  if (!ascii && !validUtf8(a.bytes)) return `${a.oid}=${escapeValue(a.value)}`;
  const der = Buffer.concat([Buffer.from([ascii ? TAG.PrintableString : TAG.UTF8String]), derLength(a.bytes.length), a.bytes]);
  return `${a.oid}=#${der.toString('hex')}`;
}

function nameString(n: GoName): string {
  const rdns: string[] = [];
  for (const a of n.attributes) if (STANDARD[a.oid] === undefined) rdns.push(unknownAttribute(a));
  const multi = (short: string, values: string[]): void => {
    if (values.length > 0) rdns.push(values.map((v) => `${short}=${escapeValue(v)}`).join('+'));
  };
  multi('C', n.country);
  multi('ST', n.province);
  multi('L', n.locality);
  multi('STREET', n.streetAddress);
  multi('POSTALCODE', n.postalCode);
  multi('O', n.organization);
  multi('OU', n.organizationalUnit);
  if (n.commonName !== '') multi('CN', [n.commonName]);
  if (n.serialNumber !== '') multi('SERIALNUMBER', [n.serialNumber]);
  return rdns.reverse().join(',');
}
