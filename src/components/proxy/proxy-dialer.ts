import net from 'node:net';
import tls from 'node:tls';
import { socketError } from '../../dialects/go.js';
import { NODE_VERSION, DEFAULT_VERSIONS } from '../../tls/settings.js';
import { parseCertificate } from '../../x509/certificate.js';
import { verifyServerChain } from '../../x509/libs-verify.js';
import { failedConnection, type ClientConnection } from '../client-connection.js';
import { dialledAddress } from '../go-dial.js';
import type { GoClientTls } from '../go-client.js';
import { hostPort, proxyAuthorization, type ProxyRoute } from './proxy-url.js';
import { SocketReader, ShortRead } from './socket-reader.js';
import { socksConnect } from './socks-client.js';
import { peerChainDer } from './peer-certificates.js';

/** What the client saw of its proxy: the report's agent → proxy leg is made from it. */
export interface ProxyHop {
  readonly route: ProxyRoute;
  readonly local: string;
  readonly localPort?: number;
  /** The proxy's address as Go names it (conn.RemoteAddr). */
  readonly remote: string;
  /** CONNECT: the status line's code and text. */
  readonly status?: number;
  readonly statusText?: string;
  /** SOCKS5: the reply's name (x/net's socksReply.String). */
  readonly socksReply?: string;
  /** TLS to an https proxy. */
  readonly tls?: { readonly version: string; readonly cipher: string; readonly serverChain: readonly Buffer[] };
  /** A plain-HTTP request goes to the proxy in absolute form instead of through a tunnel. */
  readonly forward?: boolean;
  readonly error?: string;
}

export type FirstHop =
  | { readonly ok: true; readonly socket: net.Socket; readonly local: string; readonly localPort?: number; readonly remote: string; readonly hop?: ProxyHop }
  | { readonly ok: false; readonly error: string; readonly connection: ClientConnection; readonly hop?: ProxyHop };

/** Go's text when an https proxy answers with something that is not TLS (crypto/tls conn.go). */
export const NOT_TLS = 'tls: first record does not look like a TLS handshake';
const NOT_TLS_CODES = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'ERR_SSL_UNKNOWN_PROTOCOL', 'ERR_SSL_HTTP_REQUEST', 'ERR_SSL_RECORD_LAYER_FAILURE']);

/**
 * Opens the connection a Go http.Transport opens first: to the target, or to the proxy and
 * then a tunnel through it (net/http transport.go dialConn). Failures carry Go's words:
 * dialling or TLS to the proxy are wrapped `proxyconnect tcp: ...` (Go issue 16997), a CONNECT
 * answered with anything but 200 is the status text alone, a SOCKS failure is x/net's
 * `socks connect tcp PROXY->TARGET: ...`.
 */
export async function dialFirstHop(
  target: { readonly host: string; readonly port: number },
  targetAddr: string,
  targetScheme: 'http:' | 'https:',
  proxy: ProxyRoute | undefined,
  proxyTls: GoClientTls,
): Promise<FirstHop> {
  const where = proxy?.connectTo ?? (proxy ? { host: proxy.host, port: proxy.port } : target);
  const remote = hostPort(where.host, where.port);
  const raw = net.connect(where);
  raw.on('error', () => {});
  const refused = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
    raw.once('connect', () => resolve(null));
    raw.once('error', (error) => resolve(error));
  });
  if (refused) {
    const dialled = dialledAddress(refused, remote);
    const dial = refused.code === 'ECONNREFUSED' ? socketError('refused', '', dialled) : `dial tcp ${dialled}: ${refused.message}`;
    const error = proxy ? `proxyconnect tcp: ${dial}` : dial;
    const hop = proxy ? { route: proxy, local: '', remote, error } : undefined;
    return { ok: false, error, connection: failedConnection(remote, refused), ...(hop ? { hop } : {}) };
  }
  const local = `${raw.localAddress}:${raw.localPort}`;
  const localPort = raw.localPort;
  if (!proxy) return { ok: true, socket: raw, local, ...(localPort ? { localPort } : {}), remote };

  const base = { route: proxy, local, ...(localPort ? { localPort } : {}), remote };
  const fail = (hop: ProxyHop, error: string): FirstHop => {
    raw.destroy();
    const connection: ClientConnection = { ...failedConnection(remote, null), local, ...(localPort ? { localPort } : {}), rejectedBy: 'server', phase: 'connect' };
    return { ok: false, error, connection, hop: { ...hop, error } };
  };

  let socket: net.Socket = raw;
  let hop: ProxyHop = base;
  if (proxy.scheme === 'https') {
    const secured = await proxyHandshake(raw, proxy, proxyTls);
    if ('error' in secured) return fail(hop, `proxyconnect tcp: ${secured.error}`);
    socket = secured.socket;
    hop = { ...hop, tls: secured.tls };
  }
  if (proxy.scheme === 'socks5') {
    const reader = new SocketReader(socket);
    const outcome = await socksConnect(socket, reader, proxy, targetAddr).finally(() => reader.release());
    if (outcome.error) return fail({ ...hop, ...(outcome.reply ? { socksReply: outcome.reply } : {}) }, `socks connect tcp ${remote}->${targetAddr}: ${outcome.error}`);
    return { ok: true, socket, local, ...(localPort ? { localPort } : {}), remote, hop: { ...hop, socksReply: outcome.reply ?? 'succeeded' } };
  }
  if (targetScheme === 'http:') return { ok: true, socket, local, ...(localPort ? { localPort } : {}), remote, hop: { ...hop, forward: true } };

  const answer = await connectRequest(socket, proxy, targetAddr);
  if ('error' in answer) return fail(hop, answer.error);
  hop = { ...hop, status: answer.status, statusText: answer.text };
  if (answer.status !== 200) return fail(hop, answer.text === undefined ? 'unknown status code' : answer.text);
  return { ok: true, socket, local, ...(localPort ? { localPort } : {}), remote, hop };
}

