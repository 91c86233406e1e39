import { enrollAgent, type EnrollResult } from '../components/agent.js';
import { shipToElasticsearch, type PolicyOutput } from '../components/output.js';
import { FakeElasticsearch, type ElasticsearchOptions } from '../components/elasticsearch.js';
import { FakeFleetServer, elasticError, type FleetServerOptions, type FleetServerState } from '../components/fleet-server.js';
import type { GoClientTls } from '../components/go-client.js';
import { ComponentLog } from '../components/log.js';
import { buildLeg, skippedLeg } from '../components/legs.js';
import type { Leg } from '../report/leg.js';

/** The three components of Elastic's page, as one run: Elasticsearch, Fleet Server bootstrapping against it, an agent enrolling. */
export interface FlowConfig {
  readonly elasticsearch: ElasticsearchOptions;
  readonly fleetServer: Omit<FleetServerOptions, 'elasticsearch' | 'log'> & {
    readonly elasticsearchUrl: string;
    readonly elasticsearchTls: GoClientTls;
    readonly serviceToken: string;
  };
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
  };
}

export interface FlowResult {
  readonly ok: boolean;
  /** agent → fleet-server, fleet-server → elasticsearch, then the agent's output to elasticsearch. */
  readonly legs: readonly Leg[];
  readonly fleetServerState: FleetServerState;
  readonly logs: { readonly agent: ComponentLog; readonly fleetServer: ComponentLog; readonly elasticsearch: ComponentLog };
}

export async function runFlow(config: FlowConfig): Promise<FlowResult> {
  const logs = { agent: new ComponentLog('agent'), fleetServer: new ComponentLog('fleet-server'), elasticsearch: new ComponentLog('elasticsearch') };
  const es = await FakeElasticsearch.start({ ...config.elasticsearch, serviceToken: config.elasticsearchServiceToken ?? config.fleetServer.serviceToken, log: logs.elasticsearch });
  try {
    const fs = await FakeFleetServer.start({
      ...config.fleetServer,
      elasticsearch: {
        url: config.fleetServer.elasticsearchUrl,
        tls: config.fleetServer.elasticsearchTls,
        serviceToken: config.fleetServer.serviceToken,
        // Whatever host the URL names, the connection goes to the fake, as if DNS pointed there.
        connectTo: es.endpoint,
      },
      log: logs.fleetServer,
    });
    try {
      // The agent first: enrolling makes Fleet Server call Elasticsearch again, and the leg covers those calls.
      const { leg: agentToFleet, enrolled } = await agentLeg(config, fs, logs.agent);
      const fleetToElasticsearch = await elasticsearchLeg(fs, es);
      const output = enrolled ? outputOf(enrolled) : undefined;
      const agentToElasticsearch = output
        ? await shipToElasticsearch({ output, connectTo: es.endpoint, elasticsearch: es, log: logs.agent })
        : skippedLeg('agent', 'elasticsearch', fs.options.output?.hosts[0] ?? '', 'the agent did not enroll, so it has no policy to ship data with');
      const legs = [agentToFleet, fleetToElasticsearch, agentToElasticsearch];
      return { ok: legs.every((leg) => leg.ok), legs, fleetServerState: fs.state, logs };
    } finally {
      await fs.close();
    }
  } finally {
    await es.close();
  }
}

/** The Elasticsearch output of the policy the agent's first checkin delivered. */
function outputOf(enrolled: EnrollResult): PolicyOutput | undefined {
  if (!enrolled.ok) return undefined;
  const outputs = enrolled.policy?.outputs as Record<string, PolicyOutput> | undefined;
  return outputs?.default ?? Object.values(outputs ?? {}).find((o) => o.type === 'elasticsearch');
}

/** The enrollment leg, and the enrollment itself when the agent got as far as trying. */
async function agentLeg(config: FlowConfig, fs: FakeFleetServer, log: ComponentLog): Promise<{ leg: Leg; enrolled?: EnrollResult }> {
  const { url } = config.agent;
  if (!fs.healthy) {
    // The installing agent waits for its Fleet Server and relays its state instead of enrolling.
    return { leg: skippedLeg('agent', 'fleet-server', url, 'Fleet Server did not become healthy', `Fleet Server - ${fs.stateMessage}`) };
  }
  for (const warning of config.agent.warnings ?? []) log.warnOnce(warning);
  if (config.agent.loadError) {
    for (const line of config.agent.loadError.split('\n')) log.write('error', line);
    return { leg: skippedLeg('agent', 'fleet-server', url, 'the agent could not load its client certificate and key', config.agent.loadError) };
  }
  const result = await enrollAgent({
    url,
    tls: config.agent.tls,
    enrollmentToken: config.agent.enrollmentToken ?? fs.enrollmentToken ?? '',
    connectTo: fs.endpoint,
    fleetServer: fs,
    log,
  });
  return { leg: result.leg, enrolled: result };
}

/** The leg of Fleet Server's connections to Elasticsearch: the first that failed, else the first. */
async function elasticsearchLeg(fs: FakeFleetServer, es: FakeElasticsearch): Promise<Leg> {
  const calls = fs.elasticsearchCalls;
  const call = calls.find((c) => elasticError(c.exchange) !== undefined) ?? calls[0];
  const url = fs.options.elasticsearch.url;
  if (!call) return skippedLeg('fleet-server', 'elasticsearch', url, 'Fleet Server made no request');
  const problem = elasticError(call.exchange);
  const failure = fs.log.entries.find((e) => e.message.startsWith('Fleet Server failed'));
  return buildLeg({
    from: 'fleet-server',
    to: 'elasticsearch',
    url: new URL(call.path, url).toString(),
    exchange: call.exchange,
    ok: problem === undefined,
    method: call.method,
    ...(problem && failure ? { clientLog: [...call.exchange.connection.warnings, failure.message].join('\n') } : {}),
    server: await es.connection(call.exchange.connection.localPort),
  });
}

