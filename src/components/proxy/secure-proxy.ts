import { NODE_VERSION, type VersionRange } from '../../tls/settings.js';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { ComponentLog } from '../log.js';
import type { Identity } from '../../tls/material.js';
import type { Cert } from '../../x509/certificate.js';
import type { ClientAuthentication } from '../../tls/settings.js';
import { HarnessError, systemErrorCode } from '../../errors.js';
import { CERTIFICATE_ERROR, NO_CERTIFICATE, errorPage, requestContext, verifyError } from './nginx-words.js';

export interface SecureProxyOptions {
  /** ssl_certificate / ssl_certificate_key. */
  readonly identity: Identity;
  /** ssl_verify_client off | optional | on, with ssl_client_certificate. */
  readonly clientAuthentication?: ClientAuthentication;
  readonly clientCertificateAuthorities?: readonly Cert[];
  /** proxy_pass: `https://host:port` or `http://host:port` (Fleet Server with --fleet-server-insecure-http). */
  readonly upstream: string;
  /** proxy_ssl_verify on with proxy_ssl_trusted_certificate; absent: off, nginx's default. */
  readonly upstreamAuthorities?: readonly Cert[];
  /** proxy_ssl_name (default: the upstream's host). */
  readonly upstreamName?: string;
  /** proxy_ssl_certificate / proxy_ssl_certificate_key. */
  readonly upstreamCertificate?: Identity;
  readonly host?: string;
  readonly port?: number;
  /** ssl_protocols (nginx's default: TLSv1.2 TLSv1.3). */
  readonly versions?: VersionRange;
  readonly log?: ComponentLog;
}

/**
 * A TLS-terminating reverse proxy (Elastic's "secure proxy", a load balancer) that behaves and
 * logs as nginx does: the handshake succeeds whatever client certificate comes, and the verdict
 * is an HTTP 400 page with an error-log line; an upstream it cannot reach or verify is a 502.
 * Lines are the error log's words after `*N ` (the connection number is in `fields.connection`).
 */
export class FakeSecureProxy implements AsyncDisposable {
  readonly log: ComponentLog;
  private connections = 0;
  private readonly sockets = new Set<net.Socket>();

  private constructor(private readonly server: tls.Server, private readonly options: SecureProxyOptions, log: ComponentLog) {
    this.log = log;
  }

