/**
 * TLS record layer framing (RFC 8446 §5.1, RFC 5246 §6.2) and a bounds-checked byte reader.
 *
 * Everything here is pure: no sockets, no keys. The interposer feeds raw socket chunks to a
 * RecordReader per direction and forwards `raw` unchanged unless it decides to rewrite.
 * (Over 250 lines: the framing and the bounds-checked reader every parser of the taps shares.)
 */
import { HarnessError } from '../errors.js';

export enum ContentType {
  ChangeCipherSpec = 20,
  Alert = 21,
  Handshake = 22,
  ApplicationData = 23,
}

/** legacy_record_version values seen on the wire; TLS 1.3 records still say 0x0303. */
export const TLS12 = 0x0303;
export const TLS13 = 0x0304;

export interface TlsRecord {
  type: number;
  version: number;
  fragment: Buffer;
  /** The 5-byte header and the fragment exactly as read, for forwarding untouched. */
  raw: Buffer;
}

export const RECORD_HEADER_LENGTH = 5;
/** TLSPlaintext.length limit (2^14). */
export const MAX_PLAINTEXT = 16384;
/**
 * The largest fragment any version allows (TLS 1.2 TLSCiphertext: 2^14 + 2048). TLS 1.3 is
 * tighter (2^14 + 256) but the reader does not know the version yet when framing the first
 * records, so the per-version check belongs to the record protection classes.
 */
export const MAX_CIPHERTEXT = MAX_PLAINTEXT + 2048;

export function protocolError(message: string, cause?: unknown): HarnessError {
  return new HarnessError('FTH_WIRE_PROTOCOL', message, cause === undefined ? undefined : { cause });
}

/**
 * Splits a byte stream into frames of `header + body`, holding back an incomplete tail.
 * Shared by the record layer and handshake reassembly, which differ only in their headers.
 *
 * A rejected header is sticky: once a stream is desynchronised every later byte is
 * meaningless. Frames completed before the bad header in the same push are still returned
 * (the interposer must see and forward them); the push throws only when it has nothing to
 * return, and every later push throws. `failure` tells a caller at once.
 */
export class FrameSplitter {
  private pending: Buffer = Buffer.alloc(0);
  private failed: HarnessError | undefined;

  /** `bodyLength` reads the header and throws a HarnessError to reject it. */
  constructor(
    private readonly headerLength: number,
    private readonly bodyLength: (header: Buffer) => number,
  ) {}

  push(chunk: Buffer): Buffer[] {
    if (this.failed) throw this.failed;
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Buffer[] = [];
    let offset = 0;
    while (this.pending.length - offset >= this.headerLength) {
      let end: number;
      try {
        end = offset + this.headerLength + this.bodyLength(this.pending.subarray(offset, offset + this.headerLength));
      } catch (error) {
        this.failed = error instanceof HarnessError ? error : protocolError('frame header rejected', error);
        this.pending = Buffer.alloc(0);
        if (frames.length === 0) throw this.failed;
        return frames;
      }
      if (end > this.pending.length) break;
      // Copy so a frame never pins the (possibly much larger) chunk it arrived in.
      frames.push(Buffer.from(this.pending.subarray(offset, end)));
      offset = end;
    }
    this.pending = offset === this.pending.length ? Buffer.alloc(0) : Buffer.from(this.pending.subarray(offset));
    return frames;
  }

  /** Adds bytes without framing them: a reader that frames one frame at a time (next) judges each header when it gets there. */
  append(chunk: Buffer): void {
    if (this.failed) throw this.failed;
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
  }

  /** The next whole frame, or undefined until its bytes are there; a refused header throws (sticky, as push). */
  next(): Buffer | undefined {
    if (this.failed) throw this.failed;
    if (this.pending.length < this.headerLength) return undefined;
    let end: number;
    try {
      end = this.headerLength + this.bodyLength(this.pending.subarray(0, this.headerLength));
    } catch (error) {
      this.failed = error instanceof HarnessError ? error : protocolError('frame header rejected', error);
      this.pending = Buffer.alloc(0);
      throw this.failed;
    }
    if (end > this.pending.length) return undefined;
    const frame = Buffer.from(this.pending.subarray(0, end));
    this.pending = end === this.pending.length ? Buffer.alloc(0) : this.pending.subarray(end);
    return frame;
  }

