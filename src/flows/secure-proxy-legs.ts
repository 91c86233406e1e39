import { enrollAgent, type EnrollResult } from '../components/agent.js';
import { FakeSecureProxy, type ProxiedCall } from '../components/proxy/secure-proxy.js';
import type { FakeFleetServer } from '../components/fleet-server.js';
import type { ComponentLog } from '../components/log.js';
import type { ServerConnection } from '../components/server-dialect.js';
import { buildLeg, skippedLeg } from '../components/legs.js';
import type { Leg } from '../report/leg.js';
import type { PlannedSecureProxy } from './install-plan.js';
import type { FlowConfig } from './flow.js';
import { changedLeg } from '../capture/wire.js';
import type { AgentPolicyResult } from '../components/agent-policy.js';
import { agentPolicyStage } from './policy-stage.js';
import { nothingForwarded } from '../components/proxy/nothing-forwarded.js';

/**
 * The secure proxy's two placements in Elastic's deployment models ("Fleet Server behind a secure
 * proxy", "Elasticsearch behind a secure proxy"): starting it, and the legs of its two hops.
 */

/** The proxy's settings for a plan, towards `upstream` (where the component really listens). */
export function startSecureProxy(
  planned: PlannedSecureProxy, upstream: { url: string; endpoint: { host: string; port: number } }, versions: FlowConfig['fleetServer']['versions'],
): Promise<FakeSecureProxy> {
  const url = new URL(upstream.url);
  if (planned.upstreamScheme) url.protocol = `${planned.upstreamScheme}:`;
  return FakeSecureProxy.start({
    identity: planned.identity,
    clientAuthentication: planned.clientAuthentication,
    clientCertificateAuthorities: planned.clientCertificateAuthorities,
    upstream: url.origin,
    upstreamConnectTo: upstream.endpoint,
    upstreamName: planned.upstreamName ?? 'localhost',
    ...(planned.upstreamAuthorities ? { upstreamAuthorities: planned.upstreamAuthorities } : {}),
    ...(planned.upstreamCertificate ? { upstreamCertificate: planned.upstreamCertificate } : {}),
    // The run's TLS versions on both sides, as an nginx.conf naming them in ssl_protocols and
    // proxy_ssl_protocols (nginx 1.22's own defaults stop at TLS 1.2: NGINX_1_22_VERSIONS).
    ...(versions ? { versions, upstreamVersions: versions } : {}),
  });
}

/**
 * The agent enrolls through a proxy in front of Fleet Server: agent → proxy is the agent's TLS
 * leg with the proxy's side of it (its certificate, the CAs it asked with, its line), proxy →
 * fleet-server the proxy's own TLS leg with Fleet Server's side of that.
 */
export async function agentThroughSecureProxy(
  config: FlowConfig, planned: PlannedSecureProxy, fs: FakeFleetServer, log: ComponentLog,
): Promise<{ leg: Leg; enrolled: EnrollResult; proxyLog: ComponentLog; upstream: Leg; policy?: AgentPolicyResult; policyUpstream?: Leg }> {
  const url = config.agent.url;
  await using proxy = await startSecureProxy(planned, { url: fs.url, endpoint: fs.endpoint }, config.fleetServer.versions);
  const result = await enrollAgent({
    url,
    tls: config.agent.tls,
    enrollmentToken: config.agent.enrollmentToken ?? fs.enrollmentToken ?? '',
    connectTo: proxy.endpoint,
    fleetServer: proxy,
    log,
    legTo: 'proxy',
    ...(config.agent.timeoutMs !== undefined ? { timeoutMs: config.agent.timeoutMs } : {}),
  });
  const upstream = await upstreamLeg(proxy, proxy.calls, 'fleet-server', fs, nothingForwarded('the agent', result.leg));
  // The policy's Fleet Server host is the proxy's address too (Fleet → Settings names what agents
  // reach): the agent's next connection, with the policy's ssl, ends at the proxy again
  // (elastic-agent handler_action_policy_change.go, handleFleetServerConfig: GET /api/status before applying).
  const before = proxy.callCount;
  const runsFleetServer = config.agent.runsFleetServer === true;
  const policy = await agentPolicyStage({
    enrolled: result, fs, log, runsFleetServer,
    ...(config.agent.policyProxyAuth ? { proxyAuth: config.agent.policyProxyAuth } : {}),
    ...(config.agent.timeoutMs !== undefined ? { timeoutMs: config.agent.timeoutMs } : {}),
    settings: { url, tls: config.agent.tls },
    answeredBy: { endpoint: proxy.endpoint, server: proxy, legTo: 'proxy' },
  });
  if (!policy) return { leg: result.leg, enrolled: result, proxyLog: proxy.log, upstream };
  const forwarded = await upstreamLeg(proxy, proxy.callsSince(before), 'fleet-server', fs, nothingForwarded('the agent', policy.leg));
  return { leg: result.leg, enrolled: result, proxyLog: proxy.log, upstream, policy, policyUpstream: changedLeg(forwarded, { stage: 'policy' }) };
}

/**
 * The proxy → upstream leg: the first call that failed, else the first, with the upstream
 * component's side of that connection. No call: the proxy refused at its front, or nobody came.
 */
export async function upstreamLeg(
  proxy: FakeSecureProxy, calls: readonly ProxiedCall[], to: 'fleet-server' | 'elasticsearch',
  server: { connection(localPort: number | undefined): Promise<ServerConnection | undefined> } | undefined, nothing: string,
): Promise<Leg> {
  const call = calls.find((c) => c.failure !== undefined || (c.exchange.response?.status ?? 500) >= 400) ?? calls[0];
  if (!call) return skippedLeg('proxy', to, proxy.url, nothing);
  const status = call.exchange.response?.status;
  const secure = call.url.startsWith('https:');
  return buildLeg({
    from: 'proxy',
    to,
    url: call.url,
    exchange: call.exchange,
    ok: call.failure === undefined && status !== undefined && status < 400,
    method: call.method,
    ...(call.line ? { clientLog: call.line } : {}),
    ...(server && secure && call.exchange.connection.localPort ? { server: await server.connection(call.exchange.connection.localPort) } : {}),
  });
}
