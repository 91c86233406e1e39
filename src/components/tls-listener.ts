import { createHash, type X509Certificate } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { HarnessError, systemErrorCode } from '../errors.js';
import { ServerTap, type PeerFault, type Rejection } from '../wire/tap.js';
import { TLS13 } from '../wire/session.js';
import { parseCertificate, type Cert } from '../x509/certificate.js';
import { NODE_VERSION, type ClientAuthentication, type VersionRange } from '../tls/settings.js';
import type { Identity } from '../tls/material.js';
import type { ComponentLog } from './log.js';
import { goAddress } from '../dialects/go.js';
import { caNameStandIn } from '../pki/stand-in.js';
import { Remembered } from '../remember.js';

/** How one real server program (Go's net/http, Netty over JSSE) judges and reports a connection. */
export interface ServerDialect {
  /** Cipher preference and whether the server's order wins (Go and JSSE servers both impose theirs). */
  readonly ciphers: string;
  verifyClient(chain: readonly Cert[], tls13: boolean, clientAuthentication: ClientAuthentication): Rejection | null;
  /** The first bytes were not TLS: what to answer before closing, and what to log. */
  notTls(firstBytes: Buffer, connection: ServerConnection): { reply?: string; log?: string };
  /** The log line for a handshake that failed, from what crossed the wire. */
  handshakeFailure(connection: ServerConnection): string | undefined;
  /** The largest handshake message of a type the real server reads. */
  handshakeLimit(type: number): number;
  /** The real server's answer to a handshake message it cannot read. */
  malformed(fault: PeerFault): Rejection;
  /** The real server's answer to a client certificate its X.509 parser refuses. */
  unparsableCertificate(parseError: Error): Rejection;
}

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
  /** How long a client may take over its handshake (Go's ReadTimeout); default 10 s. */
  readonly handshakeTimeoutMs?: number;
  /**
   * Serve TLS without the record tap (load tests): same certificates, same client-certificate
   * judgement after the handshake, no per-connection reports. A rejected client is cut off
   * without Go's alert.
   */
  readonly direct?: boolean;
}

/** What Go's net/http answers a request line it cannot parse, such as a TLS ClientHello on a plain port. */
const GO_BAD_REQUEST = 'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request';

/** One accepted connection as the server saw it. */
export interface ServerConnection {
  readonly remote: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly local: string;
  readonly tap: ServerTap;
  secure: boolean;
  nodeError?: NodeJS.ErrnoException;
  /** The line the component logged about the handshake, if any. */
  logLine?: string;
  /** The handshake did not finish within the server's read timeout. */
  timedOut?: boolean;
  readonly done: Promise<void>;
}

const HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * Server contexts by what goes into them: a catalog run starts two servers per scenario with the
 * same few identities, and building a context (parsing the key) was a tenth of the run.
 */
const contexts = new Remembered<string, tls.SecureContext>(64);

function serverContext(options: TlsListenerOptions): tls.SecureContext {
  const { identity, clientCertificateAuthorities: cas, versions, dialect } = options;
  const key = createHash('sha256')
    .update([options.component, identity.certPem, identity.keyPem, ...cas.map((c) => c.sha256Hex), versions.min, versions.max, dialect.ciphers].join('\0'))
    .digest('hex');
  return contexts.get(key, () => tls.createSecureContext({
    cert: identity.certPem,
    key: identity.keyPem,
    // The CertificateRequest's CA names, as Go's ClientCAs and Java's trust store list them;
    // stand-ins, so OpenSSL does not also chain the server's certificate to them.
    ...(cas.length > 0 ? { ca: cas.map((c) => caNameStandIn(c.rawSubject)) } : {}),
    minVersion: NODE_VERSION[versions.min],
    maxVersion: NODE_VERSION[versions.max],
    ciphers: dialect.ciphers,
    honorCipherOrder: true,
    // OpenSSL refuses to resume a session that asked for a client certificate without one
    // (internal_error); tls.Server sets it, a bare secure context does not.
    sessionIdContext: options.component.slice(0, 32),
  }));
}

export class TlsListener {
  readonly connections = new Map<number, ServerConnection>();
  private readonly waiters = new Map<number, (connection: ServerConnection) => void>();
  private readonly http: http.Server;
  private readonly context: tls.SecureContext;

  private constructor(private readonly server: net.Server, private readonly options: TlsListenerOptions) {
    this.http = http.createServer({ keepAliveTimeout: 1_000 }, options.handler);
    this.context = serverContext(options);
    if (options.plain) {
      this.http.on('clientError', (_error, socket: net.Socket) => socket.end(GO_BAD_REQUEST));
      server.on('connection', (raw) => this.http.emit('connection', raw));
    } else {
      server.on('connection', (raw) => this.accept(raw));
    }
  }

