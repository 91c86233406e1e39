import { DEFAULT_GO, goDurationMs, type GoRelease } from '../dialects/go.js';
import { clientTimeout } from './go-errors.js';
import { buildLeg, skippedLeg } from './legs.js';
import { changedLeg } from '../capture/wire.js';
import type { Leg } from '../report/leg.js';
import { loadCertificateAuthorities, loadIdentity, MaterialError } from '../tls/material.js';
import { parseVerificationMode, versionRange } from '../tls/settings.js';
import { GoTransport, goRequest, type GoClientTls, type GoExchange } from './go-client.js';
import { ComponentLog } from './log.js';
import type { ServerConnection } from './server-dialect.js';

/** The Elasticsearch output of a policy, as Fleet hands it to the agent (libs `ssl.*` names). */
export interface PolicyOutput {
  readonly type?: string;
  readonly hosts?: readonly string[];
  readonly api_key?: string;
  /** libbeat's `timeout` (libs httpcommon, http.Client.Timeout; default 90s), a Go duration. */
  readonly timeout?: string;
  readonly ssl?: {
    readonly certificate_authorities?: readonly string[];
    readonly verification_mode?: string;
    readonly ca_trusted_fingerprint?: string;
    readonly certificate?: string;
    readonly key?: string;
    readonly supported_protocols?: readonly string[];
  };
}

export interface ShipOptions {
  readonly output: PolicyOutput;
  readonly version?: string;
  readonly goRelease?: GoRelease;
  readonly log?: ComponentLog;
  /** Where Elasticsearch really listens, whatever host the output names. */
  readonly connectTo?: { readonly host: string; readonly port: number };
  readonly elasticsearch?: { connection(localPort: number | undefined): Promise<ServerConnection | undefined> };
}

/**
 * The agent's output leg: its Beats connect to the output's first host as libbeat's
 * Elasticsearch client does (GET / to learn the version, then a _bulk), with the policy's ssl
 * settings, and log in libbeat's words.
 */
export async function shipToElasticsearch(options: ShipOptions): Promise<Leg> {
  // The Beats have their own libs configuration: their warnings are theirs, whatever enrollment logged.
  const log = new ComponentLog('agent');
  log.on('entry', (entry) => options.log?.write(entry.level, entry.message, entry.fields));
  const host = options.output.hosts?.[0];
  if (!host) return skippedLeg('agent', 'elasticsearch', '', 'the policy has no Elasticsearch output host');
  const url = host.replace(/\/+$/, '');
  const backoff = `backoff(elasticsearch(${url}))`;
  let tls: GoClientTls;
  try {
    tls = outputTls(options.output);
  } catch (error) {
    const reason = error instanceof MaterialError ? error.libsMessage : (error as Error).message;
    const line = `Failed to connect to ${backoff}: ${reason}`;
    log.write('error', line);
    return skippedLeg('agent', 'elasticsearch', url, 'the output\'s ssl settings could not be loaded', line);
  }
  if (tls.verificationMode === 'none') log.warnOnce('SSL/TLS verifications disabled.');
  const headers: Record<string, string> = {
    'user-agent': `Elastic-filebeat/${options.version ?? '9.2.0'} (linux; amd64)`,
    ...(options.output.api_key ? { authorization: `ApiKey ${Buffer.from(options.output.api_key).toString('base64')}` } : {}),
  };
  // libbeat's client pings and publishes over one kept-alive connection.
  const transport = new GoTransport();
  const timeoutMs = options.output.timeout === undefined ? undefined : goDurationMs(options.output.timeout);
  const request = async (method: 'GET' | 'POST', path: string, body?: string) => {
    const exchange = await goRequest({
      method, url: `${url}${path}`, headers, tls, transport, goRelease: options.goRelease ?? DEFAULT_GO,
      ...(timeoutMs !== undefined ? { deadline: clientTimeout(timeoutMs) } : {}),
      ...(body !== undefined ? { body } : {}),
      ...(options.connectTo ? { connectTo: options.connectTo } : {}),
    });
    for (const warning of exchange.connection.warnings) log.warnOnce(warning);
    return exchange;
  };
  const leg = async (exchange: GoExchange, ok: boolean, method: 'GET' | 'POST', path: string, clientLog: string) => buildLeg({
    from: 'agent', to: 'elasticsearch', url: `${url}${path || '/'}`, exchange, ok, method, clientLog,
    ...(options.elasticsearch ? { server: await options.elasticsearch.connection(exchange.connection.localPort) } : {}),
  });
  const warnings = () => log.entries.filter((e) => e.level === 'warn').map((e) => e.message);

  // libbeat pings with an empty path, so the URL in its error has no trailing slash.
  const ping = await request('GET', '');
  const pingProblem = failure(ping, 'Get', url);
  if (pingProblem) {
    const lines = [...(ping.connection.phase === 'handshake' || ping.connection.phase === 'connect' ? [`Error dialing ${ping.error}`] : []),
      `Failed to connect to ${backoff}: ${pingProblem}`];
    for (const line of lines) log.write('error', line);
    transport.close();
    return leg(ping, false, 'GET', '', [...warnings(), ...lines].join('\n'));
  }
  const bulk = await request('POST', '/_bulk', bulkBody(EVENTS));
  const bulkProblem = failure(bulk, 'Post', `${url}/_bulk`);
  if (bulkProblem) {
    transport.close();
    const line = `Failed to publish events caused by: ${bulkProblem}`;
    log.write('error', line);
    return leg(bulk, false, 'POST', '/_bulk', [...warnings(), line].join('\n'));
  }
  transport.close();
  const established = `Connection to ${backoff} established`;
  log.write('info', established);
  const events = { index: OUTPUT_INDEX, shipped: EVENTS, stored: storedCount(bulk.response?.body) };
  return changedLeg(await leg(ping, true, 'GET', '', [...warnings(), established].join('\n')), { events });
}

