/**
 * One TLS server socket for a fake, with its server tap and dialect: what every fake shares.
 * (Over 250 lines: accepting, tapping, timing out and recording a connection are one path.)
 */
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { HarnessError, systemErrorCode } from '../errors.js';
import { ServerTap, type Rejection } from '../wire/tap.js';
import { TLS13 } from '../wire/session.js';
import type { Cert } from '../x509/certificate.js';
import { NODE_VERSION, type ClientAuthentication, type VersionRange } from '../tls/settings.js';
import type { Identity } from '../tls/material.js';
import type { ComponentLog } from './log.js';
import { judgeClientChain, type ServerConnection, type ServerDialect } from './server-dialect.js';
import { DirectTls } from '../load/direct-tls.js';
import type { DirectHandler } from '../load/direct-http.js';
import { ConnectionDeadlines, NO_NODE_TIMEOUTS, type AfterHandshakeTimeouts } from './http-deadlines.js';

export type { ServerConnection, ServerDialect };
import { GO_BAD_REQUEST, goAddress } from '../dialects/go.js';
import { sharedContext } from '../tls/shared-context.js';
import { caNameStandIn } from '../pki/stand-in.js';
import { announceConnection } from '../capture/observe.js';
import { settledConnection } from './connection-wait.js';
import type { HeadRules, ParserError } from './go-request-head.js';
import { writeAndClose } from './go-request-line.js';
import { gateHead } from './go-head-gate.js';

export interface TlsListenerOptions {
  readonly host: string;
  readonly port: number;
  readonly identity: Identity;
  readonly clientCertificateAuthorities: readonly Cert[];
  readonly clientAuthentication: ClientAuthentication;
  readonly versions: VersionRange;
  readonly dialect: ServerDialect;
  readonly handler: http.RequestListener;
  readonly log: ComponentLog;
  readonly component: string;
  /** No TLS at all (Fleet Server's `--fleet-server-insecure-http`): plain HTTP on the port. */
  readonly plain?: boolean;
  /** How long a client may take over its handshake; default 10 s, 0 for no limit. */
  readonly handshakeTimeoutMs?: number;
  /** The component's timeouts once the handshake is over (see http-deadlines.ts); absent: none. */
  readonly timeouts?: AfterHandshakeTimeouts;
  /** Serve TLS without the record tap (load tests): see load/direct-tls.ts. */
  readonly direct?: boolean;
  /** Direct path only: answers a load agent's one request without node:http (see load/direct-http.ts). */
  readonly directHandler?: DirectHandler;
  /** The server's own refusals of request heads on both paths (Fleet Server: Go's, go-request-head.ts); absent: node:http's. */
  readonly headRules?: HeadRules;
}

const HANDSHAKE_TIMEOUT_MS = 10_000;

/** The server context, or the harness's error naming the component when its key or certificate is refused. */
function contextFor(options: TlsListenerOptions): tls.SecureContext {
  try {
    return serverContext(options);
  } catch (error) {
    const mismatch = /key values mismatch/i.test((error as Error).message);
    throw new HarnessError(mismatch ? 'FTH_KEY_MISMATCH' : 'FTH_CONFIG_VALUE',
      `${options.component}: ${mismatch ? 'its private key does not match its certificate' : `its certificate or key cannot be used: ${(error as Error).message}`}`, { cause: error });
  }
}

/**
 * One context per distinct server settings (shared-context.ts): a catalog run starts two servers
 * per scenario with the same few identities, and building a context was a tenth of the run.
 */
function serverContext(options: TlsListenerOptions): tls.SecureContext {
  const { identity, clientCertificateAuthorities: cas, versions, dialect } = options;
  return sharedContext({
    cert: identity.certPem,
    key: identity.keyPem,
    // The CertificateRequest's CA names, as Go's ClientCAs and Java's trust store list them;
    // stand-ins, so OpenSSL does not also chain the server's certificate to them.
    ...(cas.length > 0 ? { ca: cas.map((c) => caNameStandIn(c.rawSubject)) } : {}),
    minVersion: NODE_VERSION[versions.min],
    maxVersion: NODE_VERSION[versions.max],
    ciphers: dialect.ciphers,
    ...(dialect.signatureAlgorithms ? { sigalgs: dialect.signatureAlgorithms } : {}),
    honorCipherOrder: true,
    // OpenSSL refuses to resume a session that asked for a client certificate without one
    // (internal_error); tls.Server sets it, a bare secure context does not.
    sessionIdContext: options.component.slice(0, 32),
  });
}

export class TlsListener {
  readonly connections = new Map<number, ServerConnection>();
  private readonly waiters = new Map<number, (connection: ServerConnection) => void>();
  private readonly http: http.Server;
  private readonly context: tls.SecureContext;
  private readonly handshakeTimeoutMs: number;
  private readonly direct?: DirectTls;
  private readonly deadlines?: ConnectionDeadlines;
  private readonly boundPort: number;
  /** Connections whose first head is still being read (go-head-gate.ts): node:http does not have them yet. */
  private readonly gated = new Set<net.Socket>();
  /** The response node:http is writing on a socket, for a refusal that must come after it. */
  private readonly answering = new WeakMap<net.Socket, http.ServerResponse>();

