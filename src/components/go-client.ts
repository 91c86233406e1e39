import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { ALERT } from '../wire/alerts.js';
import { ClientTap, type CertificateRequestInfo, type Rejection } from '../wire/tap.js';
import { parseCertificate, type Cert } from '../x509/certificate.js';
import { verifyServerChain } from '../x509/libs-verify.js';
import {
  GoTlsError, goHandshakeLimit, goMalformedHandshake, goUnparsableCertificate, socketError, type GoRelease, DEFAULT_GO,
} from '../dialects/go.js';
import { DEFAULT_VERSIONS, NODE_VERSION, type VerificationMode, type VersionRange } from '../tls/settings.js';
import type { Identity } from '../tls/material.js';
import { describeConnection, failedConnection, goError, type ClientConnection } from './client-connection.js';
import { GoTransport } from './go-transport.js';

export { GoTransport };

/** A Go client's `ssl.*` settings (elastic-agent-libs `tlscommon.Config`). */
export interface GoClientTls {
  readonly verificationMode?: VerificationMode;
  /** Absent: the system roots, as Go uses when `certificate_authorities` is empty. */
  readonly certificateAuthorities?: readonly Cert[];
  readonly certificate?: Identity;
  readonly caTrustedFingerprint?: string;
  readonly caSha256?: readonly string[];
  readonly versions?: VersionRange;
  /**
   * `go` (default): withhold a certificate whose issuer the server's CertificateRequest does not
   * list, as Go does. `always`: send it anyway, as curl and OpenSSL clients do.
   */
  readonly sendCertificate?: 'go' | 'always';
  /**
   * Connect and send nothing, as a load balancer's TCP health check or a stuck client does,
   * until the server gives up (a harness knob, not an agent setting).
   */
  readonly stall?: boolean;
}

export interface GoRequest {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly tls?: GoClientTls;
  readonly timeoutMs?: number;
  readonly goRelease?: GoRelease;
  /**
   * Where to open the TCP connection instead of the URL's host and port, like `curl --resolve`:
   * the URL's host name still drives SNI, verification and the Host header.
   */
  readonly connectTo?: { readonly host: string; readonly port: number };
  /** The client's transport: its kept-alive connection is reused, as Go's http.Transport does. */
  readonly transport?: GoTransport;
}

export interface GoResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export type { ClientConnection };

export interface GoExchange {
  readonly response?: GoResponse;
  /** Go's error text, as the caller sees it after unwrapping `*url.Error`. */
  readonly error?: string;
  readonly connection: ClientConnection;
}

/**
 * Go's default cipher preference with AES hardware (crypto/tls cipher_suites.go), so a
 * server that honours the client's order picks what it would pick for the real agent.
 */
const GO_CIPHERS = [
  'TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/** OpenSSL's SSL_OP_NO_EXTENDED_MASTER_SECRET; see wire/rewrite.ts for why. */
const NO_EXTENDED_MASTER_SECRET = 0x1;

/**
 * One HTTPS request the way a Go program using elastic-agent-libs makes it. Failures are data
 * (`error` in Go's words), not exceptions: the caller is reproducing them.
 */
export async function goRequest(request: GoRequest): Promise<GoExchange> {
  const url = new URL(request.url);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const settings = request.tls ?? {};
  const target = request.connectTo ?? { host, port };
  const key = `${url.protocol}//${host}:${port}@${target.host}:${target.port}`;
  const kept = request.transport?.take(key, request.tls);
  if (kept) {
    const response = await exchange(request, url, { agent: kept.agent }).catch(() => undefined);
    // A connection the server closed while idle: Go retries on a new one, and so does this.
    if (response) {
      if (keepsAlive(response)) request.transport!.keep(kept);
      else kept.agent.destroy();
      return { response, connection: kept.connection };
    }
    kept.agent.destroy();
  }
  const raw = net.connect(target);
  const remote = net.isIPv6(target.host) ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
  const connected = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
    raw.once('connect', () => resolve(null));
    raw.once('error', (error) => resolve(error));
  });
  if (connected) {
    const error = connected.code === 'ECONNREFUSED' ? socketError('refused', '', remote) : `dial tcp ${remote}: ${connected.message}`;
    return { error, connection: failedConnection(remote, connected) };
  }
  const local = `${raw.localAddress}:${raw.localPort}`;
  // Read now: Node forgets the local port once the socket is closed.
  const localPort = raw.localPort;
  if (url.protocol !== 'https:') return plainRequest(request, url, raw, local, localPort, remote);
  if (settings.stall) return stalled(raw, local, localPort, remote);

  const warnings: string[] = [];
  const tap = new ClientTap(raw, {
    verifyServer: (chain) => verifyServer(chain, settings, host, warnings, request.goRelease ?? DEFAULT_GO),
    handshakeLimit: goHandshakeLimit(request.goRelease ?? DEFAULT_GO),
    malformed: (fault) => goMalformedHandshake(fault, request.goRelease ?? DEFAULT_GO),
    ...(settings.certificate && settings.sendCertificate !== 'always' ? { sendClientCertificate: (req: CertificateRequestInfo) => acceptable(settings.certificate!, req) } : {}),
  });
  const versions = settings.versions ?? DEFAULT_VERSIONS;
  const socket = tls.connect({
    socket: tap,
    // Go sends SNI only for host names; Node would warn about an IP here.
    servername: net.isIP(host) ? '' : host,
    rejectUnauthorized: false,
    secureContext: clientContext(settings.certificate, versions),
  });
  tap.attach(socket);
  let nodeError: NodeJS.ErrnoException | undefined;
  socket.on('error', (error: NodeJS.ErrnoException) => { nodeError ??= error; });

  // With a transport, an agent around this one socket gives Node's HTTP keep-alive handling.
  const agent = request.transport ? new http.Agent({ keepAlive: true, maxSockets: 1 }) : undefined;
  if (agent) {
    agent.createConnection = () => socket;
    // Node's default sets TCP options on the socket it gets, which a TLS socket over the tap
    // does not survive; the raw socket underneath stays as it is.
    agent.keepSocketAlive = () => true;
  }
  const response = await exchange(request, url, agent ? { agent } : { socket }).catch((error: NodeJS.ErrnoException) => {
    nodeError ??= error;
    return undefined;
  });
  if (response && agent && keepsAlive(response) && !socket.destroyed) {
    const connection = describeConnection(tap, settings, local, localPort, remote, warnings, nodeError);
    request.transport!.keep({ key, tls: request.tls, socket, agent, connection });
    return { response, connection };
  }
  agent?.destroy();
  socket.destroy();
  await settled(raw);
  const connection = describeConnection(tap, settings, local, localPort, remote, warnings, nodeError);
  if (response) return { response, connection };
  return { error: goError(tap, nodeError, local, remote), connection };
}

