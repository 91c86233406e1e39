import { DEFAULT_GO, goDurationMs, type GoRelease } from '../dialects/go.js';
import { clientTimeout } from './go-errors.js';
import { buildLeg, skippedLeg, withLog } from './legs.js';
import { changedLeg } from '../capture/wire.js';
import type { Leg } from '../report/leg.js';
import { loadCertificateAuthorities, loadIdentity, MaterialError } from '../tls/material.js';
import { parseVerificationMode, versionRange } from '../tls/settings.js';
import { GoTransport, goRequest, type GoClientTls, type GoExchange } from './go-client.js';
import { ComponentLog } from './log.js';
import type { ServerConnection } from './server-dialect.js';
import { proxyRoute, type ProxyRoute, type ProxySettings } from './proxy/proxy-url.js';

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
  /**
   * The output's proxy (Fleet → Settings → Outputs → Proxy, libs' httpcommon settings): the agent's
   * Beats and Fleet Server's output use it, not --proxy-url, which is the agent's own connection to
   * Fleet Server (Elastic's "Fleet managed Elastic Agent connectivity using a proxy server").
   */
  readonly proxy_url?: string;
  readonly proxy_headers?: Readonly<Record<string, string>>;
  readonly proxy_disable?: boolean;
}

export interface ShipOptions {
  readonly output: PolicyOutput;
  readonly version?: string;
  readonly goRelease?: GoRelease;
  readonly log?: ComponentLog;
  /** Where Elasticsearch really listens, whatever host the output names. */
  readonly connectTo?: { readonly host: string; readonly port: number };
  readonly elasticsearch?: { connection(localPort: number | undefined): Promise<ServerConnection | undefined> };
  /** The fake proxy the output's proxy_url names, when it runs in this process: where it listens and its log. */
  readonly proxyFake?: { readonly log: ComponentLog; readonly connectTo: { readonly host: string; readonly port: number } };
}

/** The policy's Elasticsearch output that the Beats ship with: `default`, else the first of that type. */
export function elasticsearchOutput(outputs: unknown): PolicyOutput | undefined {
  // The policy is whatever the Fleet Server sent (any Fleet Server, for the standalone agent): only objects are outputs.
  const isOutput = (o: unknown): o is PolicyOutput => typeof o === 'object' && o !== null && !Array.isArray(o);
  if (!isOutput(outputs)) return undefined;
  const all = outputs as Record<string, unknown>;
  return isOutput(all.default) ? all.default : Object.values(all).find((o): o is PolicyOutput => isOutput(o) && o.type === 'elasticsearch');
}

/** libs' proxy settings as the output carries them (the Beats and Fleet Server's output test read the same). */
export function outputProxySettings(output: PolicyOutput): ProxySettings {
  return { ...(output.proxy_url ? { url: output.proxy_url } : {}), headers: { ...output.proxy_headers }, disable: output.proxy_disable === true };
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
  // libbeat's client pings and publishes over one kept-alive connection, through the output's proxy if it has one.
  const transport = new GoTransport();
  let route: ProxyRoute | undefined;
  try {
    route = proxyRoute(outputProxySettings(options.output), 'proxy_url');
  } catch (error) {
    const line = `Failed to connect to ${backoff}: ${(error as Error).message}`;
    log.write('error', line);
    return skippedLeg('agent', 'elasticsearch', url, 'the output\'s proxy_url could not be read', line);
  }
  const proxy = route && options.proxyFake ? { ...route, connectTo: options.proxyFake.connectTo } : route;
  const timeoutMs = options.output.timeout === undefined ? undefined : goDurationMs(options.output.timeout);
  const request = async (method: 'GET' | 'POST', path: string, body?: string) => {
    const exchange = await goRequest({
      method, url: `${url}${path}`, headers, tls, transport, goRelease: options.goRelease ?? DEFAULT_GO,
      ...(timeoutMs !== undefined ? { deadline: clientTimeout(timeoutMs) } : {}),
      ...(body !== undefined ? { body } : {}),
      ...(options.connectTo ? { connectTo: options.connectTo } : {}),
      ...(proxy ? { proxy } : {}),
    });
    for (const warning of exchange.connection.warnings) log.warnOnce(warning);
    return exchange;
  };
  const leg = async (exchange: GoExchange, ok: boolean, method: 'GET' | 'POST', path: string, clientLog: string) => {
    const built = withLog(buildLeg({
      from: 'agent', to: 'elasticsearch', url: `${url}${path || '/'}`, exchange, ok, method,
      ...(exchange.proxy ? {} : { clientLog }),
      // Through a proxy Elasticsearch sees the proxy's port, never the agent's.
      ...(options.elasticsearch && !exchange.proxy ? { server: await options.elasticsearch.connection(exchange.connection.localPort) } : {}),
    }), exchange.proxy ? clientLog : undefined);
    if (!exchange.proxy) return built;
    // TLS stays end to end through the tunnel; the proxy's own lines for this connection go with the leg.
    const port = exchange.proxy.localPort;
    const lines = options.proxyFake?.log && port ? options.proxyFake.log.entries.filter((e) => e.fields?.clientPort === port).map((e) => e.message) : [];
    return changedLeg(built, { via: 'proxy', ...(lines.length ? { logs: { ...built.logs, proxy: lines.join('\n') } } : {}) });
  };
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

/**
 * libbeat's output worker reconnects for as long as the Beat runs, logging each try
 * (publisher/pipeline/client_worker.go) and backing off from 1 s to 60 s (the Elasticsearch
 * output's `backoff.init` and `backoff.max`). An Elasticsearch that cannot be reached yet, or whose
 * name the network's DNS does not answer for a while (aardvark-dns stalls while containers join),
 * is waited out until `timeoutMs`; a TLS or HTTP answer ends the run with the Beats' words.
 */
export async function shipUntilConnected(options: ShipOptions, timeoutMs: number): Promise<Leg> {
  const started = Date.now();
  const backoff = `backoff(elasticsearch(${(options.output.hosts?.[0] ?? '').replace(/\/+$/, '')}))`;
  for (let reconnects = 0; ; reconnects += 1) {
    if (reconnects > 0) options.log?.write('info', `Attempting to reconnect to ${backoff} with ${reconnects} reconnect attempt(s)`);
    const shipped = await shipToElasticsearch(options);
    const waitMs = Math.min(60_000, 1000 * 2 ** reconnects);
    if (shipped.ok || shipped.phase !== 'connect' || Date.now() - started + waitMs > timeoutMs) return shipped;
    await new Promise((resolve) => setTimeout(resolve, waitMs));
  }
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

/** The policy's ssl block read the way libs reads it (inline PEM or paths); throws MaterialError. */
export function outputTls(output: PolicyOutput): GoClientTls {
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
