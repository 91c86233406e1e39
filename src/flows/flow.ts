/**
 * One run of Elastic's page: the stack (Elasticsearch, Fleet Server bootstrapping against it),
 * the agent's legs on whichever path the plan chose (direct, through a forward, secure or
 * intercepting proxy), the policy stage, the output, and each leg cut to its own part of a shared
 * stack's logs. (Over 250 lines: the order of the legs and the cutting of the shared logs are one
 * sequence, which reads best in one place.)
 */
import { enrollAgent, type EnrollResult } from '../components/agent.js';
import { startProxyFake } from './proxy-fake.js';
import type { PlannedProxy, PlannedSecureProxy } from './install-plan.js';
import type { FakeSecureProxy } from '../components/proxy/secure-proxy.js';
import { agentThroughSecureProxy, startSecureProxy, upstreamLeg } from './secure-proxy-legs.js';
import { interceptLegs } from './intercept-flow.js';
import { healthCheckLeg, type PlannedHealthCheck } from './health-check-flow.js';
import { elasticsearchOutput, shipToElasticsearch, type PolicyOutput, type ShipOptions } from '../components/output.js';
import { faultEndpoint, type FaultEndpoint, type NetworkFault } from '../components/network-faults.js';
import { FakeElasticsearch, type ElasticsearchOptions } from '../components/elasticsearch.js';
import { FakeFleetServer, elasticError, type ElasticsearchCall, type FleetServerOptions, type FleetServerState } from '../components/fleet-server.js';
import type { GoClientTls } from '../components/go-client.js';
import { ComponentLog } from '../components/log.js';
import { buildLeg, skippedLeg } from '../components/legs.js';
import { changedLeg } from '../capture/wire.js';
import type { Leg } from '../report/leg.js';
import type { AgentPolicyResult } from '../components/agent-policy.js';
import { agentPolicyStage, outputPolicyStage } from './policy-stage.js';
import { nothingForwarded } from '../components/proxy/nothing-forwarded.js';

/** The three components of Elastic's page, as one run: Elasticsearch, Fleet Server bootstrapping against it, an agent enrolling. */
export interface FlowConfig {
  readonly elasticsearch: ElasticsearchOptions;
  readonly fleetServer: Omit<FleetServerOptions, 'elasticsearch' | 'log'> & {
    readonly elasticsearchUrl: string;
    readonly elasticsearchTls: GoClientTls;
    readonly serviceToken: string;
    /** `output.elasticsearch.timeout`: its Elasticsearch transport's ResponseHeaderTimeout. */
    readonly elasticsearchTimeoutMs?: number;
    /** What Fleet Server finds where --fleet-server-es points instead of Elasticsearch. */
    readonly elasticsearchFault?: NetworkFault;
  };
  /** --secure-proxy: a TLS-terminating proxy in front of Fleet Server (agents reach it) or Elasticsearch (Fleet Server does). */
  readonly secureProxy?: PlannedSecureProxy;
  /** --health-check: a load balancer probes Fleet Server before the agent enrolls. */
  readonly healthCheck?: PlannedHealthCheck;
  /** The token Elasticsearch knows, when it is not the one Fleet Server sends. */
  readonly elasticsearchServiceToken?: string;
  readonly agent: {
    readonly url: string;
    readonly tls: GoClientTls;
    readonly enrollmentToken?: string;
    /** The agent could not load its own certificate: it fails before connecting, with these lines. */
    readonly loadError?: string;
    /** What libs logged while loading the agent's certificate. */
    readonly warnings?: readonly string[];
    /** --proxy-url: a fake proxy of its scheme is started on `listenPort` (0: any free port). */
    readonly proxy?: PlannedProxy & { readonly listenPort: number };
    /** --fleet-server-es: the agent runs Fleet Server itself, so it takes no Fleet Server hosts from its policy. */
    readonly runsFleetServer?: boolean;
    /** --proxy-require-auth: what the fake proxies the policy names demand, instead of their URL's credentials. */
    readonly policyProxyAuth?: { readonly username: string; readonly password: string };
    /** Its fleet client's `timeout` (http.Client.Timeout). */
    readonly timeoutMs?: number;
    /** What the agent finds where --url points (`fleetServer`) and where its output's host points (`elasticsearch`). */
    readonly network?: { readonly fleetServer?: NetworkFault; readonly elasticsearch?: NetworkFault };
  };
}

