/**
 * The second act of a flow: the policy takes over after enrollment. The agent applies the policy
 * its first checkin delivered and connects again with its Fleet Server settings; Fleet Server tests
 * its policy's output; the agent's Beats then ship with that output as it is. Every connection goes
 * to the fakes the flow already runs; only a proxy the policy names (and enrollment did not) is
 * started for it.
 */
import { applyAgentPolicy, policyFleetClient, type AgentPolicyResult } from '../components/agent-policy.js';
import type { EnrollResult } from '../components/agent.js';
import type { FakeElasticsearch } from '../components/elasticsearch.js';
import type { FakeFleetServer } from '../components/fleet-server.js';
import { takePolicyOutput, type PolicyOutputResult } from '../components/fleet-server-policy.js';
import { ComponentLog } from '../components/log.js';
import { outputProxySettings, type PolicyOutput } from '../components/output.js';
import type { FleetClientSettings } from '../components/policy.js';
import { startProxyFake, type ProxyFake } from './proxy-fake.js';
import { proxyRoute, urlCredentials, type ProxyCredentials, type ProxyRoute } from '../components/proxy/proxy-url.js';
import type { Identity } from '../tls/material.js';

/** Credentials a fake proxy demands. */
export type ProxyAuth = ProxyCredentials;

/** A fake proxy running for the flow: where it listens and its log. */
interface RunningProxy {
  readonly url: string;
  readonly log: ComponentLog;
  readonly connectTo: { readonly host: string; readonly port: number };
}

/**
 * The fake forward proxy a proxy URL of the policy names (see {@link startProxyFake}): it demands
 * `demand` (--proxy-require-auth) or else the URL's own credentials, if any, and sends every
 * tunnel to `target`, as if DNS pointed there.
 */
export function startPolicyProxy(route: ProxyRoute, target: { host: string; port: number }, identity: Identity, demand?: ProxyAuth): Promise<ProxyFake> {
  const requireAuth = demand ?? urlCredentials(route.url);
  return startProxyFake({ route, disabled: false, bypassed: false, listenPort: 0, ...(requireAuth ? { requireAuth } : {}) }, identity, target);
}

export interface AgentPolicyStage {
  readonly enrolled: EnrollResult;
  readonly settings: FleetClientSettings;
  readonly runsFleetServer: boolean;
  readonly fs: FakeFleetServer;
  readonly log: ComponentLog;
  /** The proxy enrollment went through, still running: reused when the policy keeps it. */
  readonly enrollmentProxy?: RunningProxy;
  /** What a proxy only the policy names demands (--proxy-require-auth), instead of its URL's credentials. */
  readonly proxyAuth?: ProxyAuth;
}

/** The agent applies its first policy; undefined when enrollment delivered none. */
export async function agentPolicyStage(stage: AgentPolicyStage): Promise<AgentPolicyResult | undefined> {
  const { enrolled, fs } = stage;
  if (!enrolled.ok || !enrolled.policy || !enrolled.policyActionId || !enrolled.accessApiKey || !enrolled.agentId) return undefined;
  const client = policyFleetClient(stage.settings, enrolled.policy, stage.runsFleetServer);
  const route = stage.runsFleetServer ? undefined : proxyRoute(client.proxy);
  const reuse = route && stage.enrollmentProxy?.url === route.url.href ? stage.enrollmentProxy : undefined;
  await using started = route && !reuse ? await startPolicyProxy(route, fs.endpoint, fs.options.identity, stage.proxyAuth) : undefined;
  const proxyFake = reuse ?? (started ? { log: started.log, connectTo: { host: '127.0.0.1', port: started.port } } : undefined);
  return await applyAgentPolicy({
    enrolled: stage.settings, policy: enrolled.policy, actionId: enrolled.policyActionId, agentId: enrolled.agentId,
    accessApiKey: enrolled.accessApiKey, runsFleetServer: stage.runsFleetServer, log: stage.log,
    connectTo: fs.endpoint, fleetServer: fs, client,
    ...(proxyFake ? { proxyFake } : {}),
  });
}

/**
 * Fleet Server tests its policy's output, then the agent ships with it: one fake proxy serves
 * both when the output names one. `ship` runs the agent's output leg with the proxy's address.
 */
export async function outputPolicyStage<T>(
  output: PolicyOutput | undefined, fs: FakeFleetServer,
  target: { readonly endpoint: { host: string; port: number }; readonly elasticsearch?: FakeElasticsearch },
  identity: Identity,
  ship: (proxyFake: { log: ComponentLog; connectTo: { host: string; port: number } } | undefined) => Promise<T>,
  proxyAuth?: ProxyAuth,
): Promise<{ fleet?: PolicyOutputResult; shipped: T }> {
  const settings = output ? outputProxySettings(output) : undefined;
  // A proxy_url the harness cannot read starts nothing: the legs report it in the components' words.
  let route: ProxyRoute | undefined;
  try {
    route = proxyRoute(settings, 'proxy_url');
  } catch {
    route = undefined;
  }
  // An https:// proxy presents Elasticsearch's certificate, which the output's CAs already trust.
  await using proxy = route ? await startPolicyProxy(route, target.endpoint, identity, proxyAuth) : undefined;
  const proxyFake = proxy ? { log: proxy.log, connectTo: { host: '127.0.0.1', port: proxy.port } } : undefined;
  const fleet = output && fs.healthy
    ? await takePolicyOutput(fs, { output, connectTo: target.endpoint, ...(target.elasticsearch ? { elasticsearch: target.elasticsearch } : {}), ...(proxyFake ? { proxyConnectTo: proxyFake.connectTo } : {}) })
    : undefined;
  return { ...(fleet ? { fleet } : {}), shipped: await ship(proxyFake) };
}