  /**
   * A pipelined head refused while the request before it is still being answered: Go reads the
   * next request only once it has written that answer, so the refusal waits for it. Nothing more
   * is read meanwhile (node:http's parser would report the same fault again for every chunk).
   * In the request handler `answering` still holds the request before: the listener that
   * records the new one runs after it.
   */
  private refuseInTurn(socket: net.Socket, refusal: string): void {
    const answering = this.answering.get(socket);
    if (answering && !answering.writableFinished) {
      socket.pause();
      this.answering.delete(socket);
      return void answering.once('finish', () => writeAndClose(socket, refusal));
    }
    writeAndClose(socket, refusal);
  }

  private constructor(private readonly server: net.Server, private readonly options: TlsListenerOptions, context: tls.SecureContext | undefined) {
    const rules = options.headRules;
    // With its own rules, node:http's missing-Host answer (no body, chunked) is the component's to give.
    this.http = rules
      ? http.createServer({ ...NO_NODE_TIMEOUTS, requireHostHeader: false, ...(rules.maxHeadBytes ? { maxHeaderSize: rules.maxHeadBytes } : {}) }, (req, res) => {
        // node:http's HTTP/0.9 is a request line of two parts (a first head is refused at its line, see gateHead).
        const line = req.httpVersionMajor === 0 ? `${req.method} ${req.url}` : `${req.method} ${req.url} HTTP/${req.httpVersion}`;
        const refusal = rules.refuse([line, ...rawFields(req.rawHeaders)]);
        if (refusal === undefined) return options.handler(req, res);
        // Refused before any handler: the answer, then close_notify and FIN, as the direct path does.
        this.refuseInTurn(req.socket, refusal);
      })
      : http.createServer(NO_NODE_TIMEOUTS, options.handler);
    if (rules || options.plain) {
      // A plain port answers any head it cannot read with Go's 400 (a ClientHello, say).
      this.http.on('clientError', (error: ParserError, socket: net.Socket) => {
        const refusal = rules?.refuseUnparsed(error) ?? (options.plain ? GO_BAD_REQUEST : undefined);
        if (refusal === undefined || !socket.writable) return void socket.destroy();
        this.refuseInTurn(socket, refusal);
      });
      if (rules) this.http.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => this.answering.set(req.socket, res));
    }
    // A request half-closed right after it is still answered, then the connection closes: Go's
    // net/http reads the request, sees EOF only on its next read (server.go, conn.serve) and
    // writes the response first. Node's default aborts the request at the client's FIN.
    // `httpAllowHalfOpen` is http.Server's own switch for that (Node's _http_server.js socketOnEnd),
    // untyped in @types/node.
    (this.http as http.Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
    // Neither real server logs these closes at its default level (see http-deadlines.ts).
    if (options.timeouts) this.deadlines = new ConnectionDeadlines(this.http, options.timeouts);
    this.context = context ?? serverContext(options);
    this.boundPort = (server.address() as net.AddressInfo).port;
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS;
    if (options.direct) {
      this.direct = new DirectTls({
        context: this.context, dialect: options.dialect, clientAuthentication: options.clientAuthentication,
        handshakeTimeoutMs: this.handshakeTimeoutMs,
        ...(options.directHandler ? { handler: options.directHandler } : {}),
        ...(this.deadlines ? { deadlines: this.deadlines } : {}),
        ...(rules ? { headRules: rules } : {}),
        toHttp: (socket) => this.http.emit('connection', socket),
      });
    }
    if (options.plain) {
      server.on('connection', (raw) => this.serve(raw));
    } else {
      server.on('connection', (raw) => this.accept(raw));
    }
  }