/** The legs of one flow, Fleet Server's final state and every component's log. */
export interface FlowResult {
  readonly ok: boolean;
  /**
   * agent → fleet-server, fleet-server → elasticsearch, then the legs after the policy took over
   * (`stage: 'policy'`; behind a proxy that ends the TLS, its two hops again), then the agent's
   * output to elasticsearch.
   */
  readonly legs: readonly Leg[];
  readonly fleetServerState: FleetServerState;
  readonly logs: { readonly agent: ComponentLog; readonly fleetServer: ComponentLog; readonly elasticsearch: ComponentLog; readonly proxy?: ComponentLog };
}

/**
 * Starts Elasticsearch, then Fleet Server against it, then enrolls the agent and ships its first
 * data, and reports the three legs; the components are closed before it resolves.
 */
/**
 * An Elasticsearch and a Fleet Server that bootstrapped against it, for flows whose component
 * settings are equal: the catalog runs such scenarios on one stack, one flow at a time, instead of
 * starting and bootstrapping the same pair again. What the bootstrap did is kept apart (its log
 * lines and Elasticsearch calls) so that each flow's result holds the bootstrap and its own
 * part only, as if it had started the stack itself.
 */
export interface Stack {
  readonly es: FakeElasticsearch;
  readonly fs: FakeFleetServer;
  readonly logs: { readonly fleetServer: ComponentLog; readonly elasticsearch: ComponentLog };
  /** The secure proxy in front of Elasticsearch, when Fleet Server reaches it through one. */
  readonly esProxy?: FakeSecureProxy;
  /** How far the logs, Fleet Server's calls and their connections' wire had got when the bootstrap ended. */
  readonly bootstrap: Marks;
  /** Flows run on it so far. */
  served: number;
  /** What stands where --fleet-server-es points instead of Elasticsearch, when the flow says so. */
  readonly elasticsearchFault?: FaultEndpoint;
}

/** Where a stack's records stood at one moment: log lengths, calls, and each connection's timeline length. */
interface Marks {
  readonly fleetServer: number;
  readonly elasticsearch: number;
  readonly calls: number;
  readonly wire: ReadonlyMap<readonly unknown[], number>;
}

function marks(logs: Stack['logs'], fs: FakeFleetServer): Marks {
  const wire = new Map<readonly unknown[], number>();
  for (const call of fs.elasticsearchCalls) {
    const events = timelineOf(call);
    if (events) wire.set(events, events.length);
  }
  return { fleetServer: logs.fleetServer.entries.length, elasticsearch: logs.elasticsearch.entries.length, calls: fs.elasticsearchCalls.length, wire };
}

/** The live record of a call's connection (go-elasticsearch keeps one connection for many calls). */
const timelineOf = (call: ElasticsearchCall): readonly unknown[] | undefined => call.exchange.connection.tap?.timeline.events;

/** Starts Elasticsearch, then Fleet Server bootstrapping against it (see {@link Stack}). */
export async function startStack(config: FlowConfig): Promise<Stack> {
  const logs = { fleetServer: new ComponentLog('fleet-server'), elasticsearch: new ComponentLog('elasticsearch') };
  const es = await FakeElasticsearch.start({ ...config.elasticsearch, serviceToken: config.elasticsearchServiceToken ?? config.fleetServer.serviceToken, log: logs.elasticsearch });
  const { elasticsearchFault: fault, elasticsearchTimeoutMs: timeoutMs, ...fleetServer } = config.fleetServer;
  let esProxy: FakeSecureProxy | undefined;
  let elasticsearchFault: FaultEndpoint | undefined;
  try {
    const planned = config.secureProxy?.inFrontOf === 'elasticsearch' ? config.secureProxy : undefined;
    esProxy = planned ? await startSecureProxy(planned, { url: es.url, endpoint: es.endpoint }, config.elasticsearch.versions) : undefined;
    elasticsearchFault = fault ? await faultEndpoint(fault, config.elasticsearch.identity, config.elasticsearch.versions) : undefined;
    const fs = await FakeFleetServer.start({
      ...fleetServer,
      elasticsearch: {
        url: config.fleetServer.elasticsearchUrl,
        tls: config.fleetServer.elasticsearchTls,
        serviceToken: config.fleetServer.serviceToken,
        // Whatever host the URL names, the connection goes to the fake (or its proxy, or what stands
        // in its place), as if DNS pointed there.
        connectTo: elasticsearchFault ?? esProxy?.endpoint ?? es.endpoint,
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      },
      log: logs.fleetServer,
    });
    return { es, fs, logs, ...(esProxy ? { esProxy } : {}), bootstrap: marks(logs, fs), served: 0, ...(elasticsearchFault ? { elasticsearchFault } : {}) };
  } catch (error) {
    await elasticsearchFault?.close();
    await esProxy?.close();
    await es.close();
    throw error;
  }
}

