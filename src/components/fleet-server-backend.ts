import type http from 'node:http';
import type net from 'node:net';
import type { GoExchange } from './go-http.js';
import type { PolicyOutput } from './output.js';
import type { PolicyFleet } from './policy.js';

/** elastic-agent-client unit states, uppercase as Fleet Server reports them. */
export type FleetServerState = 'STARTING' | 'HEALTHY' | 'DEGRADED' | 'FAILED' | 'STOPPING' | 'STOPPED';

/** What Fleet Server remembers about an enrolled agent. */
export interface EnrolledAgent {
  readonly accessKeyId: string;
  ackToken?: string;
  outputKey?: string;
}

/** What the routes read of a request: node:http's IncomingMessage, or the direct path's (load/direct-http.ts). */
export interface FleetRequest {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly headers: http.IncomingHttpHeaders;
  /** The connection, which a held checkin watches for the client going away. */
  readonly socket: net.Socket;
}

/**
 * The seam between Fleet Server's HTTP routes and the server behind them: the routes see only
 * this, as fleet-server's handlers see its bulker, cache and policy monitor rather than the
 * server struct. FakeFleetServer implements it; a test may implement it without sockets.
 */
export interface FleetBackend {
  readonly state: FleetServerState;
  readonly healthy: boolean;
  readonly version: string;
  readonly policyId: string;
  /** Fleet Server's own URL, as its policy's `fleet.hosts` names it. */
  readonly url: string;
  /** The policy's `fleet` block (Fleet Server hosts with their ssl and proxy); absent: its own URL. */
  readonly fleet?: PolicyFleet;
  /** The Elasticsearch output handed to agents in their policy. */
  readonly output: PolicyOutput & { readonly hosts: readonly string[] };
  readonly agents: Map<string, EnrolledAgent>;
  /** A request to Elasticsearch with Fleet Server's settings; `authorization` replaces the service token. */
  elasticsearch(method: 'GET' | 'POST', path: string, body?: object, authorization?: string): Promise<GoExchange>;
  /** Whether an ApiKey header authenticated recently enough to skip Elasticsearch (`cache.api_key_ttl`). */
  apiKeyTrusted(header: string): boolean;
  trustApiKey(header: string): void;
  /** Holds a checkin until `ms` pass, the client goes away, or the server closes. */
  longPoll(ms: number, req: FleetRequest): Promise<void>;
  logInfo(message: string, fields?: Record<string, unknown>): void;
}
