/**
 * The fake nginx in front of Fleet Server or Elasticsearch: TLS in front, proxy_pass behind, its
 * pages and error and access log lines. (Over 250 lines: the options mirror nginx's directives one
 * by one; the front, the upstream and nginx's words are in secure-front.ts, secure-upstream.ts and
 * nginx-words.ts.)
 */
import http from 'node:http';
import { ComponentLog } from '../log.js';
import type { Identity } from '../../tls/material.js';
import type { Cert } from '../../x509/certificate.js';
import { only, type ClientAuthentication, type VersionRange } from '../../tls/settings.js';
import { acceptFront, frontContext, judgeRequest, type FrontConnection, type FrontSettings } from './secure-front.js';
import { callUpstream, type UpstreamCall, type UpstreamSettings } from './secure-upstream.js';
import { accessLine, errorPage, requestContext, type AccessRecord } from './nginx-words.js';
import { ProxyListener } from './proxy-listener.js';
import { settledConnection } from '../connection-wait.js';

export interface SecureProxyOptions {
  /** ssl_certificate / ssl_certificate_key. */
  readonly identity: Identity;
  /** ssl_verify_client off | optional | on, with ssl_client_certificate. */
  readonly clientAuthentication?: ClientAuthentication;
  readonly clientCertificateAuthorities?: readonly Cert[];
  /** proxy_pass: `https://host:port` or `http://host:port` (Fleet Server with --fleet-server-insecure-http). */
  readonly upstream: string;
  /** Where the upstream really listens, when `upstream` names a host of the customer's network. */
  readonly upstreamConnectTo?: { readonly host: string; readonly port: number };
  /** proxy_ssl_verify on with proxy_ssl_trusted_certificate; absent: off, nginx's default. */
  readonly upstreamAuthorities?: readonly Cert[];
  /** proxy_ssl_name (default: the upstream's host). */
  readonly upstreamName?: string;
  /** proxy_ssl_certificate / proxy_ssl_certificate_key. */
  readonly upstreamCertificate?: Identity;
  /** proxy_ssl_protocols (default TLS 1.2 only: see NGINX_1_22_VERSIONS). */
  readonly upstreamVersions?: VersionRange;
  readonly host?: string;
  readonly port?: number;
  /** ssl_protocols (default TLS 1.2 only: see NGINX_1_22_VERSIONS). */
  readonly versions?: VersionRange;
  readonly log?: ComponentLog;
  /** How many of the latest calls {@link FakeSecureProxy.calls} keeps (default 1000): a long `serve` forgets the oldest. */
  readonly keepCalls?: number;
}

/**
 * nginx 1.22's compiled-in ssl_protocols and proxy_ssl_protocols are TLSv1 TLSv1.1 TLSv1.2
 * (TLSv1.3 became a default in 1.23.4), and OpenSSL 3's security level refuses the two older
 * ones: TLS 1.2 only, front and upstream, unless configured (Debian's stock nginx.conf adds
 * TLSv1.3 to ssl_protocols, not to proxy_ssl_protocols). Confirmed against Debian's nginx-light in
 * test/integration/secure-proxy-nginx.test.ts.
 */
export const NGINX_1_22_VERSIONS: VersionRange = only('1.2');

/** A request the proxy passed upstream, with the front connection it came in on. */
export interface ProxiedCall extends UpstreamCall {
  /** The client's port on the front connection. */
  readonly clientPort: number;
  /** nginx's error-log line about it, with the request's context. */
  readonly line?: string;
}

/**
 * A TLS-terminating reverse proxy (Elastic's "secure proxy", a load balancer) that behaves and
 * logs as nginx does. It composes the two taps, as Go's crypto/tls splits the roles: a server
 * tap towards its clients (secure-front.ts) and a client tap towards Fleet Server or
 * Elasticsearch (secure-upstream.ts), so both legs carry what crossed the wire. The handshake
 * succeeds whatever client certificate comes, and the verdict is an HTTP 400 page with an
 * error-log line; an upstream it cannot reach, verify or satisfy is a 502. Lines are the error
 * log's words after `*N ` (the connection number is in `fields.connection`).
 */
