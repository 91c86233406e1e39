import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import type { Identity } from '../tls/material.js';
import { DEFAULT_VERSIONS, NODE_VERSION, type VersionRange } from '../tls/settings.js';

/**
 * What a client may find where its URL points instead of the component (a scenario's
 * `settings.network`): nothing listening, or a listener that completes the TLS handshake and
 * then never answers (an overloaded node, a hung load balancer or proxy in front of it).
 * - refused: the port is closed; Go's dial fails with `connect: connection refused`
 * - silent: the handshake completes with the component's own certificate, the request is
 *   read and never answered, until the client's own timeout gives up
 */
export type NetworkFault = 'refused' | 'silent';

/** Where a faulty endpoint listens, and how to take it down. */
export interface FaultEndpoint {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * A loopback port nothing listens on. Not one the system hands out for port 0: a port it just took
 * back goes to the next listener soon enough (a CI run saw a closed port answered by another test's
 * server). So it is picked below the ephemeral range, where only a fixed port would land, and
 * checked free.
 */
export async function closedPort(): Promise<FaultEndpoint> {
  const low = ephemeralLow();
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = low - 1 - Math.floor(Math.random() * Math.min(8000, low - 1025));
    if (await free(port)) return { host: '127.0.0.1', port, close: () => Promise.resolve() };
  }
  // Every pick taken (a crowded machine): the system's own choice, as a last resort.
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return { host: '127.0.0.1', port, close: () => Promise.resolve() };
}

/** The first port Linux hands out for port 0 (ip_local_port_range); IANA's 49152 elsewhere. */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 2048 ? low : 49152;
  } catch {
    return 49152;
  }
}

function free(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/**
 * A TLS listener that presents `identity`, completes every handshake and then only reads: the
 * client's request is never answered. Its sockets are the harness's, not a fake component's,
 * so no component logs anything about them (a hung server writes nothing either).
 */
export async function silentEndpoint(identity: Identity, versions: VersionRange = DEFAULT_VERSIONS): Promise<FaultEndpoint> {
  const held = new Set<net.Socket>();
  const hold = (socket: net.Socket) => {
    held.add(socket);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => held.delete(socket));
    socket.resume();
  };
  const server = tls.createServer({
    cert: identity.certPem, key: identity.keyPem,
    minVersion: NODE_VERSION[versions.min], maxVersion: NODE_VERSION[versions.max],
  }, hold);
  // A client that gives up during the handshake (or a stray byte) must never surface here.
  server.on('tlsClientError', (_error, socket) => socket.destroy());
  server.on('connection', (raw: net.Socket) => raw.on('error', () => raw.destroy()));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    close: async () => {
      for (const socket of held) socket.destroy();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The endpoint a fault stands for, presenting `identity` where it answers the handshake. */
export function faultEndpoint(fault: NetworkFault, identity: Identity, versions?: VersionRange): Promise<FaultEndpoint> {
  return fault === 'refused' ? closedPort() : silentEndpoint(identity, versions);
}
