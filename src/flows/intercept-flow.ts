import { enrollAgent, type EnrollResult } from '../components/agent.js';
import type { FakeFleetServer } from '../components/fleet-server.js';
import { ComponentLog } from '../components/log.js';
import { skippedLeg, summarise } from '../components/legs.js';
import { FakeInterceptingProxy, type Interception } from '../components/proxy/intercepting-proxy.js';
import { rememberWire, wireOf } from '../capture/wire.js';
import type { Leg } from '../report/leg.js';
import { nameToString } from '../x509/certificate.js';
import type { FlowConfig } from './flow.js';
import type { PlannedProxy } from './install-plan.js';

/**
 * The agent enrolls through a TLS-intercepting proxy (--proxy-url with --proxy-intercept). The
 * agent's TLS ends at the proxy, so the report has two legs where a tunnel has one: agent → proxy,
 * with the certificate the proxy minted (what the agent really verified), and proxy → fleet-server,
 * the proxy's own handshake with Fleet Server, its trust and Fleet Server's words about it.
 */
export async function interceptLegs(
  config: FlowConfig,
  planned: PlannedProxy & { readonly listenPort: number },
  fs: FakeFleetServer,
  log: ComponentLog,
): Promise<{ leg: Leg; enrolled: EnrollResult; proxyLog: ComponentLog; upstream: Leg }> {
  const intercept = planned.intercept!;
  await using proxy = await FakeInterceptingProxy.start({
    port: planned.listenPort,
    log: new ComponentLog('proxy'),
    // Whatever host the agent asks for is Fleet Server, as if DNS pointed there.
    resolve: () => fs.endpoint,
    ...(intercept.root ? { root: intercept.root } : {}),
    ...(intercept.upstreamAuthorities ? { upstreamAuthorities: intercept.upstreamAuthorities } : {}),
    ...(intercept.upstreamIdentity ? { upstreamIdentity: intercept.upstreamIdentity } : {}),
    ...(planned.requireAuth ? { auth: planned.requireAuth } : {}),
    ...(planned.allowPorts ? { connectPorts: planned.allowPorts } : {}),
    // Like the other fakes, it accepts only the run's TLS version from the agent.
    ...(config.fleetServer.versions ? { versions: config.fleetServer.versions } : {}),
  });
  const url = config.agent.url;
  const result = await enrollAgent({
    url,
    tls: config.agent.tls,
    enrollmentToken: config.agent.enrollmentToken ?? fs.enrollmentToken ?? '',
    log,
    proxy: { url: planned.route.url.href, headers: planned.route.headers },
    proxyFake: { log: proxy.log, connectTo: { host: '127.0.0.1', port: proxy.port } },
    legTo: 'proxy',
    ...(config.agent.timeoutMs !== undefined ? { timeoutMs: config.agent.timeoutMs } : {}),
  });
  const { proxyLeg: hop, ...enrolled } = result;
  const target = new URL(url);
  const upstreamUrl = `https://${target.host}`;
  if (!hop?.ok) {
    // CONNECT itself was refused (407, a refused port): the hop is the leg, nothing went further.
    const refused = hop ?? result.leg;
    return { leg: refused, enrolled, proxyLog: proxy.log, upstream: skippedLeg('proxy', 'fleet-server', upstreamUrl, 'the proxy did not accept the CONNECT') };
  }
  const local = wireOf(result.leg)?.local;
  const clientPort = local ? Number(local.slice(local.lastIndexOf(':') + 1)) : undefined;
  await proxy.settled(clientPort);
  const lines = proxy.log.entries.filter((e) => e.fields?.clientPort === clientPort).map((e) => e.message);
  const { via: _via, ...direct } = result.leg;
  const leg: Leg = { ...direct, logs: { ...direct.logs, ...(lines.length ? { proxy: lines.join('\n') } : {}) } };
  const wire = wireOf(result.leg);
  if (wire) rememberWire(leg, wire);
  const record = proxy.interception(clientPort);
  return { leg, enrolled, proxyLog: proxy.log, upstream: await upstreamLeg(record, upstreamUrl, fs) };
}

/** The proxy's own connection to Fleet Server, from its record and Fleet Server's side of it. */
async function upstreamLeg(record: Interception | undefined, url: string, fs: FakeFleetServer): Promise<Leg> {
  const upstream = record?.upstream;
  if (!upstream) return skippedLeg('proxy', 'fleet-server', url, 'the proxy did not connect to Fleet Server (no server name to connect with)');
  if (upstream.refused) {
    return {
      from: 'proxy', to: 'fleet-server', url, ok: false, tls: null, serverCertificate: null, clientCertificate: null,
      rejectedBy: 'server', phase: 'connect', alert: null, logs: {}, node: { code: 'ECONNREFUSED', message: 'connect: connection refused' },
    };
  }
  const server = await fs.connection(upstream.localPort);
  const chain = server?.tap.clientChain;
  const presented = chain !== null && chain !== undefined && chain.length > 0;
  const request = server?.tap.certificateRequest;
  return {
    from: 'proxy',
    to: 'fleet-server',
    url,
    ok: upstream.ok,
    tls: upstream.version ? { version: upstream.version, cipher: upstream.cipher ?? 'unknown' } : null,
    serverCertificate: summarise(upstream.serverChain[0]),
    clientCertificate: presented
      ? { presented: true, why: 'the proxy\'s own certificate (tls_outgoing_options cert=): it cannot present the agent\'s, whose key stays with the agent' }
      : { presented: false, why: request ? 'the proxy has no certificate to present: it terminated the agent\'s TLS, and the agent\'s key stays with the agent' : 'Fleet Server did not ask for one' },
    rejectedBy: upstream.verifyError ? 'client' : upstream.alert ? 'server' : null,
    phase: upstream.ok ? null : upstream.afterHandshake ? 'after-handshake' : 'handshake',
    alert: upstream.alert ?? null,
    logs: server?.logLine ? { 'fleet-server': server.logLine } : {},
    // squid logs nothing for a server it cannot verify (it answers the client instead): OpenSSL's verdict is kept here.
    node: upstream.verifyError ? { code: 'X509_V_ERR', message: upstream.verifyError } : null,
    verifiedWith: {
      client: { mode: 'full', authorities: upstream.authorities ? [...upstream.authorities] : null },
      server: request ? request.certificateAuthorities.map((name) => nameToString(name)) : null,
    },
  };
}