/** The data stream a Beat with the default namespace writes to, and how many events one run ships. */
export const OUTPUT_INDEX = 'logs-generic-default';
const EVENTS = 3;

/** libbeat's _bulk: `create` actions (data streams take nothing else), one event each with its @timestamp. */
function bulkBody(n: number): string {
  const now = new Date().toISOString();
  return Array.from({ length: n }, (_, i) =>
    `${JSON.stringify({ create: { _index: OUTPUT_INDEX } })}\n${JSON.stringify({ '@timestamp': now, message: `fleet-tls-harness event ${i + 1}` })}\n`).join('');
}

/** Items of a bulk answer with a 2xx status: what Elasticsearch says it stored. */
function storedCount(body: string | undefined): number {
  try {
    const parsed = JSON.parse(body ?? '') as { items?: Array<Record<string, { status?: number }>> };
    return (parsed.items ?? []).filter((item) => Object.values(item).some((r) => (r.status ?? 0) >= 200 && (r.status ?? 0) < 300)).length;
  } catch {
    return 0;
  }
}

/** Go's *url.Error text for a failed request, or libbeat's reading of an error status. */
function failure(exchange: GoExchange, verb: 'Get' | 'Post', url: string): string | undefined {
  if (!exchange.response) return `${verb} "${url}": ${exchange.error}`;
  const { status, body } = exchange.response;
  if (status >= 200 && status < 300) return undefined;
  return `${status} ${STATUS_TEXT[status] ?? 'Error'}: ${body}`;
}

const STATUS_TEXT: Readonly<Record<number, string>> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' };

/** The policy's ssl block read the way libs reads it (inline PEM or paths). */
function outputTls(output: PolicyOutput): GoClientTls {
  const ssl = output.ssl ?? {};
  const versions = versionRange(ssl.supported_protocols, 'ssl.supported_protocols');
  return {
    verificationMode: parseVerificationMode(ssl.verification_mode ?? '', 'ssl.verification_mode'),
    ...(ssl.certificate_authorities?.length ? { certificateAuthorities: loadCertificateAuthorities(ssl.certificate_authorities) } : {}),
    ...(ssl.certificate && ssl.key ? { certificate: loadIdentity(ssl.certificate, ssl.key) } : {}),
    ...(ssl.ca_trusted_fingerprint ? { caTrustedFingerprint: ssl.ca_trusted_fingerprint } : {}),
    ...(versions ? { versions } : {}),
  };
}
