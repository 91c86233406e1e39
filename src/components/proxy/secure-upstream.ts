import { X509Certificate } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { ClientTap } from '../../wire/tap.js';
import { goAddress } from '../../dialects/go.js';
import { DEFAULT_VERSIONS, NODE_VERSION, type VersionRange } from '../../tls/settings.js';
import type { Identity } from '../../tls/material.js';
import { sharedContext } from '../../tls/shared-context.js';
import type { Cert } from '../../x509/certificate.js';
import { describeConnection, failedConnection, type ClientConnection } from '../client-connection.js';
import type { GoClientTls } from '../go-client-tls.js';
import type { GoExchange } from '../go-http.js';
import { opensslFailure, verifyError, type NginxLevel } from './nginx-words.js';
import { authorizationCode } from './peer-certificates.js';


/** nginx's proxy_connect_timeout default, which also bounds the upstream TLS handshake. */
const UPSTREAM_CONNECT_TIMEOUT_MS = 60_000;

/** nginx's `proxy_pass` and `proxy_ssl_*` directives towards Fleet Server or Elasticsearch. */
export interface UpstreamSettings {
  /** proxy_pass: `https://host:port` or `http://host:port`. */
  readonly url: string;
  /** Where the upstream really listens, when the URL names a host of the customer's network. */
  readonly connectTo?: { readonly host: string; readonly port: number };
  /** proxy_ssl_verify on with proxy_ssl_trusted_certificate; absent: off, nginx's default. */
  readonly authorities?: readonly Cert[];
  /** proxy_ssl_name (default: the upstream URL's host). */
  readonly name?: string;
  /** proxy_ssl_certificate / proxy_ssl_certificate_key: the proxy's own client certificate. */
  readonly certificate?: Identity;
  /** proxy_ssl_protocols (absent: what OpenSSL allows). */
  readonly versions?: VersionRange;
}

/** One request the proxy passed upstream, on its own connection (nginx's default proxy_http_version 1.0, no keep-alive). */
export interface UpstreamCall {
  readonly method: string;
  readonly url: string;
  /** The upstream's answer, or nothing; the connection as the proxy's client side saw it. */
  readonly exchange: GoExchange;
  /** The answer's bytes, passed on as they came. */
  readonly body?: Buffer;
  /** nginx's line about the failure (the request's context is added by the caller), and who refused. */
  readonly failure?: { readonly text: string; readonly level: NginxLevel; readonly by: 'client' | 'server' };
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/**
 * Passes one request upstream as nginx does: a fresh TCP connection, TLS with OpenSSL as nginx's
 * own client (it sends proxy_ssl_certificate whatever CA names the server lists, and checks the
 * chain and name only after the handshake, ngx_http_upstream_ssl_handshake), then the request.
 * The client-role record tap records both flights for the proxy → upstream leg.
 */
export async function callUpstream(
  settings: UpstreamSettings,
  request: { readonly method: string; readonly path: string; readonly headers: http.IncomingHttpHeaders; readonly body: Buffer },
): Promise<UpstreamCall> {
  const upstream = new URL(settings.url);
  const host = upstream.hostname.replace(/^\[|\]$/g, '');
  const secure = upstream.protocol === 'https:';
  const port = Number(upstream.port || (secure ? 443 : 80));
  const url = `${upstream.protocol}//${upstream.host}${request.path}`;
  const target = settings.connectTo ?? { host, port };
  const remote = goAddress(target.host, target.port);
  const base = { method: request.method, url };
  let raw: net.Socket;
  try {
    raw = net.connect(target);
  } catch (error) {
    return { ...base, exchange: { connection: failedConnection(remote, error as NodeJS.ErrnoException) }, failure: connectFailure(error as NodeJS.ErrnoException) };
  }
  const dialError = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
    raw.once('connect', () => resolve(null));
    raw.once('error', (error) => resolve(error));
  });
  if (dialError) return { ...base, exchange: { connection: failedConnection(remote, dialError) }, failure: connectFailure(dialError) };
  raw.on('error', () => {});
  const local = goAddress(raw.localAddress, raw.localPort);
  const localPort = raw.localPort;
  const headers: http.OutgoingHttpHeaders = { host: upstream.host, connection: 'close' };
  for (const [name, value] of Object.entries(request.headers)) if (!HOP_BY_HOP.has(name) && name !== 'host' && value !== undefined) headers[name] = value;
  const parts = { method: request.method, path: request.path, headers, body: request.body };

  if (!secure) {
    const answer = await exchange(raw, parts);
    raw.destroy();
    const connection: ClientConnection = { ...failedConnection(remote, null), local, ...(localPort ? { localPort } : {}) };
    if (answer instanceof Error) return { ...base, exchange: { connection, error: answer.message }, failure: PREMATURE };
    return { ...base, exchange: { connection, response: answer.response }, body: answer.body };
  }

  // No policy: the tap only watches, OpenSSL decides as nginx's OpenSSL does.
  const tap = new ClientTap(raw, {});
  const name = settings.name ?? host;
  const socket = tls.connect({
    socket: tap,
    // proxy_ssl_server_name is off by default: nginx sends no SNI to its upstream.
    servername: '',
    rejectUnauthorized: false,
    // Node's own name check would land in authorizationError; nginx checks proxy_ssl_name itself, after the chain.
    checkServerIdentity: () => undefined,
    secureContext: sharedContext({
      minVersion: NODE_VERSION[(settings.versions ?? DEFAULT_VERSIONS).min],
      maxVersion: NODE_VERSION[(settings.versions ?? DEFAULT_VERSIONS).max],
      ...(settings.authorities?.length ? { ca: settings.authorities.map((c) => c.pem) } : {}),
      ...(settings.certificate ? { cert: settings.certificate.certPem, key: settings.certificate.keyPem } : {}),
    }),
  });
  tap.attach(socket);
  let nodeError: NodeJS.ErrnoException | undefined;
  socket.on('error', (error: NodeJS.ErrnoException) => { nodeError ??= error; });
  // nginx bounds the upstream handshake by proxy_connect_timeout (60 s by default).
  let timedOut = false;
  raw.setTimeout(UPSTREAM_CONNECT_TIMEOUT_MS, () => { timedOut = true; raw.destroy(); });
  const secured = await new Promise<boolean>((resolve) => {
    socket.once('secureConnect', () => resolve(true));
    socket.once('close', () => resolve(false));
  });
  raw.setTimeout(0);
  const described = (): ClientConnection => describeConnection(tap, asGoSettings(settings), local, localPort, remote, [], nodeError);
  const finish = async () => {
    socket.destroy();
    raw.destroy();
    if (!raw.destroyed) await new Promise((resolve) => raw.once('close', resolve));
  };
  if (!secured) {
    await finish();
    if (timedOut) {
      return {
        ...base, exchange: { connection: described(), error: 'timed out' },
        failure: { text: 'upstream timed out (110: Connection timed out) while SSL handshaking to upstream', level: 'error', by: 'server' },
      };
    }
    const failure = nodeError ? opensslFailure('SSL_do_handshake', nodeError.message) : undefined;
    return {
      ...base, exchange: { connection: described(), error: nodeError?.message ?? 'closed' },
      failure: failure
        ? { text: `${failure.text} while SSL handshaking to upstream`, level: failure.level, by: 'server' }
        : { text: 'peer closed connection in SSL handshake while SSL handshaking to upstream', level: 'error', by: 'server' },
    };
  }
  const refusal = judgeUpstream(socket, settings, name);
  if (refusal) {
    // nginx closes without a close_notify (ngx_http_upstream_next sets no_send_shutdown).
    raw.destroy();
    await finish();
    const connection = { ...described(), rejectedBy: 'client' as const, phase: 'handshake' as const };
    return { ...base, exchange: { connection, error: refusal }, failure: { text: `${refusal} while SSL handshaking to upstream`, level: 'error', by: 'client' } };
  }
  const answer = await exchange(socket, parts);
  await finish();
  if (answer instanceof Error) {
    const failure = opensslFailure('SSL_read', nodeError?.message ?? answer.message);
    return {
      ...base, exchange: { connection: described(), error: answer.message },
      failure: failure ? { text: `${failure.text} while reading response header from upstream`, level: failure.level, by: 'server' } : PREMATURE,
    };
  }
  return { ...base, exchange: { connection: described(), response: answer.response }, body: answer.body };
}

