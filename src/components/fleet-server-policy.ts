/**
 * Fleet Server once it has its policy (fleet-server internal/pkg/server/agent.go, configFromUnits,
 * since 8.15 / elastic/fleet-server#3506): the policy's output, with the keys it lacks taken from
 * the bootstrap (policy.ts), is tested with a new Elasticsearch client (esOutputCheck: the version
 * check, GET /). When the test passes Fleet Server reconfigures onto that output; when it fails
 * it logs a warning, keeps the bootstrap values and retests every minute, so it stays HEALTHY
 * while the agents, whose Beats use the policy's output as it is, ship nothing.
 */
import { DEFAULT_GO } from '../dialects/go.js';
import { changedLeg } from '../capture/wire.js';
import type { Leg } from '../report/leg.js';
import { MaterialError } from '../tls/material.js';
import { elasticError } from './elastic-error.js';
import { goRequest } from './go-client.js';
import type { FakeFleetServer } from './fleet-server.js';
import { buildLeg, skippedLeg, withLog } from './legs.js';
import type { PolicyOutput } from './output.js';
import { mergeBootstrapOutput, type MergedOutput } from './policy.js';
import { proxyRoute } from './proxy/proxy-url.js';
import type { ServerConnection } from './server-dialect.js';

export interface PolicyOutputCheckOptions {
  readonly output: PolicyOutput;
  /** Where Elasticsearch listens, whatever host the output names (as if DNS pointed there). */
  readonly connectTo?: { readonly host: string; readonly port: number };
  readonly elasticsearch?: { connection(localPort: number | undefined): Promise<ServerConnection | undefined> };
  /** Where the fake proxy of the output's `proxy_url` listens. */
  readonly proxyConnectTo?: { readonly host: string; readonly port: number };
  /** What answers at the output's host when it is not Elasticsearch: a secure proxy in front of it. */
  readonly legTo?: 'proxy';
}

/** What Fleet Server did with its policy's output: the leg of its test (its log says which output it kept). */
export interface PolicyOutputResult {
  readonly leg: Leg;
  /** The secure proxy's own hop to Elasticsearch, when one stands in front of it. */
  readonly upstream?: Leg;
}

/** The lines fleet-server writes when the test fails (ver.CheckCompatibility, then configFromUnits). */
const OUTPUT_TEST_FAILED = 'Failed Elasticsearch output configuration test, using bootstrap values.';

export async function takePolicyOutput(fs: FakeFleetServer, options: PolicyOutputCheckOptions): Promise<PolicyOutputResult> {
  const bootstrap = fs.options.elasticsearch;
  const fail = (error: string) => [`failed to fetch elasticsearch version: ${error}`, `${OUTPUT_TEST_FAILED}: ${error}`];
  let merged: MergedOutput;
  let route: ReturnType<typeof proxyRoute>;
  try {
    merged = mergeBootstrapOutput(options.output, { hosts: [bootstrap.url], tls: bootstrap.tls });
    route = proxyRoute(merged.proxy);
  } catch (error) {
    // es.NewClient could not load the merged ssl settings: the test fails before any connection.
    const reason = error instanceof MaterialError ? error.libsMessage : (error as Error).message;
    const line = `${OUTPUT_TEST_FAILED}: ${reason}`;
    fs.log.write('warn', line);
    return { leg: changedLeg(skippedLeg('fleet-server', options.legTo ?? 'elasticsearch', options.output.hosts?.[0] ?? '', 'the policy\'s output ssl settings could not be loaded', line), { stage: 'policy' }) };
  }
  const host = merged.hosts[0]!.replace(/\/+$/, '');
  const proxy = route && options.proxyConnectTo ? { ...route, connectTo: options.proxyConnectTo } : route;
  // A new client for the test, as esOutputCheck builds one: its own connection, not the bootstrap's.
  const exchange = await goRequest({
    method: 'GET', url: `${host}/`,
    headers: { authorization: `Bearer ${bootstrap.serviceToken}`, 'user-agent': `Fleet-Server/${fs.version}` },
    tls: merged.tls, goRelease: fs.options.goRelease ?? DEFAULT_GO,
    ...(options.connectTo ? { connectTo: options.connectTo } : {}),
    ...(proxy ? { proxy } : {}),
  });
  for (const warning of exchange.connection.warnings) fs.log.warnOnce(warning);
  const problem = elasticError(exchange);
  const lines = problem ? fail(problem) : ['Server configuration update', 'output configuration has changed'];
  fs.log.write(problem ? 'error' : 'info', lines[0]!, problem ? { 'error.message': problem } : undefined);
  if (problem) fs.log.write('warn', lines[1]!, { 'error.message': problem });
  else fs.log.write('info', lines[1]!);
  const built = withLog(buildLeg({
    from: 'fleet-server', to: options.legTo ?? 'elasticsearch', url: `${host}/`, exchange, ok: !problem, method: 'GET',
    ...(exchange.proxy ? {} : { clientLog: lines.join('\n') }),
    ...(options.elasticsearch && !exchange.proxy ? { server: await options.elasticsearch.connection(exchange.connection.localPort) } : {}),
  }), exchange.proxy ? lines.join('\n') : undefined);
  // The fake keeps serving this flow over its bootstrap connection either way: the test's
  // connection is what changed, and a stack shared by later flows must stand as its bootstrap left it.
  return { leg: changedLeg(built, { stage: 'policy', ...(exchange.proxy ? { via: 'proxy' as const } : {}) }) };
}
