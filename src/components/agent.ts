import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { DEFAULT_GO, type GoRelease } from '../dialects/go.js';
import { buildLeg } from './legs.js';
import type { Leg } from '../report/leg.js';
import { goRequest, type GoClientTls, type GoExchange } from './go-client.js';
import { ComponentLog } from './log.js';
import type { ServerConnection } from './server-dialect.js';

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
}

export interface EnrollResult {
  readonly ok: boolean;
  readonly agentId?: string;
  /** The agent to Fleet Server leg: enrollment, then the first checkin. */
  readonly leg: Leg;
  /** The policy the first checkin delivered (its outputs carry the agent's Elasticsearch settings). */
  readonly policy?: Record<string, unknown>;
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
  // Enroll and checkin are both POSTs, each on its own connection (the agent uses two clients).
  const request = async (path: string, authorization: string, body: object) => {
    const exchange = await goRequest({
      method: 'POST', url: `${base}${path}`, headers: { ...headers, authorization }, body: JSON.stringify(body),
      tls: options.tls, goRelease: options.goRelease ?? DEFAULT_GO,
      ...(options.connectTo ? { connectTo: options.connectTo } : {}),
    });
    for (const warning of exchange.connection.warnings) log.warnOnce(warning);
    return exchange;
  };
  const warnings = () => log.entries.filter((e) => e.level === 'warn').map((e) => e.message);
  const leg = async (exchange: GoExchange, ok: boolean, path: string, clientLog: string | undefined) => buildLeg({
    from: 'agent', to: 'fleet-server', url: `${base}${path}`, exchange, ok, method: 'POST',
    ...(clientLog ? { clientLog } : {}),
    ...(options.fleetServer ? { server: await options.fleetServer.connection(exchange.connection.localPort) } : {}),
  });
  if ((options.tls.verificationMode ?? 'full') === 'none') log.warnOnce('SSL/TLS verifications disabled.');

  const enrollPath = '/api/fleet/agents/enroll';
  const enrolled = await request(enrollPath, `ApiKey ${options.enrollmentToken}`, {
    type: 'PERMANENT', id: '', replace_token: '',
    metadata: { local: { elastic: { agent: { version, id: '' } }, host: { hostname: hostname() } }, user_provided: {}, tags: [] },
  });
  const enrollError = enrollmentError(enrolled);
  if (enrollError) {
    const failure = `fail to execute request to fleet-server: ${enrollError}`;
    // Since 9.1 the agent retries a request that got no answer until --enroll-timeout, and the
    // command then ends with the last error.
    if (!enrolled.response) log.write('warn', `Error detected: ${failure}, will retry in a moment.`);
    const line = `fail to enroll: ${failure}`;
    log.write('error', line);
    return { ok: false, leg: await leg(enrolled, false, enrollPath, [...warnings(), line].join('\n')), log };
  }
  const item = (JSON.parse(enrolled.response!.body) as { item: { id: string; access_api_key: string } }).item;
  log.write('info', 'Successfully enrolled the Elastic Agent.');

  const checkinPath = `/api/fleet/agents/${item.id}/checkin`;
  const checkin = await request(checkinPath, `ApiKey ${item.access_api_key}`, { status: 'online', message: '', ack_token: '' });
  if (!checkin.response || checkin.response.status !== 200) {
    const reason = checkin.response
      ? `status code: ${checkin.response.status}, fleet-server returned an error: ${fleetError(checkin.response.body)}`
      : `all hosts failed: requester 0/1 to host ${base}/ errored: Post "${base}${checkinPath}?": ${checkin.error}`;
    const line = `fail to checkin to fleet-server (uri: ${checkinPath}): ${reason}`;
    log.write('warn', `Possible transient error during checkin with fleet-server, retrying: ${line}`);
    return { ok: false, agentId: item.id, leg: await leg(checkin, false, checkinPath, [...warnings(), line].join('\n')), log };
  }
  const actions = (JSON.parse(checkin.response.body) as { actions?: Array<{ type: string; data?: { policy?: Record<string, unknown> } }> }).actions ?? [];
  const policy = actions.find((a) => a.type === 'POLICY_CHANGE')?.data?.policy;
  const lines = warnings();
  return {
    ok: true,
    agentId: item.id,
    ...(policy ? { policy } : {}),
    leg: await leg(enrolled, true, enrollPath, [...lines, 'Successfully enrolled the Elastic Agent.'].join('\n')),
    log,
  };
}

/** The enroll command's reading of a failed request (fleetapi EnrollCmd.Execute). */
function enrollmentError(exchange: GoExchange): string | undefined {
  if (!exchange.response) return exchange.error;
  const { status, body } = exchange.response;
  if (status === 200) return undefined;
  if (status === 401) return 'invalid enrollment token';
  if (status === 429) return 'too many requests received (429)';
  const temporary: Record<number, string> = { 502: 'BadGateway', 503: 'ServiceUnavailable', 504: 'GatewayTimeout' };
  if (temporary[status]) return `received status code ${status} (${temporary[status]}): temporary server error, please retry later`;
  return `status code: ${status}, fleet-server returned an error: ${fleetError(body)}`;
}

function fleetError(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: string; message?: string };
    return parsed.message ? `${parsed.error}, message: ${parsed.message}` : String(parsed.error);
  } catch {
    return body.trim();
  }
}
