/**
 * The fake tinyproxy: CONNECT tunnels and plain requests, directly or through an `Upstream`
 * parent, in its words and log. (Over 250 lines: one request's cycle, from the head through the
 * parent hop to the relayed answer, shares the class's descriptors and log; what it sends on and
 * how it rewrites an answer are in forward-proxy-upstream.ts.)
 */
import net from 'node:net';
import tls from 'node:tls';
import { ComponentLog } from '../log.js';
import type { Identity } from '../../tls/material.js';
import { carriesBasic, hostPort } from './proxy-url.js';
import { Descriptors, dialUpstream, ProxyListener, splice, type Resolve } from './proxy-listener.js';
import { answerHead, readAnswerHead, upstreamRequest, TINYPROXY_VERSION } from './forward-proxy-upstream.js';

/** How {@link FakeForwardProxy} listens, whom it lets through, and where it sends each CONNECT. */
export interface ForwardProxyOptions {
  /** `https`: clients reach the proxy itself over TLS (an `https://` proxy URL). */
  readonly scheme?: 'http' | 'https';
  readonly identity?: Identity;
  readonly host?: string;
  readonly port?: number;
  /** tinyproxy's BasicAuth: without a matching Proxy-Authorization the answer is 407. */
  readonly auth?: { readonly username: string; readonly password: string };
  /** tinyproxy's ConnectPort: CONNECT to any other port is refused with 403. Absent: every port. */
  readonly connectPorts?: readonly number[];
  /** Where a requested host really is (the fakes listen on loopback ports). */
  readonly resolve?: Resolve;
  /**
   * tinyproxy's `Upstream http HOST:PORT`: CONNECT and plain (absolute-form) requests go on through
   * this parent proxy. A parent it cannot reach gets the client a 502 "Unable to connect to
   * upstream proxy" (tinyproxy 1.11.1).
   */
  readonly parent?: { readonly host: string; readonly port: number };
  readonly log?: ComponentLog;
}

const VERSION = TINYPROXY_VERSION;

/**
 * A forward proxy that speaks and logs as tinyproxy 1.11 does (confirmed against Debian's
 * tinyproxy in test/integration/proxy-peers.test.ts): `CONNECT` tunnels, absolute-form requests
 * for plain HTTP, Basic authentication with a 407, ConnectPort refusals with a 403, and a 500
 * "Unable to connect" when the target refuses. Log lines are tinyproxy's words; its level
 * (CONNECT, INFO, ERROR) is in `fields.tinyproxy`.
 */
export class FakeForwardProxy implements AsyncDisposable {
  readonly log: ComponentLog;
  private readonly fds = new Descriptors(5);

  private constructor(private readonly listener: ProxyListener, private readonly options: ForwardProxyOptions, log: ComponentLog) {
    this.log = log;
  }

  /** Listens (127.0.0.1, a free port unless given) and resolves once ready. */
  static async start(options: ForwardProxyOptions = {}): Promise<FakeForwardProxy> {
    const log = options.log ?? new ComponentLog('proxy');
    const host = options.host ?? '127.0.0.1';
    let proxy: FakeForwardProxy | undefined;
    const context = options.scheme === 'https' && options.identity
      ? tls.createSecureContext({ cert: options.identity.certPem, key: options.identity.keyPem })
      : undefined;
    const listener = await ProxyListener.start('proxy', host, options.port ?? 0, (raw) => {
      if (!context) return void proxy!.serve(raw, raw);
      const secure = new tls.TLSSocket(raw, { isServer: true, secureContext: context });
      secure.on('error', () => raw.destroy());
      secure.once('secure', () => proxy!.serve(secure, raw));
    });
    proxy = new FakeForwardProxy(listener, options, log);
    return proxy;
  }

  get port(): number {
    return this.listener.port;
  }

  get url(): string {
    return `${this.options.scheme ?? 'http'}://${hostPort(this.options.host ?? '127.0.0.1', this.port)}`;
  }

