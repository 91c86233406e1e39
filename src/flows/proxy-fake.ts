import { closedPort } from '../components/network-faults.js';
import { FakeForwardProxy } from '../components/proxy/forward-proxy.js';
import { FakeSocksProxy } from '../components/proxy/socks-proxy.js';
import { ComponentLog } from '../components/log.js';
import type { Identity } from '../tls/material.js';
import type { PlannedProxy } from './install-plan.js';

/** What stands at the agent's --proxy-url during a flow: where the agent really connects, and its log. */
export interface ProxyFake extends AsyncDisposable {
  readonly port: number;
  readonly log: ComponentLog;
}

/**
 * The fake proxy the command's --proxy-url names: tinyproxy-like for http/https (an https one
 * presents --proxy-cert, else Fleet Server's certificate, which the agent's CAs already trust),
 * dante-like for socks5, or of the kind --proxy-serves says whatever the URL's scheme. Whatever
 * host the agent asks for is Fleet Server, as if DNS pointed there. `none` is a port nothing
 * listens on: the agent's dial is refused.
 */
export async function startProxyFake(planned: PlannedProxy & { listenPort: number }, fleetIdentity: Identity, fleetServer: { host: string; port: number }): Promise<ProxyFake> {
  const serves = planned.serves ?? planned.route.scheme;
  const log = new ComponentLog('proxy');
  if (serves === 'none') return { port: (await closedPort()).port, log, [Symbol.asyncDispose]: async () => {} };
  // --proxy-target-refused: the proxy's own dial goes where nothing listens.
  const target = planned.targetRefused ? { host: '127.0.0.1', port: (await closedPort()).port } : fleetServer;
  const common = {
    port: planned.listenPort, log, resolve: () => target,
    ...(planned.requireAuth ? { auth: planned.requireAuth } : {}),
  };
  if (serves === 'socks5') return FakeSocksProxy.start({ ...common, ...(planned.allowPorts ? { allowPorts: planned.allowPorts } : {}) });
  // --proxy-parent-refused: its parent proxy is a port nothing listens on.
  const parent = planned.parentRefused ? { parent: { host: '127.0.0.1', port: (await closedPort()).port } } : {};
  return FakeForwardProxy.start({ ...common, ...parent, scheme: serves, identity: planned.identity ?? fleetIdentity, ...(planned.allowPorts ? { connectPorts: planned.allowPorts } : {}) });
}
