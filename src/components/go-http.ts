import http from 'node:http';
import type net from 'node:net';
import type { ClientConnection } from './client-connection.js';
import type { ProxyHop } from './proxy/proxy-dialer.js';

/** What a Go client's request needs at the HTTP layer, once a connection is open. */
export interface HttpRequestParts {
  readonly method: 'GET' | 'POST';
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly timeoutMs?: number;
  /**
   * Go's own limit on waiting for the response headers: http.Client.Timeout (the agent, Beats) or
   * Transport.ResponseHeaderTimeout (Fleet Server towards Elasticsearch). When it passes, the
   * request fails with its Go text (see go-errors.ts, GO_DEADLINE).
   */
  readonly deadline?: GoDeadline;
  /** The request target instead of the URL's path: the absolute URL when a plain request goes to an HTTP proxy. */
  readonly requestTarget?: string;
}

/** A Go client's limit on waiting for an answer, and the error text Go gives when it passes. */
export interface GoDeadline {
  readonly ms: number;
  readonly error: string;
  /**
   * When the clock starts, if not at once: the handshake's end. A scenario lowers the timeout to a
   * few tens of milliseconds, and a loaded machine's handshake must not eat into them (on a real
   * network the handshake is a small part of a timeout of seconds or minutes).
   */
  readonly after?: Promise<void>;
}

/** The code of the error a passed {@link GoDeadline} destroys the request with. */
export const GO_DEADLINE = 'FTH_GO_DEADLINE';

export interface GoResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** One request and what came of it: a response, or Go's error text, and the connection it used. */
export interface GoExchange {
  readonly response?: GoResponse;
  /** Go's error text, as the caller sees it after unwrapping `*url.Error`. */
  readonly error?: string;
  readonly connection: ClientConnection;
  /** The client's own deadline ({@link GoDeadline}) passed before an answer came. */
  readonly timedOut?: boolean;
  /** What the client saw of its proxy, when it used one (proxy/proxy-dialer.ts). */
  readonly proxy?: ProxyHop;
}

/** One HTTP/1.1 request over a socket the caller opened (or an agent holding one). Rejects with Node's error. */
export function httpExchange(request: HttpRequestParts, url: URL, via: { socket: net.Socket } | { agent: http.Agent }): Promise<GoResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      method: request.method,
      host: url.hostname,
      port: url.port,
      path: request.requestTarget ?? `${url.pathname}${url.search}`,
      headers: { ...(request.body ? { 'content-type': 'application/json' } : {}), ...request.headers },
      // Without `agent`, Node uses createConnection (with `agent: false` it would dial the URL itself).
      ...('agent' in via ? { agent: via.agent } : { createConnection: () => via.socket }),
      timeout: request.timeoutMs ?? 10_000,
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('context deadline exceeded'), { code: 'ETIMEDOUT' })));
    const deadline = request.deadline;
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    void (deadline?.after ?? Promise.resolve()).then(() => {
      if (deadline && !settled) timer = setTimeout(() => req.destroy(Object.assign(new Error(deadline.error), { code: GO_DEADLINE })), deadline.ms);
    });
    const settle = () => {
      settled = true;
      clearTimeout(timer);
    };
    req.on('error', (error) => {
      settle();
      reject(error);
    });
    req.on('response', (res) => {
      settle();
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.end(request.body);
  });
}

/** Whether the server lets the connection be reused (Go's transport honours `Connection: close`). */
export function keepsAlive(response: GoResponse): boolean {
  return !/\bclose\b/i.test(String(response.headers.connection ?? ''));
}
