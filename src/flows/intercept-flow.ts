import { enrollAgent, type EnrollResult } from '../components/agent.js';
import type { FakeFleetServer } from '../components/fleet-server.js';
import { ComponentLog } from '../components/log.js';
import { skippedLeg, summarise } from '../components/legs.js';
import { FakeInterceptingProxy, type Interception } from '../components/proxy/intercepting-proxy.js';
import { changedLeg, rememberWire, wireOf } from '../capture/wire.js';
import type { AgentPolicyResult } from '../components/agent-policy.js';
import { agentPolicyStage } from './policy-stage.js';
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
): Promise<{ leg: Leg; enrolled: EnrollResult; proxyLog: ComponentLog; upstream: Leg; policy?: AgentPolicyResult; policyUpstream?: Leg }> {
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
  const enrollmentProxy = { url: planned.route.url.href, headers: planned.route.headers };
  const result = await enrollAgent({
    url,
    tls: config.agent.tls,
    enrollmentToken: config.agent.enrollmentToken ?? fs.enrollmentToken ?? '',
    log,
    proxy: enrollmentProxy,
    proxyFake: { log: proxy.log, connectTo: { host: '127.0.0.1', port: proxy.port }, upstreamVerdict: (port) => proxy.upstreamVerdict(port) },
    legTo: 'proxy',
    ...(config.agent.timeoutMs !== undefined ? { timeoutMs: config.agent.timeoutMs } : {}),
  });
  const { proxyLeg: hop, ...enrolled } = result;
  const upstreamUrl = `https://${new URL(url).host}`;
  const { leg, upstream } = await throughInterception(proxy, result.leg, hop, upstreamUrl, fs);
  // The policy takes over: the agent keeps --proxy-url unless the policy's Fleet Server host names
  // a proxy of its own (elastic-agent handler_action_policy_change.go, applyConfigWithPrecedence), so its
  // next connection meets the same interception, or a proxy that does not intercept at all.
  const runsFleetServer = config.agent.runsFleetServer === true;
  const policy = await agentPolicyStage({
    enrolled: result, fs, log, runsFleetServer,
    ...(config.agent.policyProxyAuth ? { proxyAuth: config.agent.policyProxyAuth } : {}),
    ...(config.agent.timeoutMs !== undefined ? { timeoutMs: config.agent.timeoutMs } : {}),
    settings: { url, tls: config.agent.tls, ...(runsFleetServer ? {} : { proxy: { ...enrollmentProxy, disable: false } }) },
    enrollmentProxy: {
      url: enrollmentProxy.url, log: proxy.log, connectTo: { host: '127.0.0.1', port: proxy.port }, intercepts: true, upstreamVerdict: (port) => proxy.upstreamVerdict(port),
    },
  });
  if (!policy || policy.leg.to !== 'proxy') return { leg, enrolled, proxyLog: proxy.log, upstream, ...(policy ? { policy } : {}) };
  const target = new URL(policy.client.url);
  const intercepted = await throughInterception(proxy, policy.leg, policy.proxyLeg, `https://${target.host}`, fs);
  const { proxyLeg: _hop, ...kept } = policy;
  return {
    leg, enrolled, proxyLog: proxy.log, upstream,
    policy: { ...kept, leg: changedLeg(intercepted.leg, { stage: 'policy' }) },
    policyUpstream: changedLeg(intercepted.upstream, { stage: 'policy' }),
  };
}

/**
 * One connection through the interception as the report shows it: the agent's TLS leg ends at the
 * proxy (with the proxy's lines about it), or, when CONNECT itself was refused (407, a refused
 * port), the hop is the leg and nothing went further; then the proxy's own leg to Fleet Server.
 */
async function throughInterception(proxy: FakeInterceptingProxy, tlsLeg: Leg, hop: Leg | undefined, upstreamUrl: string, fs: FakeFleetServer): Promise<{ leg: Leg; upstream: Leg }> {
  if (!hop?.ok) return { leg: hop ?? tlsLeg, upstream: skippedLeg('proxy', 'fleet-server', upstreamUrl, 'the proxy did not accept the CONNECT') };
  const wire = wireOf(tlsLeg);
  const local = wire?.local;
  const clientPort = local ? Number(local.slice(local.lastIndexOf(':') + 1)) : undefined;
  await proxy.settled(clientPort);
  const lines = proxy.log.entries.filter((e) => e.fields?.clientPort === clientPort).map((e) => e.message);
  const { via: _via, ...direct } = tlsLeg;
  const leg: Leg = { ...direct, logs: { ...direct.logs, ...(lines.length ? { proxy: lines.join('\n') } : {}) } };
  if (wire) rememberWire(leg, wire);
  return { leg, upstream: await upstreamLeg(proxy.interception(clientPort), upstreamUrl, fs) };
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