  get buffered(): number {
    return this.pending.length;
  }

  /** Hands over the bytes not yet framed and frames nothing more of them. */
  take(): Buffer {
    const rest = this.pending;
    this.pending = Buffer.alloc(0);
    return rest;
  }

  get failure(): HarnessError | undefined {
    return this.failed;
  }
}

/** Splits one direction's byte stream into records (see FrameSplitter for error handling). */
export class RecordReader {
  private readonly splitter: FrameSplitter;

  /**
   * `check` judges each header before its body is read and throws to refuse it (default: a
   * header no TLS stack sends, see headerProblem). A reader that emulates a real stack's own
   * refusals (Go's conn.go) passes its own.
   */
  constructor(check: (header: Buffer) => void = checkRecordHeader) {
    this.splitter = new FrameSplitter(RECORD_HEADER_LENGTH, (header) => {
      check(header);
      return header.readUInt16BE(3);
    });
  }

  push(chunk: Buffer): TlsRecord[] {
    return this.splitter.push(chunk).map((raw) => ({
      type: raw.readUInt8(0),
      version: raw.readUInt16BE(1),
      fragment: raw.subarray(RECORD_HEADER_LENGTH),
      raw,
    }));
  }

  /** Adds bytes to frame later, one record at a time (next). */
  append(chunk: Buffer): void {
    this.splitter.append(chunk);
  }

  /** The next whole record, or undefined until its bytes are there; a refused header throws. */
  next(): TlsRecord | undefined {
    const raw = this.splitter.next();
    return raw && { type: raw.readUInt8(0), version: raw.readUInt16BE(1), fragment: raw.subarray(RECORD_HEADER_LENGTH), raw };
  }

  /** Bytes held back because they do not yet form a whole record. */
  get buffered(): number {
    return this.splitter.buffered;
  }

  /** The bytes after the last whole record taken, unframed (the reader is empty after). */
  take(): Buffer {
    return this.splitter.take();
  }

  /** Set once the stream held something that is not a TLS record. */
  get failure(): HarnessError | undefined {
    return this.splitter.failure;
  }
}

/** Refuses a header no TLS stack sends (unknown type, version not 3.x, longer than any version allows). */
export function checkRecordHeader(header: Buffer): void {
  const problem = headerProblem(header.readUInt8(0), header.readUInt16BE(1), header.readUInt16BE(3));
  if (problem) throw protocolError(`record header ${header.toString('hex')}: ${problem}`);
}

function headerProblem(type: number, version: number, length: number): string | undefined {
  // 24 is heartbeat (RFC 6520): not sent by Node or Go, but it is a real record type.
  if (type < ContentType.ChangeCipherSpec || type > 24) return `unknown content type ${type}`;
  if (version >> 8 !== 3) return `record version 0x${version.toString(16).padStart(4, '0')} is not 3.x`;
  if (length > MAX_CIPHERTEXT) return `record length ${length} exceeds ${MAX_CIPHERTEXT}`;
  return undefined;
}

/** A record header on its own: the AEAD additional data of TLS 1.3 is exactly this. */
export function recordHeader(type: number, version: number, length: number): Buffer {
  if (!Number.isInteger(type) || type < 0 || type > 0xff) throw protocolError(`content type ${type} out of range`);
  if (!Number.isInteger(version) || version < 0 || version > 0xffff) throw protocolError(`record version ${version} out of range`);
  if (length > MAX_CIPHERTEXT) throw protocolError(`record fragment of ${length} bytes exceeds ${MAX_CIPHERTEXT}`);
  const header = Buffer.alloc(RECORD_HEADER_LENGTH);
  header.writeUInt8(type, 0);
  header.writeUInt16BE(version, 1);
  header.writeUInt16BE(length, 3);
  return header;
}

export function encodeRecord(type: number, version: number, fragment: Buffer): Buffer {
  return Buffer.concat([recordHeader(type, version, fragment.length), fragment]);
}

