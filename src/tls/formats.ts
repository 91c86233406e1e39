/**
 * What a file a customer brings holds, read without any password: PEM (with each block's
 * label and, for keys, the encoding inside), DER certificate, key or CSR, PKCS#12, or text.
 * The doctor names it; a loader refusing a file says what it holds instead.
 */
import type forge from 'node-forge';
import { forgeLib } from './forge.js';
import { parseCertificate } from '../x509/certificate.js';
import { keyEncodingOf, pkcs8Encryption, isLegacyEncrypted } from './go-keys.js';
import { pemDecodeAll, type PemBlock } from './pem.js';

export type ContentKind = 'empty' | 'pem' | 'der-certificate' | 'der-key' | 'der-csr' | 'pkcs12' | 'text' | 'binary';

export interface KeyBlockInfo {
  readonly label: string;
  /** The encoding of the body: what Go's parsePrivateKey finds, whatever the label says. */
  readonly encoding: 'pkcs1' | 'pkcs8' | 'sec1' | 'encrypted-pkcs8' | 'legacy-encrypted' | 'unknown';
  /** Encryption scheme (PBES2 ..., or the DEK-Info cipher). */
  readonly scheme?: string;
}

export interface Content {
  readonly kind: ContentKind;
  /** A few words: "a PEM certificate chain (3 certificates)", "a PKCS#12 keystore". */
  readonly summary: string;
  readonly certificates: number;
  readonly keys: readonly KeyBlockInfo[];
  readonly requests: number;
  readonly otherLabels: readonly string[];
}

const PKCS7_DATA = '1.2.840.113549.1.7.1';

function keyInfo(block: PemBlock): KeyBlockInfo {
  if (isLegacyEncrypted(block)) return { label: block.type, encoding: 'legacy-encrypted', scheme: block.headers['DEK-Info']?.split(',')[0] ?? 'unknown' };
  if (block.type === 'ENCRYPTED PRIVATE KEY') return { label: block.type, encoding: 'encrypted-pkcs8', scheme: pkcs8Encryption(block.bytes).scheme };
  return { label: block.type, encoding: keyEncodingOf(block.bytes)?.encoding ?? 'unknown' };
}

const ENCODING_WORDS: Record<KeyBlockInfo['encoding'], string> = {
  pkcs1: 'PKCS#1', pkcs8: 'PKCS#8', sec1: 'SEC1', 'encrypted-pkcs8': 'encrypted PKCS#8', 'legacy-encrypted': 'legacy encrypted, Proc-Type: 4,ENCRYPTED', unknown: 'unreadable',
};

export function describeKey(info: KeyBlockInfo): string {
  const natural = (info.label === 'PRIVATE KEY' && info.encoding === 'pkcs8') || (info.label === 'RSA PRIVATE KEY' && info.encoding === 'pkcs1') ||
    (info.label === 'EC PRIVATE KEY' && info.encoding === 'sec1') || info.encoding === 'encrypted-pkcs8' || info.encoding === 'legacy-encrypted';
  const words = ENCODING_WORDS[info.encoding] + (info.scheme ? ` ${info.scheme}` : '');
  return natural ? `a PEM private key (${words})` : `a PEM private key (${words} under a "${info.label}" label)`;
}

const CERTIFICATE_LABELS = new Set(['CERTIFICATE', 'X509 CERTIFICATE', 'TRUSTED CERTIFICATE']);

function parses(block: PemBlock): boolean {
  try {
    parseCertificate(block.bytes);
    return true;
  } catch {
    return false;
  }
}

/** What the body of a block labelled as a certificate holds when it is not one. */
function describeFalseCertificate(block: PemBlock): string {
  const key = keyEncodingOf(block.bytes);
  const inside = key ? `a ${ENCODING_WORDS[key.encoding]} private key` : 'no certificate Go can parse';
  return `a PEM block labelled "${block.type}" whose body is ${inside}`;
}

