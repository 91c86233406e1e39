/**
 * A DER reader with the exact acceptance rules of Go's vendored
 * golang.org/x/crypto/cryptobyte (Go 1.19), which crypto/x509's parser is built on.
 *
 * Go's parse errors are decided by which of these reads fails, so the rules are
 * reproduced rather than borrowed from a general ASN.1 library: low-tag-number form
 * only, definite minimal lengths of at most four octets, minimally encoded INTEGERs,
 * BOOLEAN only 0x00/0xff, BIT STRING padding bits that are zero.
 */

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8String: 0x0c,
  SEQUENCE: 0x30,
  SET: 0x31,
  NumericString: 0x12,
  PrintableString: 0x13,
  T61String: 0x14,
  IA5String: 0x16,
  UTCTime: 0x17,
  GeneralizedTime: 0x18,
  BMPString: 0x1e,
} as const;

/** Context-specific tag number n, primitive. */
export const contextTag = (n: number): number => 0x80 | n;
/** Context-specific tag number n, constructed. */
export const contextConstructed = (n: number): number => 0xa0 | n;

export interface DerElement {
  tag: number;
  /** Contents without the header. */
  content: Buffer;
  /** The whole element, header included. */
  full: Buffer;
}

export interface BitString {
  bytes: Buffer;
  bitLength: number;
}

export class DerReader {
  private pos = 0;

  constructor(private readonly buf: Buffer) {}

  get empty(): boolean {
    return this.pos >= this.buf.length;
  }

  /** Whatever has not been read yet. */
  rest(): Buffer {
    return this.buf.subarray(this.pos);
  }

  peekTag(tag: number): boolean {
    return !this.empty && this.buf[this.pos] === tag;
  }

  /** cryptobyte's readASN1: undefined where Go's read returns false. */
  readAny(): DerElement | undefined {
    const s = this.buf;
    const p = this.pos;
    if (s.length - p < 2) return undefined;
    const tag = s[p] as number;
    const lenByte = s[p + 1] as number;
    if ((tag & 0x1f) === 0x1f) return undefined;
    let headerLen: number;
    let contentLen: number;
    if ((lenByte & 0x80) === 0) {
      headerLen = 2;
      contentLen = lenByte;
    } else {
      const lenLen = lenByte & 0x7f;
      if (lenLen === 0 || lenLen > 4 || s.length - p < 2 + lenLen) return undefined;
      let len32 = 0;
      for (let i = 0; i < lenLen; i++) len32 = len32 * 256 + (s[p + 2 + i] as number);
      if (len32 < 128) return undefined;
      if (Math.floor(len32 / 2 ** ((lenLen - 1) * 8)) === 0) return undefined;
      headerLen = 2 + lenLen;
      contentLen = len32;
    }
    const total = headerLen + contentLen;
    if (s.length - p < total) return undefined;
    this.pos = p + total;
    return { tag, content: s.subarray(p + headerLen, p + total), full: s.subarray(p, p + total) };
  }

  /** Reads an element that must carry `tag`; returns its contents. */
  read(tag: number): Buffer | undefined {
    const el = this.readAny();
    return el !== undefined && el.tag === tag ? el.content : undefined;
  }

  /** Reads an element that must carry `tag`; returns it whole, header included. */
  readElement(tag: number): Buffer | undefined {
    const el = this.readAny();
    return el !== undefined && el.tag === tag ? el.full : undefined;
  }

  /** ReadOptionalASN1: ok=false only when the tag is present but the element is malformed. */
  readOptional(tag: number): { ok: boolean; content?: Buffer } {
    if (!this.peekTag(tag)) return { ok: true };
    const content = this.read(tag);
    return content === undefined ? { ok: false } : { ok: true, content };
  }

  skipOptional(tag: number): boolean {
    return this.readOptional(tag).ok;
  }

