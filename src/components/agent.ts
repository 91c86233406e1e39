import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { DEFAULT_GO, type GoRelease } from '../dialects/go.js';
import { buildLeg, skippedLeg } from './legs.js';
import type { Leg } from '../report/leg.js';
import { goRequest, type GoClientTls, type GoExchange } from './go-client.js';
import { clientTimeout } from './go-errors.js';
import { ComponentLog } from './log.js';
import type { ServerConnection } from './server-dialect.js';
import { proxyLeg } from './proxy/proxy-leg.js';
import { changedLeg } from '../capture/wire.js';
import { hostPort, proxyRoute, type ProxySettings } from './proxy/proxy-url.js';
import { endpointOf } from '../endpoint.js';

/**
 * An intercepting proxy's upstreamVerdict (proxy/intercepting-proxy.ts), settled once the proxy's
 * own handshake with the server has its answer: an agent's timeout through it counts from there.
 */
export type UpstreamVerdict = (clientPort: number | undefined) => Promise<void>;

export interface AgentOptions {
  /** --url */
  readonly url: string;
  /** --certificate-authorities, --elastic-agent-cert*, --insecure (verification none), --ca-sha256. */
  readonly tls: GoClientTls;
  /** --enrollment-token (an API key, base64 of id:secret). */
  readonly enrollmentToken: string;
  readonly version?: string;
  readonly goRelease?: GoRelease;
  readonly log?: ComponentLog;
  /** Where Fleet Server really listens, when --url names a host or port of the customer's network. */
  readonly connectTo?: { readonly host: string; readonly port: number };
  /** The Fleet Server, when it runs in this process, so its side of each connection is reported too. */
  readonly fleetServer?: { connection(localPort: number | undefined): Promise<ServerConnection | undefined> };
  /** --proxy-url, --proxy-header, --proxy-disabled (libs' proxy_url, proxy_headers, proxy_disable). */
  readonly proxy?: ProxySettings;
  /** The fake proxy, when it runs in this process: where it listens and its log, for the proxy leg. */
  readonly proxyFake?: {
    readonly log: ComponentLog;
    readonly connectTo?: { readonly host: string; readonly port: number };
    readonly upstreamVerdict?: UpstreamVerdict;
  };
  /**
   * The agent bootstraps a Fleet Server on this host (--fleet-server-es): it enrolls without any
   * proxy, as elastic-agent's enroll options set Transport.Proxy.Disable for the local Fleet Server.
   */
  readonly bootstrapsFleetServer?: boolean;
  /** 'proxy' when --url names a TLS-terminating proxy in front of Fleet Server. */
  readonly legTo?: 'proxy';
  /** The fleet client's `timeout` (libs httpcommon, http.Client.Timeout; the agent's default is 10 minutes). */
  readonly timeoutMs?: number;
}

/** The fleet client's default `timeout` (elastic-agent's remote client config, libs httpcommon): 10 minutes. */
export const FLEET_CLIENT_TIMEOUT_MS = 10 * 60_000;

/** What an enrollment did: the agent id when it worked, and always the leg and the agent's log. */
export interface EnrollResult {
  readonly ok: boolean;
  readonly agentId?: string;
  /** The agent to Fleet Server leg: enrollment, then the first checkin. */
  readonly leg: Leg;
  /** agent → proxy, when the agent went through a proxy. */
  readonly proxyLeg?: Leg;
  /** The policy the first checkin delivered (its outputs carry the agent's Elasticsearch settings). */
  readonly policy?: Record<string, unknown>;
  /** The POLICY_CHANGE action that carried it, and the agent's access key (to act on it, agent-policy.ts). */
  readonly policyActionId?: string;
  readonly accessApiKey?: string;
  readonly log: ComponentLog;
}

/**
 * Enrolls a fake Elastic Agent and checks in once, as `elastic-agent enroll` does. Release 9.2's
 * wording: a request that got no answer is retried (`Error detected: ..., will retry in a
 * moment.`) until --enroll-timeout, and the command ends with `fail to enroll: <last error>`;
 * 9.0 printed only that last line, at once.
 */
