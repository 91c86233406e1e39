import type net from 'node:net';
import tls from 'node:tls';
import { ServerTap } from '../../wire/tap.js';
import { goAddress } from '../../dialects/go.js';
import { NODE_VERSION, type ClientAuthentication, type VersionRange } from '../../tls/settings.js';
import type { Identity } from '../../tls/material.js';
import { sharedContext } from '../../tls/shared-context.js';
import type { Cert } from '../../x509/certificate.js';
import type { ServerConnection } from '../server-dialect.js';
import { CERTIFICATE_ERROR, errorPage, NO_CERTIFICATE, opensslFailure, PLAIN_HTTP, requestContext, verifyError, type AccessRecord } from './nginx-words.js';

/** The client-facing side of the secure proxy: nginx's `listen ... ssl` server block. */
export interface FrontSettings {
  /** ssl_certificate / ssl_certificate_key. */
  readonly identity: Identity;
  /** ssl_verify_client off | optional | on. */
  readonly clientAuthentication: ClientAuthentication;
  /** ssl_client_certificate: the CAs it verifies with, and the names its CertificateRequest lists. */
  readonly clientCertificateAuthorities: readonly Cert[];
  /** ssl_protocols. */
  readonly versions: VersionRange;
}

/** One client connection as the proxy saw it; `logLine` is its front line, if it earned one. */
export interface FrontConnection extends ServerConnection {
  /** nginx's connection number (`*N` in its error log), given by the proxy. */
  number?: number;
  /** The client's certificate as OpenSSL judged it against ssl_client_certificate. */
  verdict?: { readonly presented: boolean; readonly authorized: boolean; readonly error?: string };
}

/** What the front hands on: the connection's record, and where a line about it goes. */
export interface FrontHooks {
  readonly log: (connection: FrontConnection, level: 'info' | 'error', line: string) => void;
  readonly serve: (socket: tls.TLSSocket, connection: FrontConnection) => void;
  readonly listenAddress: () => string;
  /** A request answered here (plain HTTP on the TLS port), for the access log. */
  readonly access?: (connection: FrontConnection, record: Omit<AccessRecord, 'client'>) => void;
}

/**
 * Accepts one TCP connection as nginx's TLS server: over the server-role record tap (so the leg
 * shows what crossed the wire), OpenSSL as nginx's own OpenSSL. nginx's verify callback lets every
 * handshake finish whatever certificate comes (ngx_ssl_verify_callback returns 1); the verdict
 * is read afterwards, per request. A plain HTTP request on the TLS port gets the 400 page of
 * nginx's 497 (ngx_http_request.c).
 */
export function acceptFront(raw: net.Socket, settings: FrontSettings, context: tls.SecureContext, hooks: FrontHooks): FrontConnection {
  let settle!: () => void;
  const done = new Promise<void>((resolve) => { settle = resolve; });
  const tap: ServerTap = new ServerTap(raw, {
    notTls: (first) => {
      const request = plainRequest(first, raw);
      hooks.log(connection, 'info', `client sent plain HTTP request to HTTPS port while reading client request headers, ${requestContext(request)}`);
      const body = errorPage(400, PLAIN_HTTP);
      hooks.access?.(connection, { request: request.line, status: 400, bytes: request.method === 'HEAD' ? 0 : Buffer.byteLength(body), headers: request.headers });
      return Buffer.from(`HTTP/1.1 400 Bad Request\r\nServer: nginx/1.22.1\r\nDate: ${new Date().toUTCString()}\r\nContent-Type: text/html\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`, 'latin1');
    },
  });
  const connection: FrontConnection = {
    remote: goAddress(raw.remoteAddress, raw.remotePort),
    remoteAddress: (raw.remoteAddress ?? '').replace(/^::ffff:/, ''),
    remotePort: raw.remotePort ?? 0,
    local: goAddress(raw.localAddress, raw.localPort),
    tap,
    secure: false,
    done,
  };
  const socket = new tls.TLSSocket(tap, {
    isServer: true,
    secureContext: context,
    requestCert: settings.clientAuthentication !== 'none',
    rejectUnauthorized: false,
  });
  tap.attach(socket);
  socket.on('error', (error: NodeJS.ErrnoException) => { connection.nodeError ??= error; });
  socket.on('secure', () => {
    connection.secure = true;
    const peer = socket.getPeerCertificate();
    const presented = Boolean(peer && Object.keys(peer).length > 0);
    const error = presented ? opensslVerifyError(socket) : undefined;
    connection.verdict = { presented, authorized: presented && error === undefined, ...(error ? { error } : {}) };
    settle();
    hooks.serve(socket, connection);
  });
  socket.on('close', () => {
    if (!connection.secure && !tap.peerNotTls) {
      // nginx's client side logs handshake failures at info, naming its listening address.
      const where = `client: ${connection.remoteAddress}, server: ${hooks.listenAddress()}`;
      const failure = connection.nodeError ? opensslFailure('SSL_do_handshake', connection.nodeError.message) : undefined;
      hooks.log(connection, 'info', failure ? `${failure.text} while SSL handshaking, ${where}` : `client closed connection while SSL handshaking, ${where}`);
    }
    settle();
  });
  return connection;
}