  static async start(options: SecureProxyOptions): Promise<FakeSecureProxy> {
    const log = options.log ?? new ComponentLog('proxy');
    const auth = options.clientAuthentication ?? 'none';
    const server = tls.createServer({
      cert: options.identity.certPem,
      key: options.identity.keyPem,
      requestCert: auth !== 'none',
      minVersion: NODE_VERSION[options.versions?.min ?? '1.2'],
      maxVersion: NODE_VERSION[options.versions?.max ?? '1.3'],
      // nginx's verify callback lets every handshake finish; the request is judged afterwards.
      rejectUnauthorized: false,
      ...(options.clientCertificateAuthorities?.length ? { ca: options.clientCertificateAuthorities.map((c) => c.pem) } : {}),
    });
    const proxy = new FakeSecureProxy(server, options, log);
    const front = http.createServer((req, res) => {
      // Whatever a client's request makes throw here ends its connection, never the proxy.
      try {
        proxy.handle(req, res);
      } catch {
        res.destroy();
      }
    });
    server.on('secureConnection', (socket) => {
      proxy.sockets.add(socket);
      socket.once('close', () => proxy.sockets.delete(socket));
      (socket as tls.TLSSocket & { fthConnection?: number }).fthConnection = ++proxy.connections;
      front.emit('connection', socket);
    });
    server.on('tlsClientError', (error, socket) => {
      const n = ++proxy.connections;
      const client = (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
      log.write('info', `client closed connection while SSL handshaking, client: ${client}, server: ${options.host ?? '127.0.0.1'}:${proxy.port}`, { connection: n, clientPort: socket.remotePort, node: error.message });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) => reject(systemErrorCode(error) === 'EADDRINUSE'
        ? new HarnessError('FTH_PORT_IN_USE', `proxy: port ${options.port} on ${options.host ?? '127.0.0.1'} is already in use`, { cause: error })
        : new HarnessError('FTH_LISTEN_FAILED', `proxy: cannot listen: ${(error as Error).message}`, { cause: error })));
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  get url(): string {
    return `https://${this.options.host ?? '127.0.0.1'}:${this.port}`;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const socket = req.socket as tls.TLSSocket & { fthConnection?: number };
    const fields = { connection: socket.fthConnection, clientPort: socket.remotePort };
    const context = { client: (socket.remoteAddress ?? '').replace(/^::ffff:/, ''), method: req.method ?? 'GET', path: req.url ?? '/', host: req.headers.host ?? '' };
    const page = (status: 400 | 502, reason?: string) => {
      const body = errorPage(status, reason);
      res.writeHead(status, { server: 'nginx/1.22.1', 'content-type': 'text/html', 'content-length': Buffer.byteLength(body), ...(status === 400 ? { connection: 'close' } : {}) });
      res.end(body);
    };
    const auth = this.options.clientAuthentication ?? 'none';
    if (auth !== 'none') {
      const peer = socket.getPeerCertificate();
      const presented = Boolean(peer && Object.keys(peer).length > 0);
      if (!presented && auth === 'required') {
        this.log.write('info', `client sent no required SSL certificate while reading client request headers, ${requestContext(context)}`, fields);
        return page(400, NO_CERTIFICATE);
      }
      if (presented && !socket.authorized) {
        const code = (socket.authorizationError as unknown as string | Error | null);
        const name = typeof code === 'string' ? code : (code as NodeJS.ErrnoException | null)?.code;
        this.log.write('info', `client SSL certificate verify error: ${verifyError(name)} while reading client request headers, ${requestContext(context)}`, fields);
        return page(400, CERTIFICATE_ERROR);
      }
    }
    const upstream = new URL(this.options.upstream);
    const upstreamUrl = `${upstream.protocol}//${upstream.host}${context.path}`;
    const secure = upstream.protocol === 'https:';
    const headers = { ...req.headers, host: upstream.host, connection: 'close' };
    const options: https.RequestOptions = {
      host: upstream.hostname.replace(/^\[|\]$/g, ''), port: Number(upstream.port || (secure ? 443 : 80)), method: context.method, path: context.path, headers, agent: false,
      ...(secure ? {
        servername: net.isIP(this.options.upstreamName ?? upstream.hostname) ? undefined : this.options.upstreamName ?? upstream.hostname,
        rejectUnauthorized: Boolean(this.options.upstreamAuthorities),
        ...(this.options.upstreamAuthorities ? { ca: this.options.upstreamAuthorities.map((c) => c.pem) } : {}),
        checkServerIdentity: (name: string, cert: tls.PeerCertificate) => tls.checkServerIdentity(this.options.upstreamName ?? name, cert),
        ...(this.options.upstreamCertificate ? { cert: this.options.upstreamCertificate.certPem, key: this.options.upstreamCertificate.keyPem } : {}),
      } : {}),
    };
    const forward = (secure ? https : http).request(options, (answer) => {
      res.writeHead(answer.statusCode ?? 502, { ...answer.headers, server: 'nginx/1.22.1' });
      answer.pipe(res);
    });
    forward.on('error', (error: NodeJS.ErrnoException) => {
      const where = `${requestContext({ ...context, upstream: upstreamUrl })}`;
      if (error.code === 'ECONNREFUSED') {
        this.log.write('error', `connect() failed (111: Connection refused) while connecting to upstream, ${where}`, fields);
      } else if (error.code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
        this.log.write('error', `upstream SSL certificate does not match "${this.options.upstreamName ?? upstream.hostname}" while SSL handshaking to upstream, ${where}`, fields);
      } else if (VERIFY_CODES.has(error.code ?? '')) {
        this.log.write('error', `upstream SSL certificate verify error: ${verifyError(error.code)} while SSL handshaking to upstream, ${where}`, fields);
      } else if (/alert number (\d+)/.test(error.message)) {
        const alert = /:([^:]*alert [^:]*):.*alert number (\d+)/.exec(error.message);
        this.log.write('error', `SSL_do_handshake() failed (SSL: error:${/error:([0-9A-F]+)/.exec(error.message)?.[1] ?? '0A000000'}:SSL routines::${alert?.[1] ?? 'alert'}:SSL alert number ${alert?.[2] ?? '?'}) while SSL handshaking to upstream, ${where}`, fields);
      } else {
        this.log.write('error', `upstream prematurely closed connection while reading response header from upstream, ${where}`, fields);
      }
      if (!res.headersSent) page(502);
      else res.destroy();
    });
    req.pipe(forward);
  }
}

const VERIFY_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT', 'CERT_NOT_YET_VALID', 'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'INVALID_PURPOSE', 'ERR_TLS_CERT_ALTNAME_INVALID',
]);
