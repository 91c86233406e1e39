import tls from 'node:tls';
import { parseCertificate, type Cert } from '../../x509/certificate.js';
import type { Identity } from '../../tls/material.js';
import { sharedContext } from '../../tls/shared-context.js';
import { verifyError } from './nginx-words.js';
import { authorizationCode, peerChainDer } from './peer-certificates.js';

/**
 * The intercepting proxy's own TLS to the server the client asked for. squid is an OpenSSL
 * program, so OpenSSL (Node's) verifies here, with squid's `tls_outgoing_options`: its CA file (or
 * the system's roots) and the server's name. squid 5.7 completes the handshake with a server it
 * cannot verify and reports the failure to the client afterwards, so the server logs nothing.
 */
export interface UpstreamHandshake {
  /** The handshake finished and the server's certificate verified for the requested name. */
  ok: boolean;
  /** Nothing listened on the server's port. */
  readonly refused?: boolean;
  /** The address squid logs as HIER_DIRECT's peer. */
  readonly peer: string;
  /** The proxy's port toward the server (ties the record to the server's side of the connection). */
  readonly localPort?: number;
  readonly version?: string;
  readonly cipher?: string;
  readonly serverChain: readonly Cert[];
  /** OpenSSL's verdict in nginx's `(N:text)` form, which is OpenSSL's own numbering; absent when it verified. */
  readonly verifyError?: string;
  /** The alert the server ended the connection with, by its RFC name. */
  alert?: string;
  /** The server's refusal came after the proxy's handshake was done (TLS 1.3's client-certificate refusal). */
  afterHandshake?: boolean;
  /** The CAs the proxy trusted upstream, by subject (null: the system's roots). */
  readonly authorities: readonly string[] | null;
}

export interface UpstreamSettings {
  readonly upstreamAuthorities?: readonly Cert[];
  readonly upstreamIdentity?: Identity;
}

/** How long {@link UpstreamDial.verdict} waits for a TLS 1.3 server that sends nothing after its handshake. */
const VERDICT_CAP_MS = 2_000;

/** The proxy's own connection upstream, once its handshake is over. */
export interface UpstreamDial {
  readonly socket?: tls.TLSSocket;
  readonly record: UpstreamHandshake;
  /**
   * Resolves once the server's word on the proxy's handshake is in: at once under TLS 1.2 (the
   * server decides inside the handshake), under TLS 1.3 at its session ticket, its alert (a
   * client-certificate refusal comes after the client's Finished) or its close.
   */
  readonly verdict: Promise<void>;
}

/** Dials and handshakes; never rejects: every outcome is a record. */
export async function dialUpstreamTls(where: { host: string; port: number }, serverName: string, settings: UpstreamSettings): Promise<UpstreamDial> {
  const verdict = Promise.resolve();
  const authorities = settings.upstreamAuthorities ? settings.upstreamAuthorities.map((c) => c.subject) : null;
  const base = { peer: where.host, serverChain: [] as Cert[], authorities };
  const socket = tls.connect({
    host: where.host,
    port: where.port,
    servername: serverName,
    rejectUnauthorized: false,
    secureContext: sharedContext({
      minVersion: 'TLSv1.2',
      ...(settings.upstreamAuthorities ? { ca: settings.upstreamAuthorities.map((c) => c.pem) } : {}),
      ...(settings.upstreamIdentity ? { cert: settings.upstreamIdentity.certPem, key: settings.upstreamIdentity.keyPem } : {}),
    }),
  });
  let localPort: number | undefined;
  socket.once('connect', () => { localPort = socket.localPort; });
  // squid's connect_timeout (1 minute by default) bounds an upstream that never finishes its handshake.
  socket.setTimeout(60_000, () => socket.destroy(Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' })));
  const failure = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
    socket.once('secureConnect', () => resolve(null));
    socket.once('error', (error) => resolve(error));
  });
  socket.setTimeout(0);
  socket.on('error', () => {});
  if (failure) {
    socket.destroy();
    if (failure.code === 'ECONNREFUSED') return { record: { ...base, ok: false, refused: true }, verdict };
    return { record: { ...base, ok: false, ...(localPort ? { localPort } : {}), ...alertOf(failure) }, verdict };
  }
  const serverChain = peerChain(socket);
  const leaf = socket.getPeerCertificate();
  const chainCode = authorizationCode(socket);
  const nameError = chainCode ? undefined : tls.checkServerIdentity(serverName, leaf);
  const code = chainCode ?? (nameError ? 'ERR_TLS_CERT_ALTNAME_INVALID' : undefined);
  const cipher = socket.getCipher();
  const record: UpstreamHandshake = {
    ...base,
    // squid logs the address it connected to (HIER_DIRECT/127.0.0.1), not the name it resolved.
    peer: (socket.remoteAddress ?? where.host).replace(/^::ffff:/, ''),
    ok: code === undefined,
    ...(localPort ? { localPort } : {}),
    version: (socket.getProtocol() ?? 'unknown').replace(/^TLSv/, ''),
    cipher: cipher.standardName ?? cipher.name,
    serverChain,
    ...(code ? { verifyError: verifyError(code) } : {}),
  };
  if (!record.ok) {
    socket.end();
    return { record, verdict };
  }
  // A TLS 1.3 server refuses a client certificate after the client's handshake: note it when it comes.
  socket.once('error', (error: NodeJS.ErrnoException) => {
    const alert = alertOf(error).alert;
    if (alert) Object.assign(record, { ok: false, alert, afterHandshake: true });
  });
  return { socket, record, verdict: record.version === '1.3' ? serverWord(socket) : verdict };
}

/** The first thing a TLS 1.3 server sends or does after the handshake (never reading its data: the relay does). */
function serverWord(socket: tls.TLSSocket): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, VERDICT_CAP_MS);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    socket.once('session', done);
    socket.once('error', done);
    socket.once('end', done);
    socket.once('close', done);
  });
}

/** Node's `ERR_SSL_..._ALERT_<NAME>` codes name the alert the peer sent. */
function alertOf(error: NodeJS.ErrnoException): { alert?: string } {
  const match = /ALERT_([A-Z_]+)$/.exec(error.code ?? '');
  return match ? { alert: match[1]!.toLowerCase() } : {};
}

/** The presented chain as far as it parses. */
function peerChain(socket: tls.TLSSocket): Cert[] {
  const chain: Cert[] = [];
  for (const der of peerChainDer(socket)) {
    try {
      chain.push(parseCertificate(der));
    } catch {
      break;
    }
  }
  return chain;
}
