/**
 * The direct path's HTTP/1.1 for plain requests (a load agent's one request on its connection,
 * Fleet Server's keep-alive calls to Elasticsearch: a Content-Length body, nothing unusual): read, answered and written here,
 * with the bytes node:http would write for the same answer. node:http's per-connection machinery
 * (parser, IncomingMessage and ServerResponse streams, their events) cost as much per request as
 * the rest of the component's work. Anything else (pipelining, chunked bodies, Expect, odd
 * framing, duplicate fields, a handler that declines) is handed, with the bytes already read, to
 * the component's own node:http server, which serves it as on every other path.
 */
import http from 'node:http';
import type tls from 'node:tls';
import type { RequestDeadline } from '../components/http-deadlines.js';
import { REQUEST_LINE, blanksTrimmed, type HeadRules } from '../components/go-request-head.js';

/** A request the fast path read whole. */
export interface DirectRequest {
  readonly method: string;
  /** The request target as sent (node:http's `req.url`). */
  readonly url: string;
  /** Field names lowercased, as node:http gives them (no field appears twice here). */
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  readonly socket: tls.TLSSocket;
}

/** What to write: the status, the fields in order (as given to writeHead) and the body. */
export interface DirectReply {
  readonly status: number;
  readonly headers: ReadonlyArray<readonly [string, string | number | string[]]>;
  readonly body: string;
}

/**
 * Answers a request, or undefined to have node:http serve it (read nothing, write nothing: the
 * request goes to the component's http.Server unchanged). A rejected promise ends the connection,
 * as a throwing route does on the other paths.
 */
export type DirectHandler = (request: DirectRequest) => Promise<DirectReply> | undefined;

export interface DirectHttpOptions {
  readonly handler: DirectHandler;
  /** Hands the socket (its unread bytes pushed back) to node:http. */
  readonly fallback: (socket: tls.TLSSocket) => void;
  /** The component's deadlines for this request, started when its head has arrived. */
  readonly onRequest: (socket: tls.TLSSocket) => RequestDeadline | undefined;
  /** The component's own refusals of request heads (Fleet Server: Go's), judged before anything else. */
  readonly headRules?: HeadRules;
}

/** node:http's default `maxHeaderSize`; a larger head is node:http's to refuse. */
const MAX_HEAD = 16 * 1024;
/** Bodies above this go to node:http (which applies the component's own limits). */
const MAX_BODY = 1024 * 1024;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const TARGET = /^[\x21-\x7e]+$/;