export async function enrollAgent(options: AgentOptions): Promise<EnrollResult> {
  const log = options.log ?? new ComponentLog('agent');
  const version = options.version ?? '9.2.0';
  const base = options.url.replace(/\/+$/, '');
  const headers = {
    'user-agent': `Elastic Agent v${version}`,
    'kbn-xsrf': '1',
    accept: 'application/json',
    'x-request-id': randomUUID(),
  };
  const route = options.bootstrapsFleetServer ? undefined : proxyRoute(options.proxy, '--proxy-url');
  const proxy = route && options.proxyFake?.connectTo ? { ...route, connectTo: options.proxyFake.connectTo } : route;
  // Enroll and checkin are both POSTs, each on its own connection (the agent uses two clients).
  const request = async (path: string, authorization: string, body: object) => {
    const exchange = await goRequest({
      method: 'POST', url: `${base}${path}`, headers: { ...headers, authorization }, body: JSON.stringify(body),
      tls: options.tls, goRelease: options.goRelease ?? DEFAULT_GO,
      // Never unbounded: a peer that takes the request and never answers ends at the real client's timeout.
      deadline: clientTimeout(options.timeoutMs ?? FLEET_CLIENT_TIMEOUT_MS),
      ...(options.connectTo ? { connectTo: options.connectTo } : {}),
      ...(proxy ? { proxy } : {}),
      ...(proxy && options.proxyFake?.upstreamVerdict ? { deadlineAfter: options.proxyFake.upstreamVerdict } : {}),
    });
    for (const warning of exchange.connection.warnings) log.warnOnce(warning);
    return exchange;
  };
  const warnings = () => log.entries.filter((e) => e.level === 'warn').map((e) => e.message);
  const target = new URL(base);
  const { host: targetHost, port: targetPort } = endpointOf(target);
  const targetAddr = hostPort(targetHost, targetPort);
  let hopLeg: Leg | undefined;
  const leg = async (exchange: GoExchange, ok: boolean, path: string, clientLog: string | undefined): Promise<Leg> => {
    if (exchange.proxy) hopLeg = proxyLeg('agent', exchange.proxy, targetAddr, exchange.proxy.error ? clientLog : undefined, options.proxyFake?.log);
    if (exchange.proxy?.error) return skippedLeg('agent', 'fleet-server', `${base}${path}`, 'the proxy did not open a connection to Fleet Server');
    const built = await directLeg(exchange, ok, path, clientLog);
    return exchange.proxy ? changedLeg(built, { via: 'proxy' }) : built;
  };
  const directLeg = async (exchange: GoExchange, ok: boolean, path: string, clientLog: string | undefined) => buildLeg({
    from: 'agent', to: options.legTo ?? 'fleet-server', url: `${base}${path}`, exchange, ok, method: 'POST',
    ...(clientLog ? { clientLog } : {}),
    // Through a forward proxy Fleet Server sees the proxy's port, never the agent's: nothing to wait for.
    ...(options.fleetServer && !exchange.proxy ? { server: await options.fleetServer.connection(exchange.connection.localPort) } : {}),
  });
  if ((options.tls.verificationMode ?? 'full') === 'none') log.warnOnce('SSL/TLS verifications disabled.');

  const enrollPath = '/api/fleet/agents/enroll';
  const enrolled = await request(enrollPath, `ApiKey ${options.enrollmentToken}`, {
    type: 'PERMANENT', id: '', replace_token: '',
    metadata: { local: { elastic: { agent: { version, id: '' } }, host: { hostname: localHostname() } }, user_provided: {}, tags: [] },
  });
  const enrollError = enrollmentError(enrolled);
  if (enrollError) {
    const failure = `fail to execute request to fleet-server: ${enrollError}`;
    // Since 9.1 the agent retries a request that got no answer until --enroll-timeout, and the
    // command then ends with the last error (elastic-agent internal/pkg/agent/application/enroll/enroll.go
    // retryEnroll): a refused connection has its own retry line; a timeout matches
    // context.DeadlineExceeded (Go 1.23+ net/http) and ends the retries at once.
    if (!enrolled.response && !enrolled.timedOut) {
      log.write('warn', enrollError === CONNECTION_REFUSED
        ? 'Remote server is not ready to accept connections(Connection Refused), will retry in a moment.'
        : `Error detected: ${failure}, will retry in a moment.`);
    }
    const line = `fail to enroll: ${failure}`;
    log.write('error', line);
    const failed = await leg(enrolled, false, enrollPath, [...warnings(), line].join('\n'));
    return { ok: false, leg: failed, ...(hopLeg ? { proxyLeg: hopLeg } : {}), log };
  }
  const item = (JSON.parse(enrolled.response!.body) as { item: { id: string; access_api_key: string } }).item;
  log.write('info', 'Successfully enrolled the Elastic Agent.');

  const checkinPath = `/api/fleet/agents/${item.id}/checkin`;
  const checkin = await request(checkinPath, `ApiKey ${item.access_api_key}`, { status: 'online', message: '', ack_token: '' });
  if (!checkin.response || checkin.response.status !== 200) {
    const reason = checkin.response
      ? extractError(checkin.response.status, checkin.response.body)
      : `all hosts failed: requester 0/1 to host ${base}/ errored: Post "${base}${checkinPath}?": ${checkin.error}`;
    const line = `fail to checkin to fleet-server (uri: ${checkinPath}): ${reason}`;
    log.write('warn', `Possible transient error during checkin with fleet-server, retrying: ${line}`);
    const failed = await leg(checkin, false, checkinPath, [...warnings(), line].join('\n'));
    return { ok: false, agentId: item.id, leg: failed, ...(hopLeg ? { proxyLeg: hopLeg } : {}), log };
  }
  const actions = (JSON.parse(checkin.response.body) as { actions?: Array<{ id?: string; type: string; data?: { policy?: Record<string, unknown> } }> }).actions ?? [];
  const change = actions.find((a) => a.type === 'POLICY_CHANGE');
  const policy = change?.data?.policy;
  const lines = warnings();
  const enrolledLeg = await leg(enrolled, true, enrollPath, [...lines, 'Successfully enrolled the Elastic Agent.'].join('\n'));
  return {
    ok: true,
    agentId: item.id,
    ...(policy ? { policy, accessApiKey: item.access_api_key, ...(change?.id ? { policyActionId: change.id } : {}) } : {}),
    leg: enrolledLeg,
    ...(hopLeg ? { proxyLeg: hopLeg } : {}),
    log,
  };
}

