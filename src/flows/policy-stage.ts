/**
 * The second act of a flow: the policy takes over after enrollment. The agent applies the policy
 * its first checkin delivered and connects again with its Fleet Server settings; Fleet Server tests
 * its policy's output; the agent's Beats then ship with that output as it is. Every connection goes
 * to the fakes the flow already runs; only a proxy the policy names (and enrollment did not) is
 * started for it.
 */
import { applyAgentPolicy, policyFleetClient, type AgentPolicyResult } from '../components/agent-policy.js';
import type { EnrollResult, UpstreamVerdict } from '../components/agent.js';
import type { FakeElasticsearch } from '../components/elasticsearch.js';
import type { FakeFleetServer } from '../components/fleet-server.js';
import type { FakeSecureProxy } from '../components/proxy/secure-proxy.js';
import { changedLeg } from '../capture/wire.js';
import { upstreamLeg } from './secure-proxy-legs.js';
import { nothingForwarded } from '../components/proxy/nothing-forwarded.js';
import { takePolicyOutput, type PolicyOutputResult } from '../components/fleet-server-policy.js';
import { ComponentLog } from '../components/log.js';
import { outputProxySettings, type PolicyOutput } from '../components/output.js';
import type { FleetClientSettings } from '../components/policy.js';
import type { ServerConnection } from '../components/server-dialect.js';
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
  /** It intercepts TLS: the agent's connection through it ends at the proxy. */
  readonly intercepts?: boolean;
  readonly upstreamVerdict?: UpstreamVerdict;
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
  /** Its fleet client's `timeout` (http.Client.Timeout), as enrollment's. */
  readonly timeoutMs?: number;
  /**
   * What answers at the policy's Fleet Server host when it is not Fleet Server itself: the secure
   * proxy in front of it (the agent's TLS ends there, as at enrollment). Default Fleet Server.
   */
  readonly answeredBy?: {
    readonly endpoint: { readonly host: string; readonly port: number };
    readonly server: { connection(localPort: number | undefined): Promise<ServerConnection | undefined> };
    readonly legTo: 'proxy';
  };
}

/** The agent applies its first policy; undefined when enrollment delivered none. */
export async function agentPolicyStage(stage: AgentPolicyStage): Promise<AgentPolicyResult | undefined> {
  const { enrolled, fs } = stage;
  if (!enrolled.ok || !enrolled.policy || !enrolled.policyActionId || !enrolled.accessApiKey || !enrolled.agentId) return undefined;
  const client = policyFleetClient(stage.settings, enrolled.policy, stage.runsFleetServer);
  const route = stage.runsFleetServer ? undefined : proxyRoute(client.proxy);
  const reuse = route && stage.enrollmentProxy?.url === route.url.href ? stage.enrollmentProxy : undefined;
  const answeredBy = stage.answeredBy;
  const endpoint = answeredBy?.endpoint ?? fs.endpoint;
  await using started = route && !reuse ? await startPolicyProxy(route, endpoint, fs.options.identity, stage.proxyAuth) : undefined;
  const proxyFake = reuse ?? (started ? { log: started.log, connectTo: { host: '127.0.0.1', port: started.port } } : undefined);
  return await applyAgentPolicy({
    enrolled: stage.settings, policy: enrolled.policy, actionId: enrolled.policyActionId, agentId: enrolled.agentId,
    accessApiKey: enrolled.accessApiKey, runsFleetServer: stage.runsFleetServer, log: stage.log,
    connectTo: endpoint, fleetServer: answeredBy?.server ?? fs, client,
    ...(proxyFake ? { proxyFake } : {}),
    ...(stage.timeoutMs !== undefined ? { timeoutMs: stage.timeoutMs } : {}),
    ...(answeredBy ? { legTo: answeredBy.legTo } : reuse?.intercepts ? { legTo: 'proxy' as const } : {}),
  });
}

/**
 * Fleet Server tests its policy's output, then the agent ships with it: one fake proxy serves
 * both when the output names one. `ship` runs the agent's output leg with the proxy's address.
 */
export async function outputPolicyStage<T>(
  output: PolicyOutput | undefined, fs: FakeFleetServer,
  target: {
    readonly endpoint: { host: string; port: number };
    readonly elasticsearch?: FakeElasticsearch;
    /** The secure proxy in front of `elasticsearch`, at `endpoint`: Fleet Server's test ends there, and the proxy makes its own hop. */
    readonly secureProxy?: FakeSecureProxy;
  },
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
  const front = target.secureProxy;
  const before = front?.callCount ?? 0;
  const answering = front ?? target.elasticsearch;
  const tested = output && fs.healthy
    ? await takePolicyOutput(fs, {
      output, connectTo: target.endpoint, ...(answering ? { elasticsearch: answering } : {}), ...(front ? { legTo: 'proxy' as const } : {}),
      ...(proxyFake ? { proxyConnectTo: proxyFake.connectTo } : {}),
    })
    : undefined;
  // Behind a secure proxy the test is two hops, as Fleet Server's bootstrap is: fleet-server → proxy, proxy → elasticsearch.
  const upstream = tested && front
    ? changedLeg(await upstreamLeg(front, front.callsSince(before), 'elasticsearch', target.elasticsearch, nothingForwarded('Fleet Server', tested.leg)), { stage: 'policy' })
    : undefined;
  const fleet = tested && upstream ? { ...tested, upstream } : tested;
  return { ...(fleet ? { fleet } : {}), shipped: await ship(proxyFake) };
}
