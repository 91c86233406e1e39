import { exception, type Reply } from './errors.js';
import type { DocumentStore } from './store.js';

/** GET /, _cluster/health and _license, as one node of a basic-licensed cluster answers them. */
export interface ClusterIdentity {
  readonly version: string;
  readonly clusterName: string;
  readonly clusterUuid: string;
  readonly nodeName: string;
  readonly startedAt: number;
}

export function clusterInfo(c: ClusterIdentity): object {
  return {
    name: c.nodeName,
    cluster_name: c.clusterName,
    cluster_uuid: c.clusterUuid,
    version: {
      number: c.version,
      build_flavor: 'default',
      build_type: 'docker',
      build_hash: 'fleet-tls-harness',
      build_date: '2025-04-08T00:00:00.000Z',
      build_snapshot: false,
      lucene_version: '10.1.0',
      minimum_wire_compatibility_version: '8.18.0',
      minimum_index_compatibility_version: '8.0.0',
    },
    tagline: 'You Know, for Search',
  };
}

const RANK = { green: 0, yellow: 1, red: 2 } as const;
type Colour = keyof typeof RANK;

/**
 * One node: every index's replica stays unassigned (number_of_replicas defaults to 1), so any
 * index makes the cluster yellow, as a single-node cluster reports. `wait_for_status` beyond
 * that waits out `timeout` (default 30s) and answers 408 with `timed_out: true`, as ES does.
 */
export async function clusterHealth(c: ClusterIdentity, store: DocumentStore, query: URLSearchParams): Promise<Reply> {
  const indices = store.indexCount;
  const status: Colour = indices > 0 ? 'yellow' : 'green';
  const wanted = query.get('wait_for_status');
  if (wanted !== null && !(wanted in RANK)) {
    return exception(400, { type: 'illegal_argument_exception', reason: `unknown cluster health status [${wanted}]` });
  }
  let timedOut = false;
  if (wanted !== null && RANK[status] > RANK[wanted as Colour]) {
    const timeout = timeValue(query.get('timeout') ?? '30s');
    if (timeout === undefined) return exception(400, { type: 'illegal_argument_exception', reason: `failed to parse setting [timeout] with value [${query.get('timeout')}] as a time value: unit is missing or unrecognized` });
    await new Promise((resolve) => setTimeout(resolve, Math.min(timeout, 30_000)));
    timedOut = true;
  }
  const body = {
    cluster_name: c.clusterName,
    status,
    timed_out: timedOut,
    number_of_nodes: 1,
    number_of_data_nodes: 1,
    active_primary_shards: indices,
    active_shards: indices,
    relocating_shards: 0,
    initializing_shards: 0,
    unassigned_shards: indices,
    unassigned_primary_shards: 0,
    delayed_unassigned_shards: 0,
    number_of_pending_tasks: 0,
    number_of_in_flight_fetch: 0,
    task_max_waiting_in_queue_millis: 0,
    active_shards_percent_as_number: indices > 0 ? 50.0 : 100.0,
  };
  return { status: timedOut ? 408 : 200, body };
}

/** A basic license, as a new cluster has: no expiry, self-issued. */
export function license(c: ClusterIdentity): object {
  return {
    license: {
      status: 'active',
      uid: c.clusterUuid,
      type: 'basic',
      issue_date: new Date(c.startedAt).toISOString(),
      issue_date_in_millis: c.startedAt,
      max_nodes: 1000,
      max_resource_units: null,
      issued_to: c.clusterName,
      issuer: 'elasticsearch',
      start_date_in_millis: -1,
    },
  };
}

/** Elasticsearch's TimeValue units: nanos to days. */
function timeValue(text: string): number | undefined {
  const match = /^(\d+)(nanos|micros|ms|s|m|h|d)$/.exec(text.trim());
  if (!match) return undefined;
  const unit = { nanos: 1e-6, micros: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 'ms'];
  return Number(match[1]) * unit;
}
