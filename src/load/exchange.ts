import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import type { TlsVersion } from '../tls/settings.js';
import { exchange } from './http1.js';

/** Where and how the simulated agents connect: one secure context shared by every connection. */
export interface Target {
  readonly host: string;
  readonly port: number;
  /** SNI and the name the server certificate is checked against (Node's rules). */
  readonly servername: string;
  readonly context: tls.SecureContext;
  /** The CAs that verify the server (see verifyServer), and recent verdicts by chain. */
  readonly trusted: readonly X509Certificate[];
  readonly verdicts: Map<string, { problem: Error | undefined; until: number }>;
  readonly tls: TlsVersion;
}

export interface Material {
  /** agent-cert chain and its decrypted key; the CAs that verify the server. */
  readonly certPem: string;
  readonly keyPem: string;
  readonly caPem: string;
}

export function targetFor(url: URL, material: Material, version: TlsVersion): Target {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return {
    host,
    port: Number(url.port || 443),
    servername: host,
    tls: version,
    context: tls.createSecureContext({ cert: material.certPem, key: material.keyPem, minVersion: `TLSv${version}`, maxVersion: `TLSv${version}` }),
    trusted: pemBlocks(material.caPem).map((pem) => new X509Certificate(pem)),
    verdicts: new Map(),
  };
}

function pemBlocks(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
}

const failure = (code: string, message: string) => Object.assign(new Error(message), { code });

/**
 * The server's chain, checked with X509Certificate: each link signed by the next, the last by a
 * trusted CA, all within their validity, the leaf for the host. Node's own check would first
 * turn the whole chain into JS objects (getPeerCertificate), a quarter of a client's CPU here.
 */
export function verifyServer(socket: tls.TLSSocket, target: Target, now = new Date()): Error | undefined {
  const leaf = socket.getPeerX509Certificate();
  if (!leaf) return failure('ERR_TLS_NO_PEER_CERTIFICATE', 'the server sent no certificate');
  const presented: X509Certificate[] = [];
  for (let c: X509Certificate | undefined = leaf; c && presented.length < 8 && !presented.some((p) => p.fingerprint256 === c!.fingerprint256); c = c.issuerCertificate) presented.push(c);
  // The server presents the same chain every time: its verdict holds for a second.
  const key = presented.map((c) => c.fingerprint256).join('/');
  const known = target.verdicts.get(key);
  if (known && known.until > now.getTime()) return known.problem;
  const problem = verifyChain(leaf, presented, target, now);
  if (target.verdicts.size > 100) target.verdicts.clear();
  target.verdicts.set(key, { problem, until: now.getTime() + 1_000 });
  return problem;
}

function verifyChain(leaf: X509Certificate, presented: readonly X509Certificate[], target: Target, now: Date): Error | undefined {
  let current = leaf;
  for (let depth = 0; ; depth++) {
    if (new Date(current.validFrom) > now || new Date(current.validTo) < now) return failure('CERT_HAS_EXPIRED', `certificate ${current.subject} is not valid now`);
    if (target.trusted.some((ca) => current.checkIssued(ca) && current.verify(ca.publicKey))) break;
    const next = presented.find((c) => c !== current && c.ca && current.checkIssued(c) && current.verify(c.publicKey));
    if (!next || depth > 6) return failure('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the server certificate against the CAs given');
    current = next;
  }
  const host = target.servername;
  const named = isIp(host) ? leaf.checkIP(host) : leaf.checkHost(host);
  return named ? undefined : failure('ERR_TLS_CERT_ALTNAME_INVALID', `the server certificate is not for ${host}`);
}

export interface Exchange {
  readonly status: number;
  readonly body: string;
  readonly resumed: boolean;
  /** The session to resume next time (TLS 1.3 tickets arrive after the handshake). */
  readonly session?: Buffer;
  readonly ms: number;
}

const TIMEOUT_MS = 10_000;

/** A connection, and the latest session it was given to resume later. */
interface Connection {
  readonly socket: tls.TLSSocket;
  ticket?: Buffer;
}

/** Opens a connection (resuming `session` when given) and handshakes. */
export function connect(target: Target, session?: Buffer): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: target.host, port: target.port, secureContext: target.context,
      servername: isIp(target.servername) ? '' : target.servername,
      // Verified below (verifyServer); without CAs here OpenSSL's verdict is always negative,
      // which also spares Node's getPeerCertificate.
      rejectUnauthorized: false,
      ...(session ? { session } : {}),
    });
    // TLS 1.2 hands its ticket over inside the handshake, 1.3 after it.
    const connection: Connection = { socket };
    socket.on('session', (ticket: Buffer) => { connection.ticket = ticket; });
    socket.setNoDelay(true);
    socket.setTimeout(TIMEOUT_MS, () => socket.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    socket.once('secureConnect', () => {
      socket.off('error', reject);
      socket.setTimeout(0);
      // A resumed session was verified when it was first made.
      const problem = socket.isSessionReused() ? undefined : verifyServer(socket, target);
      if (problem) {
        socket.destroy();
        reject(problem);
      } else {
        resolve(connection);
      }
    });
    socket.once('error', reject);
  });
}

/**
 * One HTTPS request on a connection of its own, as the agent makes each enroll and checkin:
 * connect, handshake, request, response, close. Rejects with the socket's or Node's error.
 */
export async function request(
  target: Target, path: string, headers: Record<string, string>, body: string, session?: Buffer, onSocket?: (socket: tls.TLSSocket) => void,
): Promise<Exchange> {
  const started = performance.now();
  const connection = await connect(target, session);
  const { socket } = connection;
  // A long poll is silent by design; everything else must answer within the timeout.
  if (onSocket) onSocket(socket);
  else socket.setTimeout(TIMEOUT_MS, () => socket.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
  try {
    const response = await exchange(socket, target.servername, path, headers, body);
    return { ...response, resumed: socket.isSessionReused(), ...(connection.ticket ?? session ? { session: (connection.ticket ?? session)! } : {}), ms: performance.now() - started };
  } finally {
    socket.destroy();
  }
}

/** The bare pair's exchange: handshake, one byte each way, close; no HTTP at all. */
export async function bareExchange(target: Target, session?: Buffer): Promise<Exchange> {
  const started = performance.now();
  const connection = await connect(target, session);
  const { socket } = connection;
  socket.setTimeout(TIMEOUT_MS, () => socket.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('data', () => resolve());
      socket.once('error', reject);
      socket.once('end', () => resolve());
      socket.write('x');
    });
    return { status: 200, body: '', resumed: socket.isSessionReused(), ...(connection.ticket ?? session ? { session: (connection.ticket ?? session)! } : {}), ms: performance.now() - started };
  } finally {
    socket.destroy();
  }
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}
