import http from 'node:http';
import tls from 'node:tls';
import type { TlsVersion } from '../tls/settings.js';

/** Where and how the simulated agents connect: one secure context shared by every connection. */
export interface Target {
  readonly host: string;
  readonly port: number;
  /** SNI and the name the server certificate is checked against (Node's rules). */
  readonly servername: string;
  readonly context: tls.SecureContext;
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
    context: tls.createSecureContext({
      cert: material.certPem, key: material.keyPem, ca: material.caPem,
      minVersion: `TLSv${version}`, maxVersion: `TLSv${version}`,
    }),
  };
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
      checkServerIdentity: (_name, cert) => tls.checkServerIdentity(target.servername, cert),
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
      resolve(connection);
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
    const response = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request({
        method: 'POST', host: target.servername, port: target.port, path,
        headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), connection: 'close' },
        createConnection: () => socket,
      });
      req.on('error', reject);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.end(body);
    });
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
