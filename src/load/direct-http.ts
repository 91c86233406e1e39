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
import type { HeadRules } from '../components/go-request-head.js';
import { writeAndClose } from '../components/go-request-line.js';
import { MAX_HEAD, Received, readHead, ruledHead, type Head } from './direct-request.js';

export { Received, readRequest } from './direct-request.js';

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

/** Serves the connection's requests here, until one is not for the fast path: then node:http serves the connection. */
export function serveDirect(socket: tls.TLSSocket, options: DirectHttpOptions): void {
  const received = new Received();
  let head: Head | undefined;
  let bodyAt = 0;
  let hooks: RequestDeadline | undefined;
  let busy = false;
  // The listener allows half-open sockets: a client's FIN between requests is answered with ours,
  // as node:http does (socketOnEnd); during a request, once its answer is written.
  const onEnd = () => {
    if (busy) return;
    // Part of a head and then the client's FIN: the component's answer to that (Go: its plain 400).
    const cutShort = options.headRules?.cutShort;
    if (!head && received.size > 0 && cutShort !== undefined) return refuse(cutShort);
    socket.end();
  };
  socket.on('end', onEnd);
  const stop = () => {
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.pause();
  };
  const release = () => {
    stop();
    // The head as the component reads it (Go's folded lines, say), in words node:http's parser takes.
    if (received.size > 0) socket.unshift(options.headRules?.forNode?.(received.take()) ?? received.take());
    options.fallback(socket);
    socket.resume();
  };
  // Refused before any handler, as Go's server does: its answer, then it closes (close_notify, FIN).
  const refuse = (answer: string) => {
    stop();
    busy = true;
    writeAndClose(socket, answer);
  };
  // Whether the head's first line has been seen whole (the rules judge it at once, as Go does).
  let lineRead = false;
  const onData = (chunk: Buffer) => {
    received.push(chunk);
    if (!head) {
      const end = received.headEnd();
      if (end < 0 || end > MAX_HEAD) {
        const rules = options.headRules;
        const limit = rules?.maxHeadBytes ?? MAX_HEAD;
        if (rules?.early && ((!lineRead && chunk.includes(0x0a)) || received.size >= limit)) {
          lineRead = true;
          const early = rules.early(received.take(), end);
          if (early !== undefined) return refuse(early);
        }
        if (end < 0) return received.size > limit ? release() : undefined;
        // A long head is node:http's to judge, unless the component reads heads that long itself (Go: up to its limit).
        if (limit === MAX_HEAD) return release();
      }
      lineRead = false;
      const lines = received.take().toString('latin1', 0, end).split('\r\n');
      // The rules' refusal and the fast path's reading in one pass over the head (direct-request.ts).
      const read = options.headRules ? ruledHead(options.headRules, lines) : readHead(lines);
      if (typeof read === 'string') return read === 'other' ? release() : refuse(read);
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
