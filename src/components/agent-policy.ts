/**
 * The agent after enrollment: it applies the policy its first checkin delivered, as elastic-agent's
 * PolicyChangeHandler does (internal/pkg/agent/application/actions/handlers/
 * handler_action_policy_change.go). An agent that does not run Fleet Server itself tests the
 * policy's Fleet Server settings first (client.CheckRemote: GET /api/status with the new client);
 * if the test fails the whole policy change fails, nothing of it is applied (its output neither)
 * and the agent keeps checking in with its enrollment settings. An agent running a local Fleet
 * Server takes no Fleet hosts from the policy ("no setters provided with local Fleet Server").
 * Then it acknowledges the action through its (new) Fleet client.
 */
import { randomUUID } from 'node:crypto';
import { DEFAULT_GO, type GoRelease } from '../dialects/go.js';
import { changedLeg } from '../capture/wire.js';
import type { Leg } from '../report/leg.js';
import { buildLeg, skippedLeg, withLog } from './legs.js';
import { goRequest, type GoExchange } from './go-client.js';
import { FLEET_CLIENT_TIMEOUT_MS, type UpstreamVerdict } from './agent.js';
import { clientTimeout } from './go-errors.js';
import type { ComponentLog } from './log.js';
import type { ServerConnection } from './server-dialect.js';
import { fleetClientAfterPolicy, fleetClientEqual, type FleetClientSettings, type PolicyFleet } from './policy.js';
import { GoTransport } from './go-transport.js';
import { proxyLeg } from './proxy/proxy-leg.js';
import { hostPort, proxyRoute } from './proxy/proxy-url.js';
import { endpointOf } from '../endpoint.js';

export interface AgentPolicyOptions {
  /** The Fleet client enrollment left: --url, fleet.ssl and --proxy-url. */
  readonly enrolled: FleetClientSettings;
  readonly policy: Readonly<Record<string, unknown>>;
  readonly actionId: string;
  readonly agentId: string;
  readonly accessApiKey: string;
  /** --fleet-server-es: the agent runs Fleet Server itself and keeps talking to it as it enrolled. */
  readonly runsFleetServer: boolean;
  readonly log: ComponentLog;
  readonly version?: string;
  readonly goRelease?: GoRelease;
  /** Where Fleet Server listens, whatever host the policy's URL names (as if DNS pointed there). */
  readonly connectTo?: { readonly host: string; readonly port: number };
  readonly fleetServer?: { connection(localPort: number | undefined): Promise<ServerConnection | undefined> };
  /** The fake proxy the new client dials, when it has a proxy: where it listens and its log. */
  readonly proxyFake?: {
    readonly log: ComponentLog;
    readonly connectTo: { readonly host: string; readonly port: number };
    readonly upstreamVerdict?: UpstreamVerdict;
  };
  /** What {@link policyFleetClient} gives for these options, when the caller already has it. */
  readonly client?: FleetClientSettings;
  /** Its fleet client's `timeout` (http.Client.Timeout; default the real 10 minutes): the policy's client is bounded as enrollment's. */
  readonly timeoutMs?: number;
  /** What answers at the policy's Fleet Server host: a TLS-terminating proxy in front of Fleet Server, or one that intercepts. */
  readonly legTo?: 'proxy';
}

/** What applying the policy did: its first connection with the policy's settings, as legs. */
export interface AgentPolicyResult {
  /** The policy was applied (its output may start). */
  readonly applied: boolean;
  readonly leg: Leg;
  /** agent → proxy (policy), when the new client goes through a proxy. */
  readonly proxyLeg?: Leg;
  /** The Fleet client the agent checks in with from now on. */
  readonly client: FleetClientSettings;
}

/**
 * The settings the agent will check in with once `policy` is applied (its `fleet` block merged
 * in): `enrolled` itself, untested, when there is nothing to change (no `fleet` block, a local
 * Fleet Server, or settings clientEqual finds the same as the ones held).
 */
export function policyFleetClient(enrolled: FleetClientSettings, policy: Readonly<Record<string, unknown>>, runsFleetServer: boolean): FleetClientSettings {
  const fleet = policy.fleet as PolicyFleet | undefined;
  return runsFleetServer || !fleet || fleetClientEqual(enrolled, fleet) ? enrolled : fleetClientAfterPolicy(enrolled, fleet);
}