/** Serves the connection's requests here, until one is not for the fast path: then node:http serves the connection. */
export function serveDirect(socket: tls.TLSSocket, options: DirectHttpOptions): void {
  const received = new Received();
  let head: Head | undefined;
  let bodyAt = 0;
  let hooks: RequestDeadline | undefined;
  let busy = false;
  // The listener allows half-open sockets: a client's FIN between requests is answered with ours,
  // as node:http does (socketOnEnd); during a request, once its answer is written.
  const onEnd = () => { if (!busy) socket.end(); };
  socket.on('end', onEnd);
  const stop = () => {
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.pause();
  };
  const release = () => {
    stop();
    if (received.size > 0) socket.unshift(received.take());
    options.fallback(socket);
    socket.resume();
  };
  const onData = (chunk: Buffer) => {
    received.push(chunk);
    if (!head) {
      const end = received.headEnd();
      if (end < 0) return received.size > MAX_HEAD ? release() : undefined;
      if (end > MAX_HEAD) return release();
      const lines = received.take().toString('latin1', 0, end).split('\r\n');
      // A request line Go would refuse first (`malformed HTTP version`…) is node:http's path to judge.
      if (!REQUEST_LINE.test(lines[0]!)) return release();
      const read = options.headRules ? ruledHead(options.headRules, lines) : readHead(lines);
      if (typeof read === 'string') {
        if (read === 'other') return release();
        // Refused before any handler, as Go's server does: its 400, then it closes (close_notify, FIN).
        stop();
        busy = true;
        socket.write(read);
        socket.destroySoon();
        return;
      }
      head = read;
      bodyAt = end + 4;
      // The head is in: the header deadline ends here, as at node:http's 'request' event on the tapped path.
      hooks = options.onRequest(socket);
    }
    const whole = bodyAt + head.length;
    if (received.size < whole) return;
    // Bytes after the body (a pipelined request) are node:http's to judge.
    if (received.size > whole) return release();
    hooks?.bodyRead();
    const data = received.take();
    const { close, method, url, headers } = head;
    const answer = options.handler({ method, url, headers, body: data.toString('utf8', bodyAt), socket });
    if (!answer) return release();
    // One request at a time, as node:http and net/http serve a connection.
    socket.off('data', onData);
    socket.pause();
    received.clear();
    head = undefined;
    busy = true;
    const deadline = hooks;
    answer.then((reply) => {
      if (socket.destroyed) return;
      if (deadline && !deadline.mayWrite()) return void socket.destroy();
      busy = false;
      if (close || socket.readableEnded) {
        // node:http after a response to `Connection: close`: close_notify and FIN once written
        // (end(bytes) is write then end; destroySoon's destroy once finished).
        socket.end(responseBytes(reply, close));
        deadline?.finished();
        if (socket.writableFinished) socket.destroy();
        else socket.once('finish', socket.destroy);
      } else {
        socket.write(responseBytes(reply, close));
        deadline?.finished();
        socket.on('data', onData);
        socket.resume();
      }
    }, () => socket.destroy());
  };
  socket.on('data', onData);
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
    if (this.end < 0) {
      const window = this.tail.length > 0 ? Buffer.concat([this.tail, chunk]) : chunk;
      const at = window.indexOf('\r\n\r\n');
      if (at >= 0) this.end = this.size - this.tail.length + at;
      else this.tail = Buffer.from(window.subarray(Math.max(0, window.length - 3)));
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
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

type Head = Omit<DirectRequest, 'socket' | 'body'> & { close: boolean; length: number };
type Read = { request: Omit<DirectRequest, 'socket'>; close: boolean } | 'more' | 'other';

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
function readHead(lines: readonly string[]): Head | 'other' {
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
 * readHead for a server with its own head rules, in one pass: the rules read the fields (every
 * name a token, no value with a control byte, so readHead's own checks of them hold) and judge
 * them; their refusal is the bytes to write, 'other' what the fast path leaves to node:http.
 */
function ruledHead(rules: HeadRules, lines: readonly string[]): Head | string {
  // REQUEST_LINE held: exactly three parts.
  const line = lines[0]!;
  const first = line.indexOf(' ');
  const second = line.indexOf(' ', first + 1);
  const method = line.slice(0, first);
  const url = line.slice(first + 1, second);
  const version = line.slice(second + 1);
  const read = rules.read(method, version, lines);
  if ('refusal' in read) return read.refusal;
  // A folded line or an empty name: readHead's 'other'.
  if (!read.plain || version !== 'HTTP/1.1' || (method !== 'GET' && method !== 'POST') || !TARGET.test(url)) return 'other';
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

let dateSecond = -1;
let dateText = '';

/**
 * The bytes node:http writes for writeHead(status, fields) and end(body) (with a Content-Length
 * field) on an HTTP/1.1 request, its keep-alive timeout off as the fakes set it: the fields, then
 * Date, then Connection (Node's _http_outgoing.js, _storeHeader).
 */
export function responseBytes(reply: DirectReply, close: boolean): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  let head = `HTTP/1.1 ${reply.status} ${http.STATUS_CODES[reply.status] ?? 'unknown'}\r\n`;
  let dated = false;
  let connection = false;
  for (const [name, value] of reply.headers) {
    // node:http writes a field given as a list once per value.
    for (const one of Array.isArray(value) ? value : [value]) head += `${name}: ${one}\r\n`;
    const lower = name.toLowerCase();
    if (lower === 'date') dated = true;
    if (lower === 'connection') connection = true;
  }
  if (!dated) head += `Date: ${dateText}\r\n`;
  if (!connection) head += close ? 'Connection: close\r\n' : 'Connection: keep-alive\r\n';
  return `${head}\r\n${reply.body}`;
}