/**
 * OpenSSL's verify result for the client's chain (SSL_get_verify_result, what nginx reads). A
 * TLSSocket made outside tls.Server never fills `authorized`; the handle's verifyError is where
 * tls.Server itself reads it (lib/_tls_wrap.js, onServerSocketSecure).
 */
function opensslVerifyError(socket: tls.TLSSocket): string | undefined {
  const handle = (socket as unknown as { _handle?: { verifyError?: () => (Error & { code?: string }) | null } })._handle;
  const error = handle?.verifyError?.();
  return error ? error.code ?? error.message : undefined;
}

/** A context per proxy: the client CAs are both the verify store and the CertificateRequest's names, as in nginx. */
export function frontContext(settings: FrontSettings): tls.SecureContext {
  return sharedContext({
    cert: settings.identity.certPem,
    key: settings.identity.keyPem,
    ...(settings.clientCertificateAuthorities.length ? { ca: settings.clientCertificateAuthorities.map((c) => c.pem) } : {}),
    minVersion: NODE_VERSION[settings.versions.min],
    maxVersion: NODE_VERSION[settings.versions.max],
    sessionIdContext: 'fleet-tls-secure-proxy',
  });
}

/** The verdict nginx gives a request for its connection's client certificate: a 400 and its line, or go on. */
export function judgeRequest(
  settings: FrontSettings, connection: FrontConnection,
): { reason: string; line: (context: string) => string } | undefined {
  if (settings.clientAuthentication === 'none') return undefined;
  const verdict = connection.verdict;
  if (!verdict?.presented) {
    if (settings.clientAuthentication !== 'required') return undefined;
    return { reason: NO_CERTIFICATE, line: (where) => `client sent no required SSL certificate while reading client request headers, ${where}` };
  }
  if (verdict.authorized) return undefined;
  // ssl_verify_client optional still refuses a certificate that fails verification (only optional_no_ca lets it through).
  return {
    reason: CERTIFICATE_ERROR,
    line: (where) => `client SSL certificate verify error: ${verifyError(verdict.error)} while reading client request headers, ${where}`,
  };
}

/** The request line and headers of a plain HTTP request's first bytes, for nginx's context and access log. */
function plainRequest(first: Buffer, raw: net.Socket): Parameters<typeof requestContext>[0] & { line: string; headers: AccessRecord['headers'] } {
  const text = first.toString('latin1');
  const line = /^([A-Z]+) (\S+) HTTP\/1\.[01]\r?\n/.exec(text);
  const header = (name: string) => new RegExp(`\\r?\\n${name}:[ \\t]*([^\\r\\n]*)`, 'i').exec(text)?.[1];
  return {
    client: (raw.remoteAddress ?? '').replace(/^::ffff:/, ''), method: line?.[1] ?? 'GET', path: line?.[2] ?? '/', host: header('host') ?? '',
    line: /^[^\r\n]*/.exec(text)![0], headers: { authorization: header('authorization'), referer: header('referer'), 'user-agent': header('user-agent') },
  };
}