export async function closeStack(stack: Stack): Promise<void> {
  try {
    await stack.fs.close();
  } finally {
    await stack.elasticsearchFault?.close();
    await stack.esProxy?.close();
    await stack.es.close();
  }
}

/**
 * Starts Elasticsearch, then Fleet Server against it, then enrolls the agent and ships its first
 * data, and reports the three legs; the components are closed before it resolves. With `stack`,
 * the flow runs on that started pair instead (one flow at a time on it) and leaves it running.
 */
export async function runFlow(config: FlowConfig): Promise<FlowResult> {
  const own = await startStack(config);
  try {
    return (await runFlowOn(config, own))!;
  } finally {
    await closeStack(own);
  }
}

/**
 * The flow on a started stack, one flow at a time on it. Undefined when the stack no longer
 * stands where its bootstrap left it (Elasticsearch closed the idle keep-alive connection, so this
 * flow's calls took another): a pair of its own would have reported otherwise, so the caller runs
 * the flow on a fresh stack instead. A stack's first flow is always answered.
 */
export async function runFlowOn(config: FlowConfig, stack: Stack): Promise<FlowResult | undefined> {
  const { es, fs } = stack;
  const from = marks(stack.logs, fs);
  const reused = stack.served++ > 0;
  const agentLog = new ComponentLog('agent');
  const health = config.healthCheck ? await healthCheckLeg(config.healthCheck, fs, new URL(config.agent.url).hostname) : undefined;
  // The agent first: enrolling makes Fleet Server call Elasticsearch again, and the leg covers those calls.
  const { leg: agentToFleet, enrolled, proxyLog, upstream, policy, policyUpstream } = await agentLeg(config, fs, agentLog);
  const mine = fs.elasticsearchCalls.slice(Math.max(from.calls, stack.bootstrap.calls));
  if (reused && !unchanged(stack.bootstrap, mine)) return undefined;
  const calls = [...fs.elasticsearchCalls.slice(0, stack.bootstrap.calls), ...mine];
  const fleetLog = ownPart(stack.logs.fleetServer, stack.bootstrap.fleetServer, from.fleetServer);
  const { esProxy } = stack;
  // Fleet Server's calls went to what stands in Elasticsearch's place: Elasticsearch saw none of them.
  const fleetToElasticsearch = ownWire(await elasticsearchLeg(fs, stack.elasticsearchFault ? undefined : esProxy ?? es, calls, fleetLog), stack.bootstrap, from);
  // Through a proxy in front of Elasticsearch, Fleet Server's calls have a second hop: the proxy's own.
  const proxyToElasticsearch = esProxy ? await upstreamLeg(esProxy, esProxy.calls, 'elasticsearch', es, nothingForwarded('Fleet Server', fleetToElasticsearch)) : undefined;
  const output = enrolled ? outputOf(enrolled) : undefined;
  // Fleet Server has its policy once the agent enrolled (the agent that bootstraps it passes it on).
  // Behind a secure proxy in front of Elasticsearch, its output test and the Beats reach the proxy.
  const target = { endpoint: esProxy?.endpoint ?? es.endpoint, elasticsearch: es, ...(esProxy ? { secureProxy: esProxy } : {}) };
  const { fleet: fleetPolicy, shipped: agentToElasticsearch } = await outputPolicyStage(enrolled?.ok ? fs.options.output : undefined, fs, target, config.elasticsearch.identity, async (proxyFake) => {
    if (!output) return skippedLeg('agent', 'elasticsearch', fs.options.output?.hosts[0] ?? '', 'the agent did not enroll, so it has no policy to ship data with');
    if (policy && !policy.applied) return skippedLeg('agent', 'elasticsearch', output.hosts?.[0] ?? '', 'the agent could not apply its policy (its Fleet Server settings failed their test), so its Beats never started');
    const shipped = await shipOutput(config, output, { endpoint: target.endpoint, ...(esProxy ? {} : { elasticsearch: es }) }, agentLog, proxyFake);
    return esProxy ? changedLeg(shipped, { via: 'proxy' }) : shipped;
  }, config.agent.policyProxyAuth);
  const policyLegs = [
    ...(policy?.proxyLeg ? [policy.proxyLeg] : []), ...(policy ? [policy.leg] : []), ...(policyUpstream ? [policyUpstream] : []),
    ...(fleetPolicy ? [fleetPolicy.leg] : []), ...(fleetPolicy?.upstream ? [fleetPolicy.upstream] : []),
  ];
  const legs = [
    ...(health ? [health] : []), ...(enrolled?.proxyLeg ? [enrolled.proxyLeg] : []), agentToFleet, ...(upstream ? [upstream] : []),
    fleetToElasticsearch, ...(proxyToElasticsearch ? [proxyToElasticsearch] : []), ...policyLegs, agentToElasticsearch,
  ];
  const logs = {
    agent: agentLog, fleetServer: fleetLog, elasticsearch: ownPart(stack.logs.elasticsearch, stack.bootstrap.elasticsearch, from.elasticsearch),
    ...(proxyLog ? { proxy: proxyLog } : {}),
  };
  return { ok: legs.every((leg) => leg.ok), legs, fleetServerState: fs.state, logs };
}