/** Writes CONNECT as net/http's Request.Write does and reads the status line of the answer. */
async function connectRequest(socket: net.Socket, proxy: ProxyRoute, targetAddr: string): Promise<{ status: number; text: string | undefined } | { error: string }> {
  // Request.Write: Host, then User-Agent, then the other headers sorted by key (Header.writeSubset).
  const headers: Record<string, string> = canonical(proxy.headers);
  const authorization = proxyAuthorization(proxy.url);
  if (authorization) headers['Proxy-Authorization'] = authorization;
  const sorted = Object.entries(headers).filter(([k]) => k !== 'Host' && k !== 'User-Agent').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const lines = [['Host', targetAddr], ['User-Agent', headers['User-Agent'] ?? 'Go-http-client/1.1'], ...sorted];
  const reader = new SocketReader(socket);
  socket.write(`CONNECT ${targetAddr} HTTP/1.1\r\n${lines.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
  try {
    const { head, complete } = await reader.readUntil('\r\n\r\n');
    const lineEnd = head.indexOf('\r\n');
    if (head.length === 0) return { error: 'unexpected EOF' };
    const line = head.subarray(0, lineEnd < 0 ? head.length : lineEnd).toString('latin1');
    // http.ReadResponse: `proto SP status`, a three-digit code.
    const match = /^(\S+) +(\d{3})(?: (.*))?$/.exec(line);
    if (!/^\S+ /.test(line)) return { error: `malformed HTTP response ${goQuote(line)}` };
    if (!match) return { error: `malformed HTTP status code ${goQuote(line.split(' ').filter(Boolean)[1] ?? '')}` };
    if (!complete) return { error: 'unexpected EOF' };
    return { status: Number(match[2]), text: match[3] };
  } catch (error) {
    return { error: error instanceof ShortRead ? 'unexpected EOF' : (error as Error).message };
  } finally {
    reader.release();
  }
}

/** TLS to an https proxy: the Transport's own TLS settings, with the proxy's host as server name. */
async function proxyHandshake(raw: net.Socket, proxy: ProxyRoute, settings: GoClientTls): Promise<{ socket: tls.TLSSocket; tls: NonNullable<ProxyHop['tls']> } | { error: string }> {
  const versions = settings.versions ?? DEFAULT_VERSIONS;
  const socket = tls.connect({
    socket: raw,
    servername: net.isIP(proxy.host) ? '' : proxy.host,
    rejectUnauthorized: false,
    minVersion: NODE_VERSION[versions.min],
    maxVersion: NODE_VERSION[versions.max],
    ...(settings.certificate ? { cert: settings.certificate.certPem, key: settings.certificate.keyPem } : {}),
  });
  const failed = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
    socket.once('secureConnect', () => resolve(null));
    socket.once('error', (error) => resolve(error));
  });
  socket.on('error', () => {});
  if (failed) return { error: NOT_TLS_CODES.has(failed.code ?? '') ? NOT_TLS : 'EOF' };
  const chain = peerChainDer(socket);
  const verdict = verifyServerChain(chain.map((der) => parseCertificate(der)), {
    mode: settings.verificationMode ?? 'full',
    roots: settings.certificateAuthorities ? [...settings.certificateAuthorities] : 'system',
    serverName: proxy.host,
    goVersion: 'current',
  });
  if (!verdict.ok) {
    socket.destroy();
    return { error: verdict.message ?? 'x509: verification failed' };
  }
  const cipher = socket.getCipher();
  return { socket, tls: { version: socket.getProtocol() ?? 'unknown', cipher: cipher.standardName ?? cipher.name, serverChain: chain } };
}

/** net/http's CanonicalHeaderKey, which Header.Set applies. */
function canonical(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase().replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase()), v]));
}

/** Go's %q for the ASCII the fakes and peers send. */
function goQuote(text: string): string {
  return `"${[...text].map((c) => {
    const code = c.charCodeAt(0);
    if (c === '"' || c === '\\') return `\\${c}`;
    if (code >= 0x20 && code < 0x7f) return c;
    return `\\x${code.toString(16).padStart(2, '0')}`;
  }).join('')}"`;
}