/** The machine's name, asked once: os.hostname() is a system call on every enrollment otherwise. */
let machineName: string | undefined;
const localHostname = (): string => (machineName ??= hostname());

/** fleetapi.ErrConnRefused (elastic-agent internal/pkg/fleetapi/enroll_cmd.go). */
const CONNECTION_REFUSED = 'connection refused';

/** The enroll command's reading of a failed request (fleetapi EnrollCmd.Execute). */
function enrollmentError(exchange: GoExchange): string | undefined {
  // fleetapi's EnrollCmd answers any ECONNREFUSED with its own ErrConnRefused, whose text names no address.
  // (The agent does the same for a refused proxy, whose error unwraps to ECONNREFUSED too; the
  // proxy scenarios still show Go's proxyconnect text: left to the proxy work to align.)
  if (!exchange.response && !exchange.proxy && exchange.connection.node?.code === 'ECONNREFUSED') return CONNECTION_REFUSED;
  if (!exchange.response) return exchange.error;
  const { status, body } = exchange.response;
  if (status === 200) return undefined;
  if (status === 401) return 'invalid enrollment token';
  if (status === 429) return 'too many requests received (429)';
  const temporary: Record<number, string> = { 502: 'BadGateway', 503: 'ServiceUnavailable', 504: 'GatewayTimeout' };
  if (temporary[status]) return `received status code ${status} (${temporary[status]}): temporary server error, please retry later`;
  return extractError(status, body);
}

/**
 * fleetapi's ExtractError: a JSON error body is worded with its fields; anything else (a proxy's
 * HTML page) is quoted raw (elastic-agent internal/pkg/fleetapi/client/client.go).
 */
function extractError(status: number, body: string): string {
  try {
    const parsed = JSON.parse(body) as { statusCode?: number; error?: string; message?: string };
    if (parsed === null || typeof parsed !== 'object') throw new Error('not an object');
    const code = parsed.statusCode ?? status;
    return parsed.message ? `status code: ${code}, fleet-server returned an error: ${parsed.error}, message: ${parsed.message}` : `status code: ${code}, fleet-server returned an error: ${String(parsed.error)}`;
  } catch {
    return `could not decode the response, raw response: ${body}`;
  }
}
