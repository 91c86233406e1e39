import type http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import type { GoClientTls } from './go-client-tls.js';
import type { GoExchange, GoResponse } from './go-http.js';
import { failedConnection } from './client-connection.js';
import { parse } from '../load/http1.js';

/**
 * Fleet Server's Elasticsearch client on the direct path (load tests): keep-alive connections,
 * as the real go-elasticsearch client pools them, so enrolling ten thousand agents does not
 * cost ten thousand extra handshakes. Exchanges carry no handshake report.
 *
 * HTTP/1.1 is written and read here rather than through node:https, whose client machinery cost
 * about as much per call as the rest of an enrolment. The request has Go's form
 * (net/http, Request.write): `Host` and `User-Agent` first, `Content-Length` for a body, the
 * caller's headers in canonical case, no `Connection` header (HTTP/1.1 keeps the connection).
 */
export class ElasticsearchPool {
  private readonly idle: tls.TLSSocket[] = [];
  private readonly open = new Set<tls.TLSSocket>();
  private readonly remote: string;
  private readonly target: { readonly host: string; readonly port: number };
  private readonly context: tls.SecureContext;
  private readonly verify: boolean;
  private closed = false;

  constructor(private readonly url: URL, tlsSettings: GoClientTls, connectTo?: { readonly host: string; readonly port: number }) {
    this.context = tls.createSecureContext({
      ...(tlsSettings.certificateAuthorities ? { ca: tlsSettings.certificateAuthorities.map((c) => c.pem) } : {}),
      ...(tlsSettings.certificate ? { cert: tlsSettings.certificate.certPem, key: tlsSettings.certificate.keyPem } : {}),
    });
    this.verify = (tlsSettings.verificationMode ?? 'full') !== 'none';
    this.target = connectTo ?? { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 443) };
    this.remote = `${this.target.host}:${this.target.port}`;
  }

  async request(method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: string): Promise<GoExchange> {
    const connection = failedConnection(this.remote, null);
    const lines = [`${method} ${path} HTTP/1.1`, `Host: ${this.url.host}`];
    if (headers['user-agent'] !== undefined) lines.push(`User-Agent: ${headers['user-agent']}`);
    if (body !== undefined) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
    for (const [name, value] of Object.entries(headers)) if (name !== 'user-agent') lines.push(`${canonical(name)}: ${value}`);
    if (body !== undefined) lines.push('Content-Type: application/json');
    const head = `${lines.join('\r\n')}\r\n\r\n`;
    try {
      for (;;) {
        const pooled = this.idle.pop();
        const socket = pooled ?? (await this.dial());
        try {
          const { response, reusable } = await roundTrip(socket, head + (body ?? ''));
          if (reusable && !this.closed && !socket.destroyed) {
            socket.unref();
            this.idle.push(socket);
          } else {
            socket.destroy();
          }
          return { response, connection };
        } catch (error) {
          socket.destroy();
          // Another connection (the next idle one, else a new one) only for a kept-alive
          // connection the server closed before answering; a new connection's failure is final.
          if (!pooled || this.closed || !mayRetry(error as RoundTripError, method)) throw error;
        }
      }
    } catch (error) {
      return { error: (error as Error).message, connection };
    }
  }

  close(): void {
    this.closed = true;
    for (const socket of this.open) socket.destroy();
    this.idle.length = 0;
  }

  private dial(): Promise<tls.TLSSocket> {
    const host = this.url.hostname.replace(/^\[|\]$/g, '');
    return new Promise((resolve, reject) => {
      const socket = tls.connect({
        host: this.target.host, port: this.target.port, secureContext: this.context,
        // Go sends SNI only for host names; the certificate is checked against the URL's host.
        servername: net.isIP(host) ? '' : host,
        checkServerIdentity: (_name, cert) => tls.checkServerIdentity(host, cert),
        rejectUnauthorized: this.verify,
      });
      socket.setNoDelay(true);
      this.open.add(socket);
      socket.once('secureConnect', () => {
        socket.off('error', reject);
        // An idle connection that fails or closes is simply dropped from the pool.
        socket.on('error', () => socket.destroy());
        resolve(socket);
      });
      socket.once('error', reject);
      // Go's DefaultTransport TLSHandshakeTimeout: a server that takes the connection and never
      // finishes the handshake fails the request instead of holding it.
      socket.setTimeout(10_000, () => socket.destroy(Object.assign(new Error('net/http: TLS handshake timeout'), { code: 'ETIMEDOUT' })));
      socket.once('secureConnect', () => socket.setTimeout(0));
      socket.once('close', () => {
        // Closed while dialling (the pool's close): the request fails rather than waits.
        reject(Object.assign(new Error('EOF'), { code: 'ECONNRESET' }));
        this.open.delete(socket);
        const at = this.idle.indexOf(socket);
        if (at >= 0) this.idle.splice(at, 1);
      });
    });
  }
}

