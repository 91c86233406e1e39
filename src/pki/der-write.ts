/**
 * The few DER encodings a certificate needs (X.690 section 10), written directly: a general
 * ASN.1 library cost the CLI a quarter of a second to load and more to issue each certificate.
 */
import { isIPv4 } from 'node:net';
import { parseIP } from '../x509/ip.js';

/** Tag, definite minimal length, contents. */
export function element(tag: number, content: Buffer): Buffer {
  const length = content.length;
  let header: Buffer;
  if (length < 0x80) header = Buffer.from([tag, length]);
  else {
    const bytes: number[] = [];
    for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
    header = Buffer.from([tag, 0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([header, content]);
}

export const sequence = (...items: Buffer[]): Buffer => element(0x30, Buffer.concat(items));

/** A SET OF one element (DER sorts a SET OF's elements; one needs no sorting). */
export const set = (item: Buffer): Buffer => element(0x31, item);

/** Context-specific constructed [n], EXPLICIT. */
export const explicit = (n: number, inner: Buffer): Buffer => element(0xa0 | n, inner);

export const NULL = Buffer.from([0x05, 0x00]);
export const TRUE = Buffer.from([0x01, 0x01, 0xff]);

/** An INTEGER from its two's-complement bytes, as given. */
export const integer = (bytes: Buffer): Buffer => element(0x02, bytes);

/** A non-negative INTEGER in its minimal form. */
export function smallInteger(value: number): Buffer {
  const bytes: number[] = [];
  let n = value;
  do {
    bytes.unshift(n % 256);
    n = Math.floor(n / 256);
  } while (n > 0);
  if (bytes[0]! & 0x80) bytes.unshift(0);
  return integer(Buffer.from(bytes));
}

export const octetString = (bytes: Buffer): Buffer => element(0x04, bytes);

/** A BIT STRING of whole bytes (a signature). */
export const bitString = (bytes: Buffer): Buffer => element(0x03, Buffer.concat([Buffer.from([0]), bytes]));

/** A named-bit BIT STRING: DER drops the trailing zero bits (X.690 11.2.2). */
export function namedBits(bits: readonly number[]): Buffer {
  if (bits.length === 0) return element(0x03, Buffer.from([0]));
  const last = Math.max(...bits);
  const bytes = Buffer.alloc((last >> 3) + 1);
  for (const bit of bits) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  return element(0x03, Buffer.concat([Buffer.from([7 - (last & 7)]), bytes]));
}

export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const out: number[] = [arcs[0]! * 40 + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const chunk: number[] = [];
    let n = arc;
    do {
      chunk.unshift((n & 0x7f) | (chunk.length ? 0x80 : 0));
      n = Math.floor(n / 128);
    } while (n > 0);
    out.push(...chunk);
  }
  return element(0x06, Buffer.from(out));
}

/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050, whole seconds, Z. */
export function time(date: Date): Buffer {
  const year = date.getUTCFullYear();
  const two = (n: number) => String(n).padStart(2, '0');
  const rest = `${two(date.getUTCMonth() + 1)}${two(date.getUTCDate())}${two(date.getUTCHours())}${two(date.getUTCMinutes())}${two(date.getUTCSeconds())}Z`;
  return year > 2049
    ? element(0x18, Buffer.from(`${String(year).padStart(4, '0')}${rest}`, 'latin1'))
    : element(0x17, Buffer.from(`${two(year % 100)}${rest}`, 'latin1'));
}

/** An iPAddress's bytes: four for IPv4, sixteen for IPv6 (RFC 5280 4.2.1.6). */
export function ipBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  const bytes = parseIP(ip);
  if (!bytes || bytes.length !== 16) throw new Error(`not an IP address: ${ip}`);
  return Buffer.from(bytes);
}