/**
 * Whether this flow's calls to Elasticsearch went as on a fresh stack: each over a connection the
 * bootstrap opened, none of which closed since (before or during this flow).
 */
function unchanged(bootstrap: Marks, mine: readonly ElasticsearchCall[]): boolean {
  for (const call of mine) {
    const events = timelineOf(call);
    if (events && !bootstrap.wire.has(events)) return false;
  }
  for (const [events, start] of bootstrap.wire) {
    if (events.slice(start).some((event) => (event as { what?: string }).what === 'Close')) return false;
  }
  return true;
}

/**
 * The leg's wire as one flow saw it, fixed when the leg is built: the bootstrap's records, then
 * this flow's (earlier flows on the stack may have used the same keep-alive connection).
 */
function ownWire(leg: Leg, bootstrap: Marks, from: Marks): Leg {
  const events = leg.timeline;
  if (!events) return leg;
  const start = bootstrap.wire.get(events) ?? 0;
  const mine = from.wire.get(events) ?? start;
  return changedLeg(leg, { timeline: [...events.slice(0, start), ...events.slice(Math.max(mine, start))] });
}

/** A component's log as one flow saw it: the bootstrap's lines, then the lines written since `from`. */
function ownPart(log: ComponentLog, bootstrap: number, from: number): ComponentLog {
  if (from <= bootstrap) return log;
  const part = new ComponentLog(log.component);
  part.entries.push(...log.entries.slice(0, bootstrap), ...log.entries.slice(from));
  return part;
}

/** The agent's output leg: to Elasticsearch, or to what the flow puts where the output's host points. */
async function shipOutput(
  config: FlowConfig, output: PolicyOutput, target: { readonly endpoint: { host: string; port: number }; readonly elasticsearch?: FakeElasticsearch },
  log: ComponentLog, proxyFake: ShipOptions['proxyFake'],
): Promise<Leg> {
  const proxy = proxyFake ? { proxyFake } : {};
  const fault = config.agent.network?.elasticsearch;
  if (!fault) return shipToElasticsearch({ output, connectTo: target.endpoint, ...(target.elasticsearch ? { elasticsearch: target.elasticsearch } : {}), log, ...proxy });
  const endpoint = await faultEndpoint(fault, config.elasticsearch.identity, config.elasticsearch.versions);
  try {
    return await shipToElasticsearch({ output, connectTo: endpoint, log, ...proxy });
  } finally {
    await endpoint.close();
  }
}

/** The Elasticsearch output of the policy the agent's first checkin delivered. */
function outputOf(enrolled: EnrollResult): PolicyOutput | undefined {
  return enrolled.ok ? elasticsearchOutput(enrolled.policy?.outputs) : undefined;
}

