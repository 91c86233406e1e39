/**
 * squid with ssl-bump: CONNECT, a certificate minted for the host from its own root, then the real
 * server dialled and judged with squid's checks and log lines. (Over 250 lines: one CONNECT's
 * life, from the request line to the relayed answer or squid's error page, is one sequence.)
 */
import net from 'node:net';
import tls from 'node:tls';
import { ComponentLog } from '../log.js';
import type { Identity } from '../../tls/material.js';
import { sharedContext } from '../../tls/shared-context.js';
import type { Cert } from '../../x509/certificate.js';
import { DEFAULT_VERSIONS, NODE_VERSION, type VersionRange } from '../../tls/settings.js';
import { carriesBasic, hostPort } from './proxy-url.js';
import { Descriptors, ProxyListener, type Resolve } from './proxy-listener.js';
import { CertificateMinter, generatedRoot, GENERATED_ROOT_NAME } from './mint.js';

export { GENERATED_ROOT_NAME };
import { acceptFailureLine, accessLine, errorAnswer } from './squid-words.js';
import { dialUpstreamTls, type UpstreamHandshake } from './intercept-upstream.js';
import { firstRequestLine, relay, streamOf } from './bumped-connection.js';

export type { UpstreamHandshake };

/** How {@link FakeInterceptingProxy} listens, which root it signs with and how it checks the real servers. */
export interface InterceptingProxyOptions {
  /** The proxy's root CA with its key (squid's `http_port ... ssl-bump tls-cert= tls-key=`); absent: one it makes ({@link GENERATED_ROOT_NAME}). */
  readonly root?: Identity;
  /** CAs it verifies upstream servers with (`tls_outgoing_options cafile=`); absent: the system's roots. */
  readonly upstreamAuthorities?: readonly Cert[];
  /** A client certificate it presents upstream (`tls_outgoing_options cert= key=`); absent: none. */
  readonly upstreamIdentity?: Identity;
  /**
   * The only ports CONNECT may reach (squid's default `acl SSL_ports port 443` with `http_access deny
   * CONNECT !SSL_ports`); others are bumped anyway and their first request gets 403 ERR_ACCESS_DENIED
   * (no authentication is asked, no server contacted). Absent: every port.
   */
  readonly connectPorts?: readonly number[];
  /** Basic credentials it demands (`auth_param basic`); others get 407. */
  readonly auth?: { readonly username: string; readonly password: string };
  /** The TLS versions it accepts from clients (default 1.2 and 1.3, OpenSSL's range in squid). */
  readonly versions?: VersionRange;
  readonly host?: string;
  readonly port?: number;
  /** Where a requested host really is (the fakes listen on loopback ports). */
  readonly resolve?: Resolve;
  readonly log?: ComponentLog;
}

/** What the proxy did with one client's CONNECT: the certificate it minted and its own handshake upstream. */
export interface Interception {
  /** The client's port toward the proxy (ties the record to the client's connection). */
  readonly clientPort: number;
  readonly target: string;
  minted?: Cert;
  upstream?: UpstreamHandshake;
  /** The client finished its handshake with the minted certificate. */
  clientAccepted?: boolean;
}

/**
 * A TLS-intercepting corporate proxy that behaves and logs as squid 5.7 with `ssl_bump peek step1`
 * and `ssl_bump bump all` (Debian's squid-openssl): it answers CONNECT with 200, opens its own TLS
 * to the requested server first, then completes the client's handshake with a certificate it mints
 * for that host, signed by its root, and relays the requests. When its own handshake upstream
 * failed (an untrusted server, a server that wanted a client certificate) the client still gets
 * the minted certificate and then a 503 ERR_SECURE_CONNECT_FAIL answer to its request.
 */
export class FakeInterceptingProxy implements AsyncDisposable {
  readonly log: ComponentLog;
  private readonly minter: CertificateMinter;
  private readonly fds = new Descriptors(12);
  private readonly records = new Map<number, Interception>();
  private readonly finished = new Map<number, () => void>();
  private readonly done = new Map<number, Promise<void>>();
  private readonly verdicts = new Map<number, Promise<void>>();
  private connections = 0;

  private constructor(private readonly listener: ProxyListener, private readonly options: InterceptingProxyOptions, log: ComponentLog) {
    this.log = log;
    this.minter = new CertificateMinter(options.root ?? generatedRoot());
  }

  /** Listens (127.0.0.1, a free port unless given) and resolves once ready. */
  static async start(options: InterceptingProxyOptions): Promise<FakeInterceptingProxy> {
    const log = options.log ?? new ComponentLog('proxy');
    let proxy: FakeInterceptingProxy | undefined;
    const listener = await ProxyListener.start('proxy', options.host ?? '127.0.0.1', options.port ?? 0, (socket) => proxy!.accept(socket));
    proxy = new FakeInterceptingProxy(listener, options, log);
    return proxy;
  }

  get port(): number {
    return this.listener.port;
  }

  get url(): string {
    return `http://${hostPort(this.options.host ?? '127.0.0.1', this.port)}`;
  }

  /** The root the minted certificates chain to. */
  get root(): Cert {
    return this.minter.rootCertificate;
  }

