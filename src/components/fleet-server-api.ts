import { requestPath } from '../request-target.js';
import { randomUUID } from 'node:crypto';
import { pooledRandomHex } from '../random-pool.js';
import { goDurationMs } from '../dialects/go.js';
import { elasticError } from './elastic-error.js';
import type { FleetBackend, FleetRequest } from './fleet-server-backend.js';

export interface FleetReply {
  readonly status: number;
  readonly body: object | string;
}

/** Fleet Server's error body: `{"statusCode","error","message"}` (internal/pkg/api/error.go). */
function failure(status: number, error: string, message: string): FleetReply {
  return { status, body: { statusCode: status, error, message } };
}

const CHECKIN = /^\/api\/fleet\/agents\/([^/]+)\/checkin$/;
const ACKS = /^\/api\/fleet\/agents\/([^/]+)\/acks$/;

export async function fleetRoutes(server: FleetBackend, req: FleetRequest, body: string): Promise<FleetReply> {
  const path = requestPath(req.url);
  const method = req.method ?? 'GET';
  if (method === 'GET' && path === '/api/status') return status(server, req);
  if (method === 'POST' && path === '/api/fleet/agents/enroll') return enroll(server, req, body);
  const checkin = CHECKIN.exec(path);
  if (method === 'POST' && checkin) return checkinAgent(server, req, checkin[1]!, body);
  const acks = ACKS.exec(path);
  if (method === 'POST' && acks) return { status: 200, body: { action: 'acks', items: [] } };
  return { status: 404, body: '404 page not found\n' };
}

/** 200 only when HEALTHY; 503 with the same body otherwise. The version needs a valid ApiKey. */
async function status(server: FleetBackend, req: FleetRequest): Promise<FleetReply> {
  const body: Record<string, unknown> = { name: 'fleet-server', status: server.state };
  if (req.headers.authorization?.startsWith('ApiKey ') && server.healthy) {
    const auth = await server.elasticsearch('GET', '/_security/_authenticate', undefined, req.headers.authorization);
    if (!elasticError(auth)) body.version = { number: server.version, build_hash: 'fleet-tls-harness', build_time: '2025-04-08T00:00:00Z' };
  }
  return { status: server.healthy ? 200 : 503, body };
}

/** Checks the `Authorization: ApiKey` header against Elasticsearch, as fleet-server's authAPIKey does. */
async function authorize(server: FleetBackend, req: FleetRequest): Promise<FleetReply | { apiKeyId: string }> {
  const header = req.headers.authorization;
  if (!header) return failure(401, 'ErrNoAuthHeader', 'no authorization header');
  if (!header.startsWith('ApiKey ')) return failure(400, 'ErrMalformedHeader', 'malformed authorization header');
  const apiKeyId = apiKeyIdOf(header);
  if (server.apiKeyTrusted(header)) return { apiKeyId };
  const auth = await server.elasticsearch('GET', '/_security/_authenticate', undefined, header);
  const problem = elasticError(auth);
  if (problem) {
    server.logInfo(`ApiKey fail authentication: ${problem}`);
    return auth.response ? failure(401, 'ErrUnauthorized', 'unauthorized') : failure(503, 'ServiceUnavailable', 'elasticsearch unavailable');
  }
  server.trustApiKey(header);
  return { apiKeyId };
}

/** Each ApiKey header's id, decoded once: an agent sends the same header on every checkin. */
const apiKeyIds = new Map<string, string>();

function apiKeyIdOf(header: string): string {
  let id = apiKeyIds.get(header);
  if (id === undefined) {
    [id = ''] = Buffer.from(header.slice('ApiKey '.length), 'base64').toString('utf8').split(':');
    if (apiKeyIds.size >= 10_000) apiKeyIds.clear();
    apiKeyIds.set(header, id);
  }
  return id;
}

/** The agent's version must be known and not newer than Fleet Server's major.minor. */
function checkUserAgent(server: FleetBackend, req: FleetRequest): FleetReply | undefined {
  const agent = (req.headers['user-agent'] ?? '').toLowerCase();
  if (!agent.startsWith('elastic agent ')) return failure(400, 'InvalidUserAgent', 'user-agent is not valid');
  const [major = 0, minor = 0] = agent.slice('elastic agent v'.length).split('.').map(Number);
  const [fleetMajor = 0, fleetMinor = 0] = server.version.split('.').map(Number);
  if (major > fleetMajor || (major === fleetMajor && minor > fleetMinor) || major < 7) {
    return failure(400, 'UnsupportedVersion', 'version is not supported');
  }
  return undefined;
}