const PREMATURE = { text: 'upstream prematurely closed connection while reading response header from upstream', level: 'error', by: 'server' } as const;

function connectFailure(error: NodeJS.ErrnoException): NonNullable<UpstreamCall['failure']> {
  const errno = { ECONNREFUSED: '111: Connection refused', EHOSTUNREACH: '113: No route to host', ETIMEDOUT: '110: Connection timed out' }[error.code ?? ''] ?? `${error.code ?? 'error'}`;
  return { text: `connect() failed (${errno}) while connecting to upstream`, level: 'error', by: 'server' };
}

/** proxy_ssl_verify on: OpenSSL's verify result, then X509_check_host on proxy_ssl_name (ngx_ssl_check_host). */
function judgeUpstream(socket: tls.TLSSocket, settings: UpstreamSettings, name: string): string | undefined {
  if (!settings.authorities) return undefined;
  const code = authorizationCode(socket);
  if (code) return `upstream SSL certificate verify error: ${verifyError(code)}`;
  const peer = socket.getPeerCertificate();
  const matches = peer?.raw ? new X509Certificate(peer.raw).checkHost(name) !== undefined : false;
  return matches ? undefined : `upstream SSL certificate does not match "${name}"`;
}

/** How the report shows the proxy's checks, in the leg's vocabulary. */
function asGoSettings(settings: UpstreamSettings): GoClientTls {
  return {
    verificationMode: settings.authorities ? 'full' : 'none',
    ...(settings.authorities ? { certificateAuthorities: settings.authorities } : {}),
    ...(settings.certificate ? { certificate: settings.certificate } : {}),
  };
}

/** One HTTP request over an open connection; the answer with its bytes, or Node's error. */
function exchange(
  socket: net.Socket, request: { method: string; path: string; headers: http.OutgoingHttpHeaders; body: Buffer },
): Promise<{ response: { status: number; headers: http.IncomingHttpHeaders; body: string }; body: Buffer } | Error> {
  return new Promise((resolve) => {
    const req = http.request({ method: request.method, path: request.path, headers: request.headers, createConnection: () => socket, timeout: 10_000 });
    req.on('timeout', () => req.destroy(new Error('upstream timed out')));
    req.on('error', (error) => resolve(error));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', (error) => resolve(error));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ response: { status: res.statusCode ?? 0, headers: res.headers, body: body.toString('utf8') }, body });
      });
    });
    req.end(request.body.length ? request.body : undefined);
  });
}