  static async start(options: TlsListenerOptions): Promise<TlsListener> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) => {
        const code = systemErrorCode(error);
        reject(code === 'EADDRINUSE'
          ? new HarnessError('FTH_PORT_IN_USE', `${options.component}: port ${options.port} on ${options.host} is already in use`, { cause: error })
          : new HarnessError('FTH_LISTEN_FAILED', `${options.component}: cannot listen on ${options.host}:${options.port}: ${(error as Error).message}`, { cause: error }));
      });
      server.listen(options.port, options.host, () => resolve());
    });
    return new TlsListener(server, options);
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
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
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), timeoutMs); });
    const accepted = this.connections.get(localPort) ?? new Promise<ServerConnection>((resolve) => this.waiters.set(localPort, resolve));
    try {
      const connection = await Promise.race([accepted, timeout]);
      if (connection) await Promise.race([connection.done, timeout]);
      return connection;
    } finally {
      clearTimeout(timer);
      this.waiters.delete(localPort);
    }
  }

  async close(): Promise<void> {
    this.http.closeAllConnections();
    for (const connection of this.connections.values()) connection.tap.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(raw: net.Socket): void {
    if (this.options.direct) return this.acceptDirect(raw);
    const { dialect, clientAuthentication } = this.options;
    let settle!: () => void;
    const done = new Promise<void>((resolve) => { settle = resolve; });
    const remotePort = raw.remotePort ?? 0;
    const connection: ServerConnection = {
      remote: goAddress(raw.remoteAddress, raw.remotePort),
      remoteAddress: raw.remoteAddress ?? '',
      remotePort,
      local: goAddress(raw.localAddress, raw.localPort),
      tap: undefined as unknown as ServerTap,
      secure: false,
      done,
    };
    const tap: ServerTap = new ServerTap(raw, {
      ...(clientAuthentication !== 'none'
        ? { verifyClient: (chain: readonly Buffer[]): Rejection | null => this.verifyClient(chain, tap.session.version === TLS13) }
        : {}),
      handshakeLimit: (type) => dialect.handshakeLimit(type),
      malformed: (fault) => dialect.malformed(fault),
      notTls: (first) => {
        const answer = dialect.notTls(first, connection);
        if (answer.log) this.record(connection, answer.log, 'warn');
        return answer.reply === undefined ? undefined : Buffer.from(answer.reply, 'latin1');
      },
    });
    (connection as { tap: ServerTap }).tap = tap;
    this.connections.set(remotePort, connection);
    this.waiters.get(remotePort)?.(connection);

    const socket = new tls.TLSSocket(tap, {
      isServer: true,
      secureContext: this.context,
      requestCert: clientAuthentication !== 'none',
      rejectUnauthorized: false,
    });
    tap.attach(socket);
    const timer = setTimeout(() => {
      connection.timedOut = true;
      socket.destroy();
    }, this.options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS);
    socket.on('secure', () => {
      clearTimeout(timer);
      connection.secure = true;
      settle();
      this.http.emit('connection', socket);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => { connection.nodeError ??= error; });
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

  private verifyClient(chain: readonly Buffer[], tls13: boolean): Rejection | null {
    const { dialect, clientAuthentication } = this.options;
    let certs: Cert[];
    try {
      certs = chain.map((der) => parseCertificate(der));
    } catch (error) {
      return dialect.unparsableCertificate(error as Error);
    }
    return dialect.verifyClient(certs, tls13, clientAuthentication);
  }

  private acceptDirect(raw: net.Socket): void {
    const { clientAuthentication } = this.options;
    raw.setNoDelay(true);
    const socket = new tls.TLSSocket(raw, {
      isServer: true,
      secureContext: this.context,
      requestCert: clientAuthentication !== 'none',
      rejectUnauthorized: false,
    });
    const timer = setTimeout(() => socket.destroy(), HANDSHAKE_TIMEOUT_MS);
    socket.on('secure', () => {
      clearTimeout(timer);
      if (clientAuthentication !== 'none') {
        const chain = peerChain(socket);
        const verdict = this.clientVerdicts.judge(chain, () => this.verifyClient(chain.map((x509) => x509.raw), socket.getProtocol() === 'TLSv1.3') === null);
        if (!verdict) return socket.destroy();
      }
      this.http.emit('connection', socket);
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => clearTimeout(timer));
  }

  private readonly clientVerdicts = new VerdictCache();

  private record(connection: ServerConnection, line: string, level: 'warn' | 'error'): void {
    connection.logLine = line;
    this.options.log.write(level, line, { remote: connection.remote });
  }
}

/** The chain the client sent, leaf first (X509Certificate: no JS object per field). */
function peerChain(socket: tls.TLSSocket): X509Certificate[] {
  const chain: X509Certificate[] = [];
  let cert = socket.getPeerX509Certificate();
  while (cert && chain.length < 10 && !chain.some((c) => c.fingerprint256 === cert!.fingerprint256)) {
    chain.push(cert);
    cert = cert.issuerCertificate;
  }
  return chain;
}

/**
 * Thousands of agents present the same few chains: a verdict is reused for a second, so the
 * direct path does not parse the same certificate on every handshake.
 */
class VerdictCache {
  private readonly verdicts = new Map<string, { ok: boolean; until: number }>();

  judge(chain: readonly X509Certificate[], verify: () => boolean): boolean {
    const key = chain.map((c) => c.fingerprint256).join('/');
    const now = Date.now();
    const known = this.verdicts.get(key);
    if (known && known.until > now) return known.ok;
    const ok = verify();
    if (this.verdicts.size > 100) this.verdicts.clear();
    this.verdicts.set(key, { ok, until: now + 1_000 });
    return ok;
  }
}