async function enroll(server: FleetBackend, req: FleetRequest, body: string): Promise<FleetReply> {
  if (!server.healthy) return failure(503, 'ServiceUnavailable', 'server is not healthy');
  const badAgent = checkUserAgent(server, req);
  if (badAgent) return badAgent;
  const auth = await authorize(server, req);
  if ('status' in auth) return auth;
  const id = randomUUID();
  const key = await server.elasticsearch('POST', '/_security/api_key', { name: id });
  const problem = elasticError(key);
  if (problem) return failure(500, 'ErrInternal', problem);
  const created = JSON.parse(key.response!.body) as { id: string; encoded: string };
  server.agents.set(id, { accessKeyId: created.id });
  // handleEnroll.go caches the new access key (cache.SetAPIKey), sparing the agent's first
  // checkin the round trip to Elasticsearch: with the cache on, so does this one.
  server.trustApiKey(`ApiKey ${created.encoded}`);
  const request = safeJson(body);
  const now = new Date().toISOString();
  server.logInfo(`Elastic Agent successfully enrolled`, { 'fleet.agent.id': id, 'fleet.policy.id': server.policyId });
  return {
    status: 200,
    body: {
      action: 'created',
      item: {
        id,
        active: true,
        policy_id: server.policyId,
        type: request?.type ?? 'PERMANENT',
        enrolled_at: now,
        user_provided_metadata: {},
        local_metadata: request?.metadata?.local ?? {},
        access_api_key_id: created.id,
        access_api_key: created.encoded,
        status: 'online',
        tags: request?.metadata?.tags ?? [],
      },
    },
  };
}

async function checkinAgent(server: FleetBackend, req: FleetRequest, agentId: string, body: string): Promise<FleetReply> {
  const auth = await authorize(server, req);
  if ('status' in auth) return auth;
  const agent = server.agents.get(agentId);
  if (!agent || agent.accessKeyId !== auth.apiKeyId) return failure(404, 'AgentNotFound', 'agent could not be found');
  // An agent that acknowledges what it was last sent has nothing new: the checkin long-polls.
  const request = safeJson(body) as { ack_token?: string; poll_timeout?: string } | undefined;
  if (agent.ackToken && request?.ack_token === agent.ackToken) {
    await server.longPoll(pollTimeoutMs(request.poll_timeout), req);
    return { status: 200, body: { action: 'checkin', ack_token: agent.ackToken, actions: [] } };
  }
  agent.ackToken = pooledRandomHex(8);
  // The first checkin answers at once with the policy, as Fleet Server does for a new agent,
  // with an API key of the agent's own for its output.
  const output = server.output;
  if (!agent.outputKey) {
    // Made once per agent, as Fleet Server does when it first hands out a policy.
    const made = await server.elasticsearch('POST', '/_security/api_key', { name: `${agentId}-output` });
    if (!elasticError(made)) {
      const { id, api_key: secret } = JSON.parse(made.response!.body) as { id: string; api_key: string };
      agent.outputKey = `${id}:${secret}`;
    }
  }
  return {
    status: 200,
    body: {
      action: 'checkin',
      ack_token: agent.ackToken,
      actions: [{
        id: `policy:${server.policyId}:1:1`,
        type: 'POLICY_CHANGE',
        agent_id: agentId,
        created_at: new Date().toISOString(),
        data: {
          policy: {
            id: server.policyId,
            revision: 1,
            outputs: { default: agent.outputKey ? { ...policyOutput(output), api_key: agent.outputKey } : policyOutput(output) },
            fleet: server.fleet ?? { hosts: [server.url] },
            inputs: [],
          },
        },
      }],
    },
  };
}

type BackendOutput = FleetBackend['output'];
const policyOutputs = new WeakMap<BackendOutput, object>();

/** The policy's output block but for the agent's own key: the same for every checkin, so made once per output. */
function policyOutput(output: BackendOutput): object {
  let block = policyOutputs.get(output);
  if (!block) {
    block = {
      type: 'elasticsearch', hosts: output.hosts, ...(output.timeout ? { timeout: output.timeout } : {}), ...(output.ssl ? { ssl: output.ssl } : {}),
      ...(output.proxy_url !== undefined ? { proxy_url: output.proxy_url } : {}),
      ...(output.proxy_headers ? { proxy_headers: output.proxy_headers } : {}),
      ...(output.proxy_disable !== undefined ? { proxy_disable: output.proxy_disable } : {}),
    };
    policyOutputs.set(output, block);
  }
  return block;
}

function safeJson(text: string): { type?: string; metadata?: { local?: object; tags?: string[] } } | undefined {
  try {
    return JSON.parse(text) as { type?: string; metadata?: { local?: object; tags?: string[] } };
  } catch {
    return undefined;
  }
}

/** fleet-server: 5 m by default; a client's `poll_timeout` p gives max(1 m, p - 2 m). */
export function pollTimeoutMs(pollTimeout: string | undefined): number {
  const given = pollTimeout === undefined ? undefined : goDurationMs(pollTimeout);
  return given === undefined ? 5 * 60_000 : Math.max(60_000, given - 2 * 60_000);
}