function keepsAlive(response: GoResponse): boolean {
  return !/\bclose\b/i.test(String(response.headers.connection ?? ''));
}

/**
 * Building a context parses the key each time, which cost a tenth of a catalog run: one context
 * per identity and version range serves every connection made with them.
 */
const contexts = new WeakMap<object, Map<string, tls.SecureContext>>();
const NO_IDENTITY = {};

function clientContext(identity: Identity | undefined, versions: VersionRange): tls.SecureContext {
  const byVersions = contexts.get(identity ?? NO_IDENTITY) ?? new Map<string, tls.SecureContext>();
  contexts.set(identity ?? NO_IDENTITY, byVersions);
  const key = `${versions.min}-${versions.max}`;
  let context = byVersions.get(key);
  if (!context) {
    context = tls.createSecureContext({
      minVersion: NODE_VERSION[versions.min],
      maxVersion: NODE_VERSION[versions.max],
      ciphers: GO_CIPHERS,
      ...(identity ? { cert: identity.certPem, key: identity.keyPem, secureOptions: NO_EXTENDED_MASTER_SECRET } : {}),
    });
    byVersions.set(key, context);
  }
  return context;
}

function verifyServer(chainDer: readonly Buffer[], settings: GoClientTls, host: string, warnings: string[], release: GoRelease): Rejection | null {
  let chain: Cert[];
  try {
    chain = chainDer.map((der) => parseCertificate(der));
  } catch (error) {
    return goUnparsableCertificate('server', error as Error);
  }
  const verdict = verifyServerChain(chain, {
    mode: settings.verificationMode ?? 'full',
    roots: settings.certificateAuthorities ? [...settings.certificateAuthorities] : 'system',
    serverName: host,
    ...(settings.caTrustedFingerprint ? { caTrustedFingerprint: settings.caTrustedFingerprint } : {}),
    ...(settings.caSha256 ? { caSha256: [...settings.caSha256] } : {}),
    goVersion: release === '1.19' ? '1.19' : 'current',
  });
  warnings.push(...verdict.warnings);
  // libs' VerifyConnection and Go's own verification both answer a bad certificate the same way.
  return verdict.ok ? null : { alert: ALERT.bad_certificate, error: new GoTlsError(verdict.message ?? 'x509: verification failed') };
}

/** Go's getClientCertificate: send the configured chain only if it is signed by a CA the server lists. */
function acceptable(identity: Identity, request: CertificateRequestInfo): boolean {
  if (request.certificateAuthorities.length === 0) return true;
  return identity.chain.some((cert) => request.certificateAuthorities.some((ca) => ca.equals(cert.rawIssuer)));
}

async function exchange(request: GoRequest, url: URL, via: { socket: net.Socket } | { agent: http.Agent }): Promise<GoResponse> {
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

async function plainRequest(request: GoRequest, url: URL, raw: net.Socket, local: string, localPort: number | undefined, remote: string): Promise<GoExchange> {
  const response = await exchange(request, url, { socket: raw }).catch((error: NodeJS.ErrnoException) => error);
  raw.destroy();
  const connection: ClientConnection = { ...failedConnection(remote, null), local, ...(localPort ? { localPort } : {}) };
  if (response instanceof Error) {
    // A TLS server answering plain HTTP: Go's transport reports a malformed response or EOF.
    return { error: response.code === 'HPE_INVALID_CONSTANT' ? 'net/http: HTTP/1.x transport connection broken: malformed HTTP response' : 'EOF', connection };
  }
  return { response, connection };
}

/** A client that never sent its ClientHello: it learns only that the server closed. */
async function stalled(raw: net.Socket, local: string, localPort: number | undefined, remote: string): Promise<GoExchange> {
  raw.resume();
  await settled(raw);
  const connection: ClientConnection = {
    ...failedConnection(remote, null), local, ...(localPort ? { localPort } : {}), rejectedBy: 'server', phase: 'handshake',
  };
  return { error: socketError('eof', local, remote), connection };
}

function settled(raw: net.Socket): Promise<void> {
  return raw.destroyed ? Promise.resolve() : new Promise((resolve) => raw.once('close', () => resolve()));
}