function describePem(blocks: PemBlock[]): Content {
  const labelled = blocks.filter((b) => CERTIFICATE_LABELS.has(b.type));
  const falseCertificates = labelled.filter((b) => !parses(b));
  const certificates = labelled.length - falseCertificates.length;
  const keys = blocks.filter((b) => b.type.endsWith('PRIVATE KEY')).map(keyInfo);
  const requests = blocks.filter((b) => b.type === 'CERTIFICATE REQUEST' || b.type === 'NEW CERTIFICATE REQUEST').length;
  const otherLabels = blocks.map((b) => b.type).filter((t) => !t.endsWith('PRIVATE KEY') && !t.endsWith('CERTIFICATE') && !t.endsWith('CERTIFICATE REQUEST'));
  const parts: string[] = [];
  if (certificates === 1) parts.push('a PEM certificate');
  if (certificates > 1) parts.push(`a PEM certificate chain (${certificates} certificates)`);
  parts.push(...falseCertificates.map(describeFalseCertificate));
  parts.push(...keys.map(describeKey));
  if (requests) parts.push('a certificate signing request (CERTIFICATE REQUEST)');
  parts.push(...otherLabels.map((l) => `a PEM "${l}" block`));
  return { kind: 'pem', summary: parts.join(' and '), certificates, keys, requests, otherLabels };
}

const simple = (kind: ContentKind, summary: string, extra: Partial<Content> = {}): Content =>
  ({ kind, summary, certificates: 0, keys: [], requests: 0, otherLabels: [], ...extra });

/** Whether DER bytes look like a PKCS#12 PFX: SEQUENCE { INTEGER 3, ContentInfo(data) , ... }. */
export function isPkcs12(bytes: Buffer): boolean {
  try {
    // Lenient: only the first elements matter, and a MAC or trailing bytes must not get in the way.
    const top = forgeLib().asn1.fromDer(forgeLib().util.createBuffer(bytes.toString('binary')), false);
    const [version, authSafe] = top.value as forge.asn1.Asn1[];
    if (version?.type !== forgeLib().asn1.Type.INTEGER || (version.value as string).charCodeAt(0) !== 3) return false;
    const oid = forgeLib().asn1.derToOid((authSafe!.value as forge.asn1.Asn1[])[0]!.value as string);
    return oid === PKCS7_DATA || oid === '1.2.840.113549.1.7.6';
  } catch {
    return false;
  }
}

/** A CertificationRequest: SEQUENCE { SEQUENCE { INTEGER 0, Name, SPKI, [0] attributes }, alg, sig }. */
function isDerCsr(bytes: Buffer): boolean {
  try {
    const top = forgeLib().asn1.fromDer(forgeLib().util.createBuffer(bytes.toString('binary')));
    const info = (top.value as forge.asn1.Asn1[])[0]!;
    const fields = info.value as forge.asn1.Asn1[];
    return fields[0]?.type === forgeLib().asn1.Type.INTEGER && fields[1]?.type === forgeLib().asn1.Type.SEQUENCE &&
      fields[2]?.type === forgeLib().asn1.Type.SEQUENCE && fields[3]?.tagClass === forgeLib().asn1.Class.CONTEXT_SPECIFIC;
  } catch {
    return false;
  }
}

export function describeContent(bytes: Buffer): Content {
  if (bytes.length === 0 || bytes.toString('latin1').trim() === '') return simple('empty', 'nothing (the file is empty)');
  const blocks = pemDecodeAll(bytes.toString('latin1'));
  if (blocks.length > 0) return describePem(blocks);
  if (bytes[0] === 0x30) {
    try {
      parseCertificate(bytes);
      return simple('der-certificate', 'a DER (binary) certificate', { certificates: 1 });
    } catch { /* not a certificate */ }
    if (isPkcs12(bytes)) return simple('pkcs12', 'a PKCS#12 keystore');
    const key = keyEncodingOf(bytes);
    if (key) return simple('der-key', `a DER (binary) private key (${ENCODING_WORDS[key.encoding]})`, { keys: [{ label: 'DER', encoding: key.encoding }] });
    if (pkcs8Encryption(bytes).unsupported === undefined) {
      return simple('der-key', 'a DER (binary) encrypted private key (encrypted PKCS#8)', { keys: [{ label: 'DER', encoding: 'encrypted-pkcs8' }] });
    }
    if (isDerCsr(bytes)) return simple('der-csr', 'a DER (binary) certificate signing request', { requests: 1 });
  }
  // Text is mostly printable; anything else is some binary format nobody here reads.
  const printable = [...bytes.subarray(0, 512)].filter((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127)).length;
  return printable / Math.min(bytes.length, 512) > 0.95 ? simple('text', 'text that is not PEM') : simple('binary', 'binary data that is neither PEM, DER nor PKCS#12');
}