  static async start(options: TlsListenerOptions): Promise<TlsListener> {
    // Built before listening, so a key that does not fit its certificate leaves no open port behind.
    const context = options.plain ? undefined : contextFor(options);
    // Half-open, so a client's FIN does not end the server's side before it answers (see above).
    const server = net.createServer({ allowHalfOpen: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) => {
        const code = systemErrorCode(error);
        reject(code === 'EADDRINUSE'
          ? new HarnessError('FTH_PORT_IN_USE', `${options.component}: port ${options.port} on ${options.host} is already in use`, { cause: error })
          : new HarnessError('FTH_LISTEN_FAILED', `${options.component}: cannot listen on ${options.host}:${options.port}: ${(error as Error).message}`, { cause: error }));
      });
      server.listen(options.port, options.host, () => resolve());
    });
    return new TlsListener(server, options, context);
  }

  /** The port it listens on (still readable after close, for messages). */
  get port(): number {
    return this.boundPort;
  }

  /** Where a client on this machine connects: the bound address, or loopback for a wildcard one. */
  get endpoint(): { host: string; port: number } {
    const host = this.options.host === '0.0.0.0' || this.options.host === '' ? '127.0.0.1' : this.options.host === '::' ? '::1' : this.options.host;
    return { host: host.replace(/^\[|\]$/g, ''), port: this.port };
  }

  /**
   * The connection whose client used `localPort`, once the server has settled its handshake.
   * The client may finish before the server has even accepted (or settled) the connection, so
   * this waits for both, bounded by `timeoutMs`.
   */
  async connection(localPort: number | undefined, timeoutMs = 2_000): Promise<ServerConnection | undefined> {
    if (localPort === undefined || this.options.plain) return undefined;
    return settledConnection(this.connections, this.waiters, localPort, timeoutMs);
  }

  /** Idempotent: a second call finds the server already closed and resolves at once. */
  async close(): Promise<void> {
    this.http.closeAllConnections();
    for (const socket of this.gated) socket.destroy();
    this.direct?.close();
    for (const connection of this.connections.values()) connection.tap.destroy();
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(raw: net.Socket): void {
    if (this.direct) return this.direct.accept(raw);
    const { dialect, clientAuthentication } = this.options;
    let settle!: () => void;
    const done = new Promise<void>((resolve) => { settle = resolve; });
    const remotePort = raw.remotePort ?? 0;
    // The tap calls back only once bytes arrive, by which time `connection` exists.
    const tap: ServerTap = new ServerTap(raw, {
      ...(clientAuthentication !== 'none'
        ? { verifyClient: (chain: readonly Buffer[]): Rejection | null => judgeClientChain(dialect, chain, tap.session.version === TLS13, clientAuthentication) }
        : {}),
      handshakeLimit: (type) => dialect.handshakeLimit(type),
      malformed: (fault) => dialect.malformed(fault),
      allowHalfOpen: true,
      ...(dialect.records ? { records: dialect.records } : {}),
      clientHello: (hello) => dialect.clientHello?.(hello, this.options.versions) ?? null,
      ownRefusal: (alert) => dialect.ownRefusal?.(alert, connection) ?? null,
      notTls: (first) => {
        const answer = dialect.notTls(first, connection);
        if (answer.log) this.record(connection, answer.log, 'warn');
        return answer.reply === undefined ? undefined : Buffer.from(answer.reply, 'latin1');
      },
    });
    const connection: ServerConnection = {
      remote: goAddress(raw.remoteAddress, raw.remotePort),
      remoteAddress: raw.remoteAddress ?? '',
      remotePort,
      local: goAddress(raw.localAddress, raw.localPort),
      tap,
      secure: false,
      done,
    };
    this.connections.set(remotePort, connection);
    this.waiters.get(remotePort)?.(connection);
    announceConnection(this.options.component, connection);

    const socket = new tls.TLSSocket(tap, {
      isServer: true,
      secureContext: this.context,
      requestCert: clientAuthentication !== 'none',
      rejectUnauthorized: false,
    });
    tap.attach(socket);
    const timer = this.handshakeTimeoutMs > 0 ? setTimeout(() => {
      connection.timedOut = true;
      socket.destroy();
    }, this.handshakeTimeoutMs) : undefined;
    socket.on('secure', () => {
      clearTimeout(timer);
      connection.secure = true;
      settle();
      this.serve(socket, raw);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => { connection.nodeError ??= error; });
    // Half-open is for answering a request (see the constructor); a client that ends before its
    // handshake is done gets the close a real server gives it.
    socket.on('end', () => { if (!connection.secure) socket.destroy(); });
    socket.on('close', () => {
      clearTimeout(timer);
      if (!connection.secure && connection.logLine === undefined) {
        const line = dialect.handshakeFailure(connection);
        if (line) this.record(connection, line, 'error');
      }
      settle();
      // Keep recent connections for leg reports without growing forever under load.
      if (this.connections.size > 1_000) this.connections.delete(this.connections.keys().next().value!);
    });
  }

  /** Hands a connection to the HTTP server, under the component's timeouts. */
  private serve(socket: net.Socket, raw?: net.Socket): void {
    this.deadlines?.watch(socket, raw);
    const rules = this.options.headRules;
    if (!rules?.early) return void this.http.emit('connection', socket);
    // The first head is read here first, as the server reads it (go-head-gate.ts); node:http
    // gets it (as the server read it) and everything after.
    this.gated.add(socket);
    gateHead(socket, rules, (read) => {
      this.gated.delete(read);
      this.http.emit('connection', read);
    });
    socket.once('close', () => this.gated.delete(socket));
  }

  private record(connection: ServerConnection, line: string, level: 'warn' | 'error'): void {
    connection.logLine = line;
    connection.tap.timeline.log('server', this.options.component, line);
    this.options.log.write(level, line, { remote: connection.remote });
  }
}

/** node:http's rawHeaders as the head's field lines. */
function rawFields(raw: readonly string[]): string[] {
  const lines: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) lines.push(`${raw[i]}: ${raw[i + 1]}`);
  return lines;
}
