import net from 'node:net';
import type { FakeFleetServer } from '../components/fleet-server.js';
import { FakeForwardProxy } from '../components/proxy/forward-proxy.js';
import { FakeSocksProxy } from '../components/proxy/socks-proxy.js';
import { ComponentLog } from '../components/log.js';
import type { Identity } from '../tls/material.js';
import type { PlannedProxy } from './install-plan.js';

/**
 * What is wrong with the forward proxy (--proxy-fault), each a failure Go words in its own way
 * (net/http transport.go dialConn, x/net's SOCKS dialer); the words are held against Go 1.19 and
 * real tinyproxy and dante in test/integration/proxy-forward.test.ts and proxy-peers.test.ts.
 * - `down`: nothing listens at the proxy's address.
 * - `plain`: the proxy speaks plain HTTP whatever the URL's scheme (an https:// URL meets it).
 * - `tls`: the proxy speaks TLS whatever the URL's scheme (an http:// URL meets it).
 * - `forbid-port`: the proxy refuses CONNECT to the target's port (tinyproxy's ConnectPort, a dante block).
 * - `target-down`: the proxy cannot reach the target (nothing listens there).
 */
export const PROXY_FAULTS = ['down', 'plain', 'tls', 'forbid-port', 'target-down'] as const;
export type ProxyFault = (typeof PROXY_FAULTS)[number];

/** A proxy that is not there: a port nothing listens on, and an empty log. */
class AbsentProxy implements AsyncDisposable {
  readonly log = new ComponentLog('proxy');
  constructor(readonly port: number) {}
  async [Symbol.asyncDispose](): Promise<void> {}
}

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * The fake proxy the command's --proxy-url names: tinyproxy-like for http/https (an https one
 * presents `identity`, Fleet Server's certificate, which the agent's CAs already trust), dante-like
 * for socks5, with the planned fault. Whatever host the agent asks for is Fleet Server, as if DNS
 * pointed there.
 */
export async function startFakeProxy(planned: PlannedProxy & { listenPort: number }, identity: Identity, fs: FakeFleetServer): Promise<FakeForwardProxy | FakeSocksProxy | AbsentProxy> {
  const fault = planned.fault;
  if (fault === 'down') return new AbsentProxy(await closedPort());
  const target = fault === 'target-down' ? { host: '127.0.0.1', port: await closedPort() } : fs.endpoint;
  const common = { port: planned.listenPort, log: new ComponentLog('proxy'), resolve: () => target, ...(planned.requireAuth ? { auth: planned.requireAuth } : {}) };
  // 443 only: what a proxy that allows CONNECT to HTTPS alone lets through (squid's SSL_ports, tinyproxy's ConnectPort 443).
  if (planned.route.scheme === 'socks5') return FakeSocksProxy.start({ ...common, ...(fault === 'forbid-port' ? { allowPorts: [443] } : {}) });
  const scheme = fault === 'plain' ? 'http' : fault === 'tls' ? 'https' : planned.route.scheme;
  return FakeForwardProxy.start({ ...common, scheme, identity, ...(fault === 'forbid-port' ? { connectPorts: [443] } : {}) });
}