  readBoolean(): boolean | undefined {
    const c = this.read(TAG.BOOLEAN);
    if (c === undefined || c.length !== 1) return undefined;
    if (c[0] === 0) return false;
    if (c[0] === 0xff) return true;
    return undefined;
  }

  /** An INTEGER of any size (Go's *big.Int target); negative values are allowed. */
  readBigInt(): bigint | undefined {
    const c = this.read(TAG.INTEGER);
    if (c === undefined || !minimalInteger(c)) return undefined;
    return twosComplement(c);
  }

  /** An INTEGER read into a Go int (64-bit): larger values fail the read. */
  readInt64(): number | undefined {
    const c = this.read(TAG.INTEGER);
    if (c === undefined || !minimalInteger(c) || c.length > 8) return undefined;
    return Number(twosComplement(c));
  }

  /** Dotted form; Go's base128 limits (at most 5 octets, below 2^31) apply. */
  readOid(): string | undefined {
    const c = this.read(TAG.OID);
    return c === undefined ? undefined : decodeOid(c);
  }

  readBitString(): BitString | undefined {
    const c = this.read(TAG.BIT_STRING);
    if (c === undefined || c.length === 0) return undefined;
    const padding = c[0] as number;
    const bytes = c.subarray(1);
    if (padding > 7) return undefined;
    if (bytes.length === 0 && padding !== 0) return undefined;
    if (bytes.length > 0 && ((bytes[bytes.length - 1] as number) & ((1 << padding) - 1)) !== 0) return undefined;
    return { bytes, bitLength: bytes.length * 8 - padding };
  }
}

export function minimalInteger(bytes: Buffer): boolean {
  if (bytes.length === 0) return false;
  if (bytes.length === 1) return true;
  const b0 = bytes[0] as number;
  const b1 = bytes[1] as number;
  return !((b0 === 0 && (b1 & 0x80) === 0) || (b0 === 0xff && (b1 & 0x80) === 0x80));
}

export function twosComplement(bytes: Buffer): bigint {
  const unsigned = bytes.length === 0 ? 0n : BigInt('0x' + bytes.toString('hex'));
  if (bytes.length > 0 && ((bytes[0] as number) & 0x80) !== 0) return unsigned - (1n << BigInt(bytes.length * 8));
  return unsigned;
}

export function decodeOid(bytes: Buffer): string | undefined {
  if (bytes.length === 0) return undefined;
  const parts: number[] = [];
  let i = 0;
  const next = (): number | undefined => {
    let ret = 0;
    for (let n = 0; i < bytes.length; n++) {
      if (n === 5 || ret >= 1 << 24) return undefined;
      const b = bytes[i++] as number;
      ret = ret * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) return ret;
    }
    return undefined;
  };
  const first = next();
  if (first === undefined) return undefined;
  if (first < 80) parts.push(Math.floor(first / 40), first % 40);
  else parts.push(2, first - 80);
  while (i < bytes.length) {
    const v = next();
    if (v === undefined) return undefined;
    parts.push(v);
  }
  return parts.join('.');
}

/** encoding/asn1 BitString.RightAlign: the bits shifted so that padding is at the front. */
export function rightAlign(bits: BitString): Buffer {
  const shift = 8 - (bits.bitLength % 8);
  if (shift === 8 || bits.bytes.length === 0) return bits.bytes;
  const out = Buffer.alloc(bits.bytes.length);
  out[0] = (bits.bytes[0] as number) >> shift;
  for (let i = 1; i < bits.bytes.length; i++) {
    out[i] = (((bits.bytes[i - 1] as number) << (8 - shift)) & 0xff) | ((bits.bytes[i] as number) >> shift);
  }
  return out;
}

/** BitString.At: bit i counted from the most significant bit of the first byte. */
export function bitAt(bits: BitString, i: number): number {
  if (i < 0 || i >= bits.bitLength) return 0;
  return ((bits.bytes[i >> 3] as number) >> (7 - (i & 7))) & 1;
}