export class FakeSecureProxy implements AsyncDisposable {
  readonly log: ComponentLog;
  /**
   * The latest requests passed (or refused) upstream, oldest first: at most
   * {@link SecureProxyOptions.keepCalls}, so an index into it shifts once the oldest are dropped.
   * To take the calls since a moment, note {@link FakeSecureProxy.callCount} then and pass it to
   * {@link FakeSecureProxy.callsSince}.
   */
  readonly calls: ProxiedCall[] = [];
  /** Calls dropped from the front of `calls` to keep it bounded. */
  private dropped = 0;
  private readonly connections = new Map<number, FrontConnection>();
  private readonly waiters = new Map<number, (connection: FrontConnection) => void>();
  /** The TLS socket over a tap has no addresses of its own: its request finds its connection here. */
  private readonly bySocket = new WeakMap<object, FrontConnection>();
  private numbers = 0;

  private constructor(
    private readonly listener: ProxyListener,
    private readonly options: SecureProxyOptions,
    private readonly front: FrontSettings,
    private readonly upstream: UpstreamSettings,
    log: ComponentLog,
  ) {
    this.log = log;
  }

  static async start(options: SecureProxyOptions): Promise<FakeSecureProxy> {
    const log = options.log ?? new ComponentLog('proxy');
    const front: FrontSettings = {
      identity: options.identity,
      clientAuthentication: options.clientAuthentication ?? 'none',
      clientCertificateAuthorities: options.clientCertificateAuthorities ?? [],
      versions: options.versions ?? NGINX_1_22_VERSIONS,
    };
    const upstream: UpstreamSettings = {
      url: options.upstream,
      ...(options.upstreamConnectTo ? { connectTo: options.upstreamConnectTo } : {}),
      ...(options.upstreamAuthorities ? { authorities: options.upstreamAuthorities } : {}),
      ...(options.upstreamName ? { name: options.upstreamName } : {}),
      ...(options.upstreamCertificate ? { certificate: options.upstreamCertificate } : {}),
      versions: options.upstreamVersions ?? NGINX_1_22_VERSIONS,
    };
    // Built before listening: a key that does not fit leaves no open port behind.
    const context = frontContext(front);
    let proxy: FakeSecureProxy | undefined;
    // nginx's keepalive_timeout (75 s) and client_header_timeout (60 s).
    const server = http.createServer({ keepAliveTimeout: 75_000, headersTimeout: 60_000, requestTimeout: 0 }, (req, res) => {
      // Whatever a client's request makes throw here ends its connection, never the proxy.
      proxy!.handle(req, res).catch(() => res.destroy());
    });
    const listener = await ProxyListener.start('proxy', options.host ?? '127.0.0.1', options.port ?? 0, (raw) => {
      const connection = acceptFront(raw, front, context, {
        log: (c, level, line) => proxy!.write(c, level, line),
        serve: (socket, c) => {
          proxy!.bySocket.set(socket, c);
          server.emit('connection', socket);
        },
        listenAddress: () => `${options.host ?? '127.0.0.1'}:${proxy!.port}`,
        access: (c, record) => proxy!.access(c, record),
      });
      proxy!.track(connection);
    });
    proxy = new FakeSecureProxy(listener, options, front, upstream, log);
    return proxy;
  }

  get port(): number {
    return this.listener.port;
  }

  get url(): string {
    return `https://${this.options.host ?? '127.0.0.1'}:${this.port}`;
  }

  /** Where a client on this machine connects. */
  get endpoint(): { host: string; port: number } {
    return { host: this.options.host ?? '127.0.0.1', port: this.port };
  }

  /** The front connection whose client used `localPort`, once its handshake settled (bounded wait). */
  async connection(localPort: number | undefined, timeoutMs = 2_000): Promise<FrontConnection | undefined> {
    if (localPort === undefined) return undefined;
    return settledConnection(this.connections, this.waiters, localPort, timeoutMs);
  }

  /** How many calls the proxy has made since it started, dropped ones included: a mark for {@link FakeSecureProxy.callsSince}. */
  get callCount(): number {
    return this.dropped + this.calls.length;
  }

  /**
   * The calls made after `mark` (an earlier {@link FakeSecureProxy.callCount}), oldest first. Those
   * the bound has already dropped are gone: the result then starts at the oldest kept.
   */
  callsSince(mark: number): ProxiedCall[] {
    return this.calls.slice(Math.max(0, mark - this.dropped));
  }

  /** The calls made for requests that came in from the client port `clientPort`. */
  callsFrom(clientPort: number | undefined): ProxiedCall[] {
    return this.calls.filter((call) => call.clientPort === clientPort);
  }