/** The enrollment leg, and the enrollment itself when the agent got as far as trying. */
async function agentLeg(config: FlowConfig, fs: FakeFleetServer, log: ComponentLog): Promise<{
  leg: Leg; enrolled?: EnrollResult; proxyLog?: ComponentLog; upstream?: Leg; policy?: AgentPolicyResult;
  /** The proxy's own hop of the policy's connection, where the agent's TLS ends at a proxy. */
  policyUpstream?: Leg;
}> {
  const { url } = config.agent;
  if (!fs.healthy) {
    // The installing agent waits for its Fleet Server and relays its state instead of enrolling.
    const skipped = skippedLeg('agent', 'fleet-server', url, 'Fleet Server did not become healthy', `Fleet Server - ${fs.stateMessage}`);
    // Fleet Server failed on its own listener's files, not on Elasticsearch: its lines belong to this leg.
    const own = fs.options.certificateError ? fs.log.entries.filter((e) => e.level === 'error' && !e.message.startsWith('state changed')).map((e) => e.message) : [];
    return { leg: own.length ? changedLeg(skipped, { logs: { ...skipped.logs, 'fleet-server': own.join('\n') } }) : skipped };
  }
  for (const warning of config.agent.warnings ?? []) log.warnOnce(warning);
  if (config.agent.loadError) {
    for (const line of config.agent.loadError.split('\n')) log.write('error', line);
    return { leg: skippedLeg('agent', 'fleet-server', url, 'the agent could not load its client certificate and key', config.agent.loadError) };
  }
  if (config.secureProxy && config.secureProxy.inFrontOf !== 'elasticsearch') return agentThroughSecureProxy(config, config.secureProxy, fs, log);
  const planned = config.agent.proxy;
  if (planned?.intercept && !planned.disabled && !planned.bypassed) return interceptLegs(config, planned, fs, log);
  // Only a proxy the agent will dial is started: a bypassed or disabled one is never contacted.
  await using proxy = planned && !planned.disabled && !planned.bypassed ? await startProxyFake(planned, config.fleetServer.identity, fs.endpoint) : undefined;
  const fault = config.agent.network?.fleetServer;
  // Fleet Server sees nothing of a connection that went elsewhere: no waiting for its side.
  await using faulty = fault ? disposable(await faultEndpoint(fault, config.fleetServer.identity, config.fleetServer.versions)) : undefined;
  const result = await enrollAgent({
    url,
    tls: config.agent.tls,
    enrollmentToken: config.agent.enrollmentToken ?? fs.enrollmentToken ?? '',
    connectTo: faulty?.endpoint ?? fs.endpoint,
    ...(faulty ? {} : { fleetServer: fs }),
    ...(config.agent.timeoutMs !== undefined ? { timeoutMs: config.agent.timeoutMs } : {}),
    log,
    ...(planned ? { proxy: { url: planned.route.url.href, headers: planned.route.headers, disable: planned.disabled }, bootstrapsFleetServer: planned.bypassed } : {}),
    ...(proxy ? { proxyFake: { log: proxy.log, connectTo: { host: '127.0.0.1', port: proxy.port } } } : {}),
  });
  // The policy takes over while the enrollment proxy still runs, in case the policy keeps it.
  const runsFleetServer = config.agent.runsFleetServer === true;
  const policy = await agentPolicyStage({
    enrolled: result, fs, log, runsFleetServer,
    ...(config.agent.policyProxyAuth ? { proxyAuth: config.agent.policyProxyAuth } : {}),
    ...(config.agent.timeoutMs !== undefined ? { timeoutMs: config.agent.timeoutMs } : {}),
    settings: { url, tls: config.agent.tls, ...(planned && !runsFleetServer ? { proxy: { url: planned.route.url.href, headers: planned.route.headers, disable: planned.disabled } } : {}) },
    ...(proxy && planned ? { enrollmentProxy: { url: planned.route.url.href, log: proxy.log, connectTo: { host: '127.0.0.1', port: proxy.port } } } : {}),
  });
  return { leg: result.leg, enrolled: result, ...(proxy ? { proxyLog: proxy.log } : {}), ...(policy ? { policy } : {}) };
}

/** A fault endpoint that `await using` closes. */
function disposable(endpoint: FaultEndpoint): { endpoint: FaultEndpoint } & AsyncDisposable {
  return { endpoint, [Symbol.asyncDispose]: () => endpoint.close() };
}

/**
 * The leg of Fleet Server's connections to Elasticsearch (or to the proxy in front of it): the
 * first that failed, else the first.
 */
async function elasticsearchLeg(fs: FakeFleetServer, es: FakeElasticsearch | FakeSecureProxy | undefined, calls: readonly ElasticsearchCall[], log: ComponentLog): Promise<Leg> {
  const call = calls.find((c) => elasticError(c.exchange) !== undefined) ?? calls[0];
  const url = fs.options.elasticsearch.url;
  const to = es === undefined || es instanceof FakeElasticsearch ? 'elasticsearch' : 'proxy';
  if (!call) return skippedLeg('fleet-server', to, url, 'Fleet Server made no request');
  const problem = elasticError(call.exchange);
  const failure = log.entries.find((e) => e.message.startsWith('Fleet Server failed'));
  return buildLeg({
    from: 'fleet-server',
    to,
    url: new URL(call.path, url).toString(),
    exchange: call.exchange,
    ok: problem === undefined,
    method: call.method,
    ...(problem && failure ? { clientLog: [...call.exchange.connection.warnings, failure.message].join('\n') } : {}),
    ...(es ? { server: await es.connection(call.exchange.connection.localPort) } : {}),
  });
}