export async function applyAgentPolicy(options: AgentPolicyOptions): Promise<AgentPolicyResult> {
  const { log } = options;
  const client = options.client ?? policyFleetClient(options.enrolled, options.policy, options.runsFleetServer);
  const base = client.url.replace(/\/+$/, '');
  const route = options.runsFleetServer ? undefined : proxyRoute(client.proxy);
  const proxy = route && options.proxyFake ? { ...route, connectTo: options.proxyFake.connectTo } : route;
  const headers = {
    'user-agent': `Elastic Agent v${options.version ?? '9.2.0'}`, 'kbn-xsrf': '1', accept: 'application/json',
    'x-request-id': randomUUID(), authorization: `ApiKey ${options.accessApiKey}`,
  };
  // The client the status test used is the one the acker gets (SetClient): the ack goes over its
  // kept-alive connection (the test drains the body "for proper cancellation and connection reuse").
  using transport = disposable(new GoTransport());
  const request = async (method: 'GET' | 'POST', path: string, body?: object): Promise<GoExchange> => {
    const exchange = await goRequest({
      transport: transport.value,
      method, url: `${base}${path}`, headers, tls: client.tls, goRelease: options.goRelease ?? DEFAULT_GO,
      deadline: clientTimeout(options.timeoutMs ?? FLEET_CLIENT_TIMEOUT_MS),
      ...(body ? { body: JSON.stringify(body) } : {}),
      ...(options.connectTo ? { connectTo: options.connectTo } : {}),
      ...(proxy ? { proxy } : {}),
      ...(proxy && options.proxyFake?.upstreamVerdict ? { deadlineAfter: options.proxyFake.upstreamVerdict } : {}),
    });
    for (const warning of exchange.connection.warnings) log.warnOnce(warning);
    return exchange;
  };
  const to = options.legTo ?? 'fleet-server';
  const target = new URL(base);
  const { host: targetHost, port: targetPort } = endpointOf(target);
  const targetAddr = hostPort(targetHost, targetPort);
  const legs = async (exchange: GoExchange, ok: boolean, method: string, path: string, clientLog: string): Promise<{ leg: Leg; proxyLeg?: Leg }> => {
    const hop = exchange.proxy
      ? changedLeg(proxyLeg('agent', exchange.proxy, targetAddr, exchange.proxy.error ? clientLog : undefined, options.proxyFake?.log), { stage: 'policy' })
      : undefined;
    if (exchange.proxy?.error) {
      return { leg: changedLeg(skippedLeg('agent', to, `${base}${path}`, 'the proxy did not open a connection to Fleet Server'), { stage: 'policy' }), ...(hop ? { proxyLeg: hop } : {}) };
    }
    const built = withLog(buildLeg({
      from: 'agent', to, url: `${base}${path}`, exchange, ok, method,
      ...(exchange.proxy ? {} : { clientLog }),
      ...(options.fleetServer && !exchange.proxy ? { server: await options.fleetServer.connection(exchange.connection.localPort) } : {}),
    }), exchange.proxy ? clientLog : undefined);
    return { leg: changedLeg(built, { stage: 'policy', ...(exchange.proxy ? { via: 'proxy' as const } : {}) }), ...(hop ? { proxyLeg: hop } : {}) };
  };

  let tested: GoExchange | undefined;
  if (client !== options.enrolled) {
    // CheckRemote: the new client must reach Fleet Server's status API before anything is applied.
    tested = await request('GET', '/api/status');
    const problem = !tested.response
      ? `fail to communicate with Fleet Server API client hosts: all hosts failed: requester 0/1 to host ${base}/ errored: Get "${base}/api/status?": ${tested.error}`
      : tested.response.status !== 200 ? `fleet server ping returned a bad status code: ${tested.response.status}` : undefined;
    if (problem) {
      const line = `Failed to dispatch action id "${options.actionId}" of type "POLICY_CHANGE", error: failed to validate Fleet client config: validating fleet client config: ${problem}`;
      log.write('error', line);
      const failed = await legs(tested, false, 'GET', '/api/status', [...warnings(log), line].join('\n'));
      return { applied: false, ...failed, client: options.enrolled };
    }
  }
  const done = 'Policy change done, setting agent log level to info';
  log.write('info', done);
  // The acker commits the action through the client the policy left.
  const ackPath = `/api/fleet/agents/${options.agentId}/acks`;
  const ack = await request('POST', ackPath, {
    events: [{ type: 'ACTION_RESULT', subtype: 'ACKNOWLEDGED', timestamp: new Date().toISOString(), action_id: options.actionId, agent_id: options.agentId, message: `Action '${options.actionId}' of type 'POLICY_CHANGE' acknowledged.` }],
  });
  const acked = ack.response?.status === 200;
  const shown = tested ?? ack;
  const result = await legs(shown, tested ? true : acked, tested ? 'GET' : 'POST', tested ? '/api/status' : ackPath, [...warnings(log), done].join('\n'));
  return { applied: true, ...result, client };
}

/** A transport closed when the scope that made it ends. */
function disposable(value: GoTransport): { value: GoTransport } & Disposable {
  return { value, [Symbol.dispose]: () => value.close() };
}

function warnings(log: ComponentLog): string[] {
  return log.entries.filter((e) => e.level === 'warn').map((e) => e.message);
}