  async close(): Promise<void> {
    for (const connection of this.connections.values()) connection.tap.destroy();
    await this.listener.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private track(connection: FrontConnection): void {
    connection.number = ++this.numbers;
    this.connections.set(connection.remotePort, connection);
    this.waiters.get(connection.remotePort)?.(connection);
    // Keep recent connections for leg reports without growing forever under load.
    if (this.connections.size > 1_000) this.connections.delete(this.connections.keys().next().value!);
  }

  /** A line about `connection`; `front` lines (its handshake, its certificate) are its leg's, upstream ones the next leg's. */
  private write(connection: FrontConnection, level: 'info' | 'error' | 'crit', line: string, front = true): void {
    if (front) {
      connection.logLine ??= line;
      connection.tap.timeline.log('server', 'proxy', line);
    }
    this.log.write(level === 'crit' ? 'error' : level, line, { connection: connection.number, clientPort: connection.remotePort, ...(level === 'crit' ? { nginxLevel: 'crit' } : {}) });
  }

  /**
   * A request's line in the access log, which nginx writes for every request it answers (a refusal
   * and a 502 included), after the error log's line about it. `fields.nginxLog` tells it from those.
   */
  private access(connection: FrontConnection, record: Omit<AccessRecord, 'client'>): void {
    this.log.write('info', accessLine({ client: connection.remoteAddress, ...record }), { clientPort: connection.remotePort, nginxLog: 'access' });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const connection = this.bySocket.get(req.socket);
    if (!connection) throw new Error('a request on a connection the proxy did not accept');
    const context = { client: connection.remoteAddress, method: req.method ?? 'GET', path: req.url ?? '/', host: req.headers.host ?? '' };
    // $body_bytes_sent: nothing of the body goes out for HEAD.
    const logged = (status: number, body: number) => this.access(connection, {
      request: `${context.method} ${context.path} HTTP/${req.httpVersion}`, status, bytes: req.method === 'HEAD' ? 0 : body, headers: req.headers,
    });
    const page = (status: 400 | 502, reason?: string) => {
      const body = errorPage(status, reason);
      res.writeHead(status, { server: 'nginx/1.22.1', 'content-type': 'text/html', 'content-length': Buffer.byteLength(body), ...(status === 400 ? { connection: 'close' } : {}) });
      res.end(body);
      logged(status, Buffer.byteLength(body));
    };
    const refusal = judgeRequest(this.front, connection);
    if (refusal) {
      this.write(connection, 'info', refusal.line(requestContext(context)));
      return page(400, refusal.reason);
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const call = await callUpstream(this.upstream, { method: context.method, path: context.path, headers: req.headers, body: Buffer.concat(chunks) });
    const line = call.failure ? `${call.failure.text}, ${requestContext({ ...context, upstream: call.url })}` : undefined;
    this.calls.push({ ...call, clientPort: connection.remotePort, ...(line ? { line } : {}) });
    const keep = Math.max(1, this.options.keepCalls ?? 1_000);
    if (this.calls.length > keep) this.dropped += this.calls.splice(0, this.calls.length - keep).length;
    if (call.failure || !call.exchange.response) {
      if (line && call.failure) this.write(connection, call.failure.level, line, false);
      return page(502);
    }
    const answer = call.exchange.response;
    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(answer.headers)) {
      if (!['connection', 'keep-alive', 'transfer-encoding', 'server', 'date'].includes(name) && value !== undefined) headers[name] = value;
    }
    res.writeHead(answer.status, { server: 'nginx/1.22.1', ...headers });
    res.end(call.body);
    logged(answer.status, sentBytes(call.body?.length ?? 0, headers, answer.status, req.httpVersion));
  }
}

/**
 * $body_bytes_sent of an answer passed on: an upstream answer without Content-Length goes to an
 * HTTP/1.1 client chunked (by nginx as by Node here), and nginx counts the chunk framing too
 * (real nginx: Go's 48-byte HTTP/1.0 400 page is logged as 59 bytes).
 */
function sentBytes(length: number, headers: http.OutgoingHttpHeaders, status: number, httpVersion: string): number {
  const chunked = headers['content-length'] === undefined && httpVersion === '1.1' && status !== 204 && status !== 304;
  if (!chunked) return length;
  return (length > 0 ? length.toString(16).length + 2 + length + 2 : 0) + '0\r\n\r\n'.length;
}
