/**
 * Reading a request on the direct path (direct-http.ts): its bytes as they come, and its head,
 * judged for what the fast path answers itself and what it leaves to node:http.
 */
import type http from 'node:http';
import { blanksTrimmed, type HeadRules } from '../components/go-request-head.js';

/** node:http's default `maxHeaderSize`; a larger head is node:http's to refuse. */
export const MAX_HEAD = 16 * 1024;
/** Bodies above this go to node:http (which applies the component's own limits). */
const MAX_BODY = 1024 * 1024;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const TARGET = /^[\x21-\x7e]+$/;

/** A head the fast path serves: method, target as sent, fields (names lowercased), whether to close after, the body's length. */
export interface Head {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly close: boolean;
  readonly length: number;
}

/**
 * What a connection has received of its request: the chunks as they came, joined once when the
 * head is whole and once when the body is, so a client that sends a byte at a time costs a
 * linear amount of copying, not a quadratic one.
 */
export class Received {
  private chunks: Buffer[] = [];
  /** Bytes received. */
  size = 0;
  /** How many times chunks were joined (a test's measure of the copying). */
  joins = 0;
  /** The last three bytes before the newest chunk, for a CRLF CRLF that straddles chunks. */
  private tail: Buffer = Buffer.alloc(0);
  private end = -1;

  push(chunk: Buffer): void {
    let bareLf = false;
    if (this.end < 0) {
      const window = this.tail.length > 0 ? Buffer.concat([this.tail, chunk]) : chunk;
      const at = window.indexOf('\r\n\r\n');
      if (at >= 0) this.end = this.size - this.tail.length + at;
      else {
        bareLf = window.includes('\n\n') || window.includes('\n\r\n');
        this.tail = Buffer.from(window.subarray(Math.max(0, window.length - 3)));
      }
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (bareLf) this.endBareLfHead();
  }

  /**
   * Go reads a head's lines with bufio's ReadLine, which ends a line at LF and drops one CR before
   * it: a head ended by a bare-LF blank line is whole. Its lines are rewritten with CRLF, the
   * form every reader here (and node:http) takes; the body after it is left as it came.
   */
  private endBareLfHead(): void {
    const data = this.take();
    const lines: string[] = [];
    let from = 0;
    for (let lf = data.indexOf(0x0a); lf >= 0; lf = data.indexOf(0x0a, from)) {
      const line = data.toString('latin1', from, lf > from && data[lf - 1] === 0x0d ? lf - 1 : lf);
      from = lf + 1;
      if (line === '') {
        const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
        this.chunks = [Buffer.concat([head, data.subarray(from)])];
        this.size = this.chunks[0]!.length;
        this.end = head.length - 4;
        return;
      }
      lines.push(line);
    }
  }

  /** Where the head ends (the offset of its CRLF CRLF), or -1 while it has not come whole. */
  headEnd(): number {
    return this.end;
  }

  /** Everything received, as one buffer (kept as the only chunk). */
  take(): Buffer {
    if (this.chunks.length > 1) {
      this.chunks = [Buffer.concat(this.chunks, this.size)];
      this.joins++;
    }
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  clear(): void {
    this.chunks = [];
    this.size = 0;
    this.tail = Buffer.alloc(0);
    this.end = -1;
  }
}

type Read = { request: Omit<Head, 'close' | 'length'> & { body: string }; close: boolean } | 'more' | 'other';

/** The whole request in `data`, 'more' while it is incomplete, 'other' for anything the fast path leaves to node:http. */
export function readRequest(data: Buffer): Read {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return data.length > MAX_HEAD ? 'other' : 'more';
  if (end > MAX_HEAD) return 'other';
  const head = readHead(data.subarray(0, end).toString('latin1').split('\r\n'));
  if (head === 'other') return 'other';
  const have = data.length - end - 4;
  if (have < head.length) return 'more';
  // Bytes after the body (a pipelined request) are node:http's to judge.
  if (have > head.length) return 'other';
  const { close, length: _length, ...request } = head;
  return { request: { ...request, body: data.subarray(end + 4).toString('utf8') }, close };
}

/** A head's method, target, fields and body length, or 'other' for one the fast path leaves to node:http. */
export function readHead(lines: readonly string[]): Head | 'other' {
  const [method, url, version, extra] = lines[0]!.split(' ');
  if (extra !== undefined || version !== 'HTTP/1.1' || (method !== 'GET' && method !== 'POST') || !url || !TARGET.test(url)) return 'other';
  const headers: Record<string, string> = {};
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) return 'other';
    const name = line.slice(0, colon).toLowerCase();
    if (!TOKEN.test(name) || name in headers) return 'other';
    const value = blanksTrimmed(line, colon + 1);
    if (/[\0\r\n]/.test(value)) return 'other';
    headers[name] = value;
  }
  return framed(method, url, headers);
}

/**
 * readHead for a server with its own head rules, in one pass: the rules judge the head and read
 * its fields (every name a token, no value with a control byte, so readHead's own checks of them
 * hold); their refusal is the bytes to write, 'other' what the fast path leaves to node:http.
 */
export function ruledHead(rules: HeadRules, lines: readonly string[]): Head | string {
  const read = rules.read(lines);
  if ('refusal' in read) return read.refusal;
  const [method, url, version, extra] = lines[0]!.split(' ');
  // A folded line or an empty name: readHead's 'other' too.
  if (!read.plain || extra !== undefined || version !== 'HTTP/1.1' || (method !== 'GET' && method !== 'POST') || !url || !TARGET.test(url)) return 'other';
  const headers: Record<string, string> = {};
  for (const [field, value] of read.fields) {
    const name = field.toLowerCase();
    if (name in headers) return 'other';
    headers[name] = value;
  }
  return framed(method, url, headers);
}

/** The head, or 'other' for framing or options the fast path leaves to node:http. */
function framed(method: string, url: string, headers: Record<string, string>): Head | 'other' {
  const connection = headers.connection?.toLowerCase();
  if (connection !== undefined && connection !== 'close' && connection !== 'keep-alive') return 'other';
  if ('transfer-encoding' in headers || 'expect' in headers || 'upgrade' in headers) return 'other';
  const length = headers['content-length'] === undefined ? 0 : /^\d{1,7}$/.test(headers['content-length']) ? Number(headers['content-length']) : NaN;
  if (!(length <= MAX_BODY)) return 'other';
  return { method, url, headers, close: connection === 'close', length };
}