/**
 * Whether these bytes start a record a TLS server would take as the opening of a handshake:
 * a handshake record, version 3.x, a non-empty fragment within the plaintext limit. Needs the
 * whole 5-byte header; with fewer bytes the answer is false, so wait for more before judging.
 */
export function looksLikeTls(firstBytes: Buffer): boolean {
  if (firstBytes.length < RECORD_HEADER_LENGTH) return false;
  const length = firstBytes.readUInt16BE(3);
  return firstBytes[0] === ContentType.Handshake && firstBytes[1] === 3 && length > 0 && length <= MAX_PLAINTEXT;
}

const HTTP_PREFIXES = new Set(['GET /', 'HEAD ', 'POST ', 'PUT /', 'OPTIO']);

/** Go net/http's test before answering "Client sent an HTTP request to an HTTPS server". */
export function looksLikeHttp(firstBytes: Buffer): boolean {
  if (firstBytes.length < 5) return false;
  return HTTP_PREFIXES.has(firstBytes.subarray(0, 5).toString('latin1'));
}

/**
 * The two-byte alert body. TLS 1.3 makes every alert fatal except close_notify and
 * user_canceled (RFC 8446 §6), and Go and Java send them with exactly those levels.
 * Names and peers' wording live in alerts.ts.
 */
export function encodeAlert(description: number, level: number = description === 0 || description === 90 ? 1 : 2): Buffer {
  return Buffer.from([level & 0xff, description & 0xff]);
}

export function parseAlert(content: Buffer): { level: number; description: number } {
  if (content.length !== 2) throw protocolError(`alert of ${content.length} bytes, expected 2`);
  return { level: content.readUInt8(0), description: content.readUInt8(1) };
}

/** Sequential reader over a handshake structure; every overrun becomes FTH_WIRE_PROTOCOL. */
export class ByteReader {
  private offset = 0;

  constructor(
    private readonly buffer: Buffer,
    private readonly what: string,
  ) {}

  get remaining(): number {
    return this.buffer.length - this.offset;
  }

  bytes(length: number, field: string): Buffer {
    if (length > this.remaining) throw protocolError(`${this.what}: ${field} needs ${length} bytes, ${this.remaining} left`);
    this.offset += length;
    return this.buffer.subarray(this.offset - length, this.offset);
  }

  /** A big-endian unsigned integer of `size` bytes. */
  uint(size: 1 | 2 | 3, field: string): number {
    return this.bytes(size, field).readUIntBE(0, size);
  }

  u8(field: string): number {
    return this.uint(1, field);
  }

  u16(field: string): number {
    return this.uint(2, field);
  }

  /** An opaque vector with a 1-, 2- or 3-byte length prefix, checked against its bounds. */
  vector(prefix: 1 | 2 | 3, field: string, min = 0, max = 2 ** (8 * prefix) - 1): Buffer {
    const length = this.uint(prefix, field);
    if (length < min || length > max) throw protocolError(`${this.what}: ${field} length ${length} outside ${min}..${max}`);
    return this.bytes(length, field);
  }

  sub(prefix: 1 | 2 | 3, field: string, min = 0): ByteReader {
    return new ByteReader(this.vector(prefix, field, min), `${this.what} ${field}`);
  }

  /** A reader over data that must hold exactly one length-prefixed vector, as most extensions do. */
  static only(data: Buffer, prefix: 1 | 2, what: string, min = 0): ByteReader {
    const outer = new ByteReader(data, what);
    const inner = outer.sub(prefix, 'list', min);
    outer.end();
    return inner;
  }

  /** All remaining bytes as u16 code points (cipher suites, groups, signature schemes). */
  u16s(field: string): number[] {
    if (this.remaining % 2 !== 0) throw protocolError(`${this.what}: ${field} has odd length ${this.remaining}`);
    const out: number[] = [];
    while (this.remaining > 0) out.push(this.u16(field));
    return out;
  }

  /** Rejects trailing bytes: a length that disagrees with its contents means a bad parse. */
  end(): void {
    if (this.remaining !== 0) throw protocolError(`${this.what}: ${this.remaining} unexpected trailing bytes`);
  }
}