  /** What the proxy did for the client whose port toward it is `clientPort`. */
  interception(clientPort: number | undefined): Interception | undefined {
    return clientPort === undefined ? undefined : this.records.get(clientPort);
  }

  /**
   * Resolves once the proxy has written every line about the client whose port toward it is
   * `clientPort` (a refused handshake is noticed after the client has already given up).
   */
  async settled(clientPort: number | undefined, timeoutMs = 2_000): Promise<void> {
    const done = clientPort === undefined ? undefined : this.done.get(clientPort);
    if (!done) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([done, new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs); })]);
    clearTimeout(timer);
  }

  /**
   * Resolves once the server has had its say on the proxy's own handshake for the client whose
   * port toward it is `clientPort`: at once under TLS 1.2, else at the server's session ticket,
   * alert or close (at most 2 s). A client's timeout counts from here: on a real network a
   * timeout of minutes always outlasts that, while a scenario's timeout of a few milliseconds
   * on a loaded machine might not.
   */
  upstreamVerdict(clientPort: number | undefined): Promise<void> {
    return (clientPort === undefined ? undefined : this.verdicts.get(clientPort)) ?? Promise.resolve();
  }

  /** Stops listening and ends every connection. */
  async close(): Promise<void> {
    await this.listener.close();
  }

  /** `await using`: the same as {@link FakeInterceptingProxy.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private write(kind: 'access' | 'cache', message: string, clientPort: number | undefined): void {
    this.log.write(kind === 'cache' ? 'error' : 'info', message, { squid: kind, ...(clientPort ? { clientPort } : {}) });
  }

  private accept(client: net.Socket): void {
    const started = performance.now();
    const fd = this.fds.take();
    const id = ++this.connections;
    client.once('close', () => this.fds.free(fd));
    const clientAddr = (client.remoteAddress ?? '').replace(/^::ffff:/, '');
    const clientPort = client.remotePort ?? 0;
    const local = `${(client.localAddress ?? '').replace(/^::ffff:/, '')}:${client.localPort}`;
    let buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0 && buffer.length < 16_384) return;
      client.off('data', onData);
      client.pause();
      if (end >= 0 && buffer.length > end + 4) client.unshift(buffer.subarray(end + 4));
      const head = buffer.subarray(0, Math.max(end, 0)).toString('latin1');
      // Nothing a client sends may reject into the event loop: whatever slipped through ends its connection only.
      this.connect(client, head, { started, fd, id, clientAddr, clientPort, local }).catch(() => client.destroy());
    };
    client.on('data', onData);
  }

  private async connect(client: net.Socket, head: string, c: { started: number; fd: number; id: number; clientAddr: string; clientPort: number; local: string }): Promise<void> {
    const [line = '', ...headerLines] = head.split('\r\n');
    const [method = '', target = ''] = line.split(' ');
    const where = /^\[?([^\]]*?)\]?:(\d{1,5})$/.exec(target);
    const access = (status: number, result: 'NONE_NONE' | 'TCP_DENIED', bytes: number, peer?: string, type?: string, request?: { method: string; url: string }) =>
      this.write('access', accessLine({
        elapsedMs: performance.now() - c.started, client: c.clientAddr, result, status, bytes, method: request?.method ?? (method || 'NONE'), url: request?.url ?? (target || '-'),
        ...(peer ? { peer } : {}), ...(type ? { contentType: type } : {}),
      }), c.clientPort);
    if (method !== 'CONNECT' || !where || Number(where[2]) > 65535) {
      const answer = errorAnswer(400, 'ERR_INVALID_REQ 0', { url: target, message: 'Invalid Request' });
      access(400, 'NONE_NONE', answer.head.length + answer.body.length, undefined, 'text/html');
      return void client.end(answer.head + answer.body);
    }
    // squid with ssl-bump denies a CONNECT its http_access refuses (squid's default: ports outside
    // SSL_ports) only after bumping it: 200, then its 403 over the bumped connection (observed with squid 5.7).
    const denied = this.options.connectPorts !== undefined && !this.options.connectPorts.includes(Number(where[2]));
    if (!denied && this.options.auth && !this.authorized(headerLines)) {
      const answer = errorAnswer(407, 'ERR_CACHE_ACCESS_DENIED 0', { url: target, message: 'Cache Access Denied' });
      access(407, 'TCP_DENIED', answer.head.length + answer.body.length, undefined, 'text/html');
      return void client.end(answer.head + answer.body);
    }
    const host = where[1]!;
    const port = Number(where[2]);
    const record: Interception = { clientPort: c.clientPort, target };
    this.records.set(c.clientPort, record);
    // A long-running proxy (serve) keeps the last thousand records, enough for any report.
    if (this.records.size > 1_000) {
      const oldest = this.records.keys().next().value!;
      this.records.delete(oldest);
      this.done.delete(oldest);
      this.finished.delete(oldest);
      this.verdicts.delete(oldest);
    }
    this.done.set(c.clientPort, new Promise<void>((resolve) => this.finished.set(c.clientPort, resolve)));
    const finish = () => this.finished.get(c.clientPort)?.();
    client.once('close', finish);
    client.write('HTTP/1.1 200 Connection established\r\n\r\n');
    // Peek at step 1 learns the SNI; Go sends none for an IP, and squid then goes no further upstream.
    const dialling = net.isIP(host) || denied ? undefined : dialUpstreamTls(this.options.resolve?.(host, port) ?? { host, port }, host, this.options);
    if (dialling) this.verdicts.set(c.clientPort, dialling.then((dialled) => dialled.verdict));
    const upstream = await dialling;
    this.listener.track(upstream?.socket ?? client);
    record.upstream = upstream?.record;
    // squid names the server on the CONNECT line only when its handshake with it succeeded.
    access(200, denied ? 'TCP_DENIED' : 'NONE_NONE', 0, upstream?.record.ok ? upstream.record.peer : undefined);
    const minted = this.minter.mint(host, upstream?.record.ok ? upstream.record.serverChain[0] : undefined);
    record.minted = minted.cert;
    const versions = this.options.versions ?? DEFAULT_VERSIONS;
    const secure = new tls.TLSSocket(streamOf(client), {
      isServer: true,
      secureContext: sharedContext({ cert: minted.chainPem, key: minted.keyPem, minVersion: NODE_VERSION[versions.min], maxVersion: NODE_VERSION[versions.max] }),
    });
    const handshake = await new Promise<boolean>((resolve) => {
      secure.once('secure', () => resolve(true));
      secure.once('error', () => resolve(false));
      secure.once('close', () => resolve(false));
    });
    secure.on('error', () => {});
    if (!handshake) {
      upstream?.socket?.destroy();
      // squid prints its error detail's address; a fixed one per connection keeps reports comparable.
      this.write('cache', acceptFailureLine({ id: c.id, local: c.local, remote: `${c.clientAddr}:${c.clientPort}`, fd: c.fd, detail: `0x${(0x5601eef17900 + c.id * 0x40).toString(16)}` }), c.clientPort);
      finish();
      return void client.destroy();
    }
    record.clientAccepted = true;
    const url = (path: string) => `https://${target}${path}`;
    // Observed with squid 5.7 under TLS 1.3 (test/integration/intercepting-proxy-squid.test.ts): when the
    // server refuses squid after squid's handshake is done (no client certificate), squid never answers
    // the client, which waits until its own timeout; squid logs the transaction when the client gives up.
    const leaveWaiting = () => {
      const gaveUp = () => {
        this.write('access', accessLine({ elapsedMs: 0, client: c.clientAddr, result: 'NONE_NONE', status: 0, bytes: 0, method: '-', url: 'error:transaction-end-before-headers' }), c.clientPort);
        finish();
      };
      if (client.destroyed) return gaveUp();
      secure.resume();
      client.once('close', gaveUp);
    };
    if (upstream?.record.afterHandshake) return leaveWaiting();
    // An upstream that closed without an alert while the client's handshake went on has nothing to relay to.
    const upstreamSocket = upstream?.record.ok && !upstream.socket?.destroyed ? upstream.socket : undefined;
    if (!upstream || !upstreamSocket) {
      // The error is served over the bumped connection, in answer to the client's first request.
      const request = await firstRequestLine(secure);
      if (!request) return void secure.destroy();
      const refused = upstream?.record.refused === true;
      const status = denied ? 403 : 503;
      const answer = denied ? errorAnswer(403, 'ERR_ACCESS_DENIED 0', { url: url(request.path), message: 'Access Denied' }) : errorAnswer(503, refused ? 'ERR_CONNECT_FAIL 111' : 'ERR_SECURE_CONNECT_FAIL 0', {
        url: url(request.path), message: refused ? 'Connection refused' : `Failed to establish a secure connection to ${host}`,
      });
      access(status, 'NONE_NONE', answer.head.length + answer.body.length, undefined, 'text/html', { method: request.method, url: url(request.path) });
      finish();
      upstream?.socket?.end();
      return void secure.end(answer.head + answer.body);
    }
    relay(secure, upstreamSocket, (request, response) => {
      this.write('access', accessLine({
        elapsedMs: performance.now() - c.started, client: c.clientAddr, result: 'TCP_MISS', status: response.status, bytes: response.bytes,
        method: request.method, url: url(request.path), peer: upstream.record.peer, ...(response.type ? { contentType: response.type } : {}),
      }), c.clientPort);
      finish();
    }, (request) => {
      if (upstream.record.afterHandshake) return leaveWaiting();
      const answer = errorAnswer(503, 'ERR_SECURE_CONNECT_FAIL 0', { url: url(request?.path ?? '/'), message: `Failed to establish a secure connection to ${host}` });
      access(503, 'NONE_NONE', answer.head.length + answer.body.length, undefined, 'text/html', { method: request?.method ?? 'NONE', url: url(request?.path ?? '/') });
      finish();
      secure.end(answer.head + answer.body);
    });
  }

  private authorized(headerLines: readonly string[]): boolean {
    return carriesBasic(headerLines.find((h) => /^proxy-authorization:/i.test(h))?.replace(/^[^:]*:\s*/, ''), this.options.auth!);
  }
}
