import http from 'node:http';
import type net from 'node:net';
import type { ClientConnection } from './client-connection.js';

/** What a Go client's request needs at the HTTP layer, once a connection is open. */
export interface HttpRequestParts {
  readonly method: 'GET' | 'POST';
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly timeoutMs?: number;
}

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
}

/** One HTTP/1.1 request over a socket the caller opened (or an agent holding one). Rejects with Node's error. */
export function httpExchange(request: HttpRequestParts, url: URL, via: { socket: net.Socket } | { agent: http.Agent }): Promise<GoResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      method: request.method,
      host: url.hostname,
      port: url.port,
      path: `${url.pathname}${url.search}`,
      headers: { ...(request.body ? { 'content-type': 'application/json' } : {}), ...request.headers },
      // Without `agent`, Node uses createConnection (with `agent: false` it would dial the URL itself).
      ...('agent' in via ? { agent: via.agent } : { createConnection: () => via.socket }),
      timeout: request.timeoutMs ?? 10_000,
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('context deadline exceeded'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.on('response', (res) => {
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