  /** Stops listening and ends every tunnel. */
  async close(): Promise<void> {
    await this.listener.close();
  }

  /** `await using`: the same as {@link FakeForwardProxy.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** `clientPort` ties a line to the client's connection for the report (tinyproxy names only the fd). */
  private write(level: 'CONNECT' | 'INFO' | 'ERROR' | 'NOTICE' | 'WARNING', message: string, clientPort?: number): void {
    this.log.write(level === 'ERROR' ? 'error' : level === 'WARNING' ? 'warn' : 'info', message, { tinyproxy: level, ...(clientPort ? { clientPort } : {}) });
  }

  private serve(client: net.Socket, raw: net.Socket): void {
    const fd = this.fds.take();
    const port = raw.remotePort;
    client.once('close', () => this.fds.free(fd));
    client.on('error', () => {});
    this.write('CONNECT', `Connect (file descriptor ${fd}): ${(raw.remoteAddress ?? '').replace(/^::ffff:/, '')}`, port);
    let buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) {
        // A TLS ClientHello (an https:// proxy URL pointed at this plain proxy) or a SOCKS greeting
        // (socks5://) never ends a line as a request does, nor starts with a method's letter:
        // answer as squid does (tinyproxy itself waits for its Timeout, and the client with it).
        if (!/^[A-Za-z]/.test(String.fromCharCode(buffer[0]!)) || buffer.length > 16_384) {
          client.off('data', onData);
          this.write('ERROR', `Bad request (file descriptor ${fd}): error:invalid-request`, port);
          this.answer(client, 400, 'Bad Request', 'HTTP/1.1');
        }
        return;
      }
      client.off('data', onData);
      client.pause();
      // Nothing a client sends may reject into the event loop: whatever slipped through ends its connection only.
      this.request(client, fd, port, buffer.subarray(0, end).toString('latin1'), buffer.subarray(end + 4)).catch(() => client.destroy());
    };
    client.on('data', onData);
  }

  private async request(client: net.Socket, fd: number, port: number | undefined, head: string, rest: Buffer): Promise<void> {
    const [line = '', ...headerLines] = head.split('\r\n');
    const write = (level: 'CONNECT' | 'INFO' | 'ERROR' | 'WARNING', message: string) => this.write(level, message, port);
    const headers = new Map(headerLines.map((h) => [h.slice(0, h.indexOf(':')).trim().toLowerCase(), h.slice(h.indexOf(':') + 1).trim()]));
    write('CONNECT', `Request (file descriptor ${fd}): ${line}`);
    const [method = '', target = '', version = 'HTTP/1.0'] = line.split(' ');
    if (this.options.auth && !this.authorized(headers.get('proxy-authorization'))) {
      return this.answer(client, 407, 'Proxy Authentication Required', 'HTTP/1.0', ['Proxy-Authenticate: Basic realm="Tinyproxy"']);
    }
    const connect = method === 'CONNECT';
    const where = connect ? splitHostPort(target) : absolute(target);
    if (!where) return this.answer(client, 400, 'Bad Request', 'HTTP/1.1');
    if (connect && this.options.connectPorts && !this.options.connectPorts.includes(where.port)) {
      write('INFO', `Refused CONNECT method on port ${where.port}`);
      return this.answer(client, 403, 'Access violation', 'HTTP/1.1');
    }
    if (this.options.parent) return this.throughParent(client, fd, { method, version, headerLines, connect }, where, rest, write);
    write('INFO', `No upstream proxy for ${where.host}`);
    write('INFO', `opensock: opening connection to ${hostPort(where.host, where.port)}`);
    write('INFO', `opensock: getaddrinfo returned for ${hostPort(where.host, where.port)}`);
    // Host and port only: a `path` in net.connect's options would name a Unix socket.
    const upstream = await dialUpstream(this.options.resolve?.(where.host, where.port) ?? { host: where.host, port: where.port });
    if (!(upstream instanceof net.Socket)) {
      write('ERROR', `opensock: Could not establish a connection to ${hostPort(where.host, where.port)}`);
      return this.answer(client, 500, 'Unable to connect', 'HTTP/1.1');
    }
    this.listener.track(upstream);
    const upstreamFd = this.fds.take();
    upstream.once('close', () => this.fds.free(upstreamFd));
    write('CONNECT', `Established connection to host "${where.host}" using file descriptor ${upstreamFd}.`);
    if (connect) {
      write('INFO', 'Not sending client headers to remote machine');
      client.write(`HTTP/1.0 200 Connection established\r\nProxy-agent: ${VERSION}\r\n\r\n`);
    } else {
      upstream.write(upstreamRequest(method, where, version, headerLines, { viaParent: false, authConsumed: this.options.auth !== undefined }));
      if (rest.length) upstream.write(rest);
      // tinyproxy answers a plain request with the server's head rewritten (its Via added), then relays the rest.
      return this.relayAnswer(client, upstream, version, () => write('INFO', `Closed connection between local client (fd:${fd}) and remote client (fd:${upstreamFd})`));
    }
    if (rest.length) upstream.write(rest);
    // A client that left while the dial was under way finds the relay's first read at its end, as
    // tinyproxy's relay_connection does: both close at once with the usual line (tinyproxy 1.11.1).
    splice(client, upstream, () => write('INFO', `Closed connection between local client (fd:${fd}) and remote client (fd:${upstreamFd})`));
    client.resume();
  }

  /**
   * Everything on through the parent proxy, with tinyproxy's lines (recorded from tinyproxy 1.11.1
   * with an `Upstream http` line): CONNECT as the client asked, a plain request in absolute form
   * (reqs.c, establish_http_connection). tinyproxy then waits for the parent's answer head
   * (process_server_headers) before it relays anything: a client that left meanwhile, during the
   * dial included, costs the write of that head, `process_server_headers failed: Broken pipe`,
   * and both connections close at once.
   */
  private async throughParent(
    client: net.Socket, fd: number, request: { method: string; version: string; headerLines: readonly string[]; connect: boolean },
    where: { host: string; port: number; path: string }, rest: Buffer, write: (level: 'CONNECT' | 'INFO' | 'ERROR' | 'WARNING', message: string) => void,
  ): Promise<void> {
    const parent = this.options.parent!;
    const named = hostPort(parent.host, parent.port);
    // tinyproxy reads nothing more from its client until the parent answers; the fake listens so as
    // to know, as tinyproxy's write then learns, whether the client is still there.
    // Its write then fails with EPIPE after the client's FIN, ECONNRESET after its RST.
    let left: string | undefined;
    // What the client sends meanwhile (a request's body) goes on to the parent once it is dialled.
    const early: Buffer[] = [];
    let sink: ((chunk: Buffer) => void) | undefined;
    const onEarly = (chunk: Buffer) => (sink ? sink(chunk) : void early.push(chunk));
    client.on('data', onEarly);
    client.once('error', (error: NodeJS.ErrnoException) => { left ??= error.code === 'ECONNRESET' ? 'Connection reset by peer' : 'Broken pipe'; });
    client.once('end', () => { left ??= 'Broken pipe'; });
    client.once('close', () => { left ??= 'Broken pipe'; });
    client.resume();
    write('INFO', `Found upstream proxy http ${named} for ${where.host}`);
    write('INFO', `opensock: opening connection to ${named}`);
    write('INFO', `opensock: getaddrinfo returned for ${named}`);
    const upstream = await dialUpstream(parent);
    if (!(upstream instanceof net.Socket)) {
      write('ERROR', `opensock: Could not establish a connection to ${named}`);
      write('WARNING', 'Could not connect to upstream proxy.');
      return this.answer(client, 502, 'Unable to connect to upstream proxy', 'HTTP/1.1');
    }
    this.listener.track(upstream);
    const upstreamFd = this.fds.take();
    upstream.once('close', () => this.fds.free(upstreamFd));
    upstream.on('error', () => {});
    write('CONNECT', `Established connection to upstream proxy "${parent.host}" using file descriptor ${upstreamFd}.`);
    upstream.write(upstreamRequest(request.method, where, request.version, request.headerLines, { viaParent: true, authConsumed: this.options.auth !== undefined }));
    if (rest.length) upstream.write(rest);
    if (early.length) upstream.write(Buffer.concat(early.splice(0)));
    // tinyproxy reads no more of the client than the parent takes: a slow parent holds the upload.
    sink = (chunk) => {
      if (!upstream.write(chunk)) {
        client.pause();
        upstream.once('drain', () => client.resume());
      }
    };
    const answer = await readAnswerHead(upstream);
    if (!answer || left !== undefined || client.destroyed) {
      if (answer) write('INFO', `process_server_headers failed: ${left ?? 'Broken pipe'}. host "${where.host}" using file descriptor ${upstreamFd}.`);
      client.destroy();
      upstream.destroy();
      return;
    }
    client.off('data', onEarly);
    client.pause();
    // A plain request's answer gets tinyproxy's Via; the parent's answer to a CONNECT is passed on as it came.
    client.write(Buffer.concat([request.connect ? answer.head : answerHead(answer.head, request.version), answer.rest]));
    splice(client, upstream, () => write('INFO', `Closed connection between local client (fd:${fd}) and remote client (fd:${upstreamFd})`));
    upstream.resume();
    client.resume();
  }

  /**
   * The server's answer to a plain request, as tinyproxy relays it: the client's body goes on
   * while the answer head is awaited, the head goes out rewritten (answerHead), then both ways
   * are spliced. A server that closes before its head closes the client too.
   */
  private async relayAnswer(client: net.Socket, upstream: net.Socket, version: string, closed: () => void): Promise<void> {
    upstream.on('error', () => {});
    const toUpstream = (chunk: Buffer) => {
      if (!upstream.write(chunk)) {
        client.pause();
        upstream.once('drain', () => client.resume());
      }
    };
    client.on('data', toUpstream);
    // A client gone while the server keeps silent frees the upstream socket now, not whenever
    // the server closes (tinyproxy would hold its process until its idle Timeout).
    const clientGone = () => upstream.destroy();
    client.once('close', clientGone);
    client.resume();
    const answer = await readAnswerHead(upstream);
    client.off('data', toUpstream);
    client.off('close', clientGone);
    if (!answer || client.destroyed) {
      client.destroy();
      upstream.destroy();
      return closed();
    }
    client.pause();
    client.write(Buffer.concat([answerHead(answer.head, version), answer.rest]));
    splice(client, upstream, closed);
    upstream.resume();
    client.resume();
  }

  private authorized(header: string | undefined): boolean {
    return carriesBasic(header, this.options.auth!);
  }

  /** An error page of tinyproxy's shape: its status line, Server header and an HTML body, then close. */
  private answer(client: net.Socket, status: number, text: string, proto: string, extra: readonly string[] = []): void {
    const body = `<html><head><title>${status} ${text}</title></head><body><h1>${text}</h1><p>The proxy did not open a connection.</p></body></html>\n`;
    client.end(`${proto} ${status} ${text}\r\nServer: ${VERSION}\r\nContent-Type: text/html\r\n${extra.map((h) => `${h}\r\n`).join('')}Connection: close\r\n\r\n${body}`);
  }
}

function splitHostPort(target: string): { host: string; port: number; path: string } | undefined {
  const match = /^\[?([^\]]*?)\]?:(\d{1,5})$/.exec(target);
  return match && Number(match[2]) <= 65535 ? { host: match[1]!, port: Number(match[2]), path: '' } : undefined;
}

function absolute(target: string): { host: string; port: number; path: string } | undefined {
  try {
    const url = new URL(target);
    if (url.protocol !== 'http:') return undefined;
    return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 80), path: `${url.pathname}${url.search}` };
  } catch {
    return undefined;
  }
}