/** How a round trip failed: whether the request went out, whether any of a response came back. */
interface RoundTripError extends Error {
  written?: boolean;
  answered?: boolean;
}

/**
 * net/http's Transport.roundTrip retries on a reused connection (transport.go, Go 1.19,
 * shouldRetryRequest): a request it never wrote (nothingWrittenError; the pool's bodies are
 * strings, as rewindable as a GetBody), or an idempotent one without a body (isReplayable: GET
 * here) when the server closed before the first byte of a response (errServerClosedIdle, or a
 * failed read before any answer). A POST whose body went out is not sent twice.
 */
function mayRetry(error: RoundTripError, method: 'GET' | 'POST'): boolean {
  if (error.written === false) return true;
  return error.answered === false && method === 'GET';
}

/** Writes one request and reads its response; the connection is reusable when the response was delimited. */
function roundTrip(socket: tls.TLSSocket, request: string): Promise<{ response: GoResponse; reusable: boolean }> {
  socket.ref();
  return new Promise((resolve, reject) => {
    let received: Buffer = Buffer.alloc(0);
    const written = socket.writable && !socket.readableEnded && !socket.destroyed;
    const settle = (result: Error | { response: GoResponse; reusable: boolean }) => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onClose);
      socket.off('error', onError);
      if (result instanceof Error) reject(Object.assign(result, { written, answered: received.length > 0 }));
      else resolve(result);
    };
    const finish = (ended: boolean): boolean => {
      const parsed = parse(received, ended);
      if (parsed === undefined) return false;
      if (parsed instanceof Error) settle(parsed);
      else {
        const headers = headersOf(received);
        settle({ response: { status: parsed.status, headers, body: parsed.body }, reusable: !ended && headers.connection !== 'close' });
      }
      return true;
    };
    const onData = (chunk: Buffer) => {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      finish(false);
    };
    const onEnd = () => {
      // Closed before a byte of an answer: net/http's io.EOF.
      if (received.length === 0 || !finish(true)) settle(Object.assign(new Error('EOF'), { code: 'ECONNRESET' }));
    };
    const onClose = () => onEnd();
    const onError = (error: Error) => settle(error);
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onClose);
    socket.once('error', onError);
    // Already closed by the server (its FIN read, the pool not yet told): nothing goes out.
    if (!written) return settle(Object.assign(new Error('EOF'), { code: 'ECONNRESET' }));
    socket.write(request);
  });
}

/** The response's header fields, names lowercased, repeated ones joined as node:http joins them. */
function headersOf(data: Buffer): http.IncomingHttpHeaders {
  const headers: Record<string, string> = {};
  const head = data.subarray(0, data.indexOf('\r\n\r\n')).toString('latin1').split('\r\n');
  for (let i = 1; i < head.length; i++) {
    const line = head[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return headers;
}

/** Names already canonicalised: Fleet Server sends the same two or three on every call. */
const canonicalNames = new Map<string, string>();

/** Go's CanonicalMIMEHeaderKey: each dash-separated word capitalised. */
function canonical(name: string): string {
  let known = canonicalNames.get(name);
  if (known === undefined) {
    known = name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
    if (canonicalNames.size > 100) canonicalNames.clear();
    canonicalNames.set(name, known);
  }
  return known;
}
