import { randomBytes } from 'node:crypto';
import type http from 'node:http';

/**
 * Elasticsearch's HTTP answers, as much as Fleet Server and the agent use: cluster info with
 * the product header, `_authenticate` for service tokens and API keys, API key creation, and
 * the security exception bodies. Bodies follow the shapes in reference/elastic-semantics.md 2.2.
 */
export interface ElasticsearchState {
  readonly version: string;
  readonly clusterName: string;
  readonly clusterUuid: string;
  readonly nodeName: string;
  /** Accepted as `Authorization: Bearer <token>` for the elastic/fleet-server service account. */
  serviceToken: string;
  /** API keys by id: their secret. The enrollment key of the default policy is one of them. */
  readonly apiKeys: Map<string, { secret: string; name: string }>;
}

export function newElasticsearchState(options: { version?: string; serviceToken?: string; nodeName?: string } = {}): ElasticsearchState {
  return {
    version: options.version ?? '9.2.0',
    clusterName: 'fleet-tls-harness',
    clusterUuid: randomBytes(16).toString('base64url').slice(0, 22),
    nodeName: options.nodeName ?? 'es-node-1',
    serviceToken: options.serviceToken ?? newServiceToken(),
    apiKeys: new Map(),
  };
}

/**
 * A service token in Elasticsearch's format: base64 of a 4-byte version prefix and
 * `elastic/fleet-server/<token name>:<secret>`.
 */
export function newServiceToken(name = 'fleet-tls-harness'): string {
  const body = Buffer.from(`elastic/fleet-server/${name}:${randomBytes(16).toString('base64url')}`);
  return Buffer.concat([Buffer.from([0, 1, 0, 1]), body]).toString('base64').replace(/=+$/, '');
}

/** The token name inside a well-formed service token, or undefined for anything else. */
export function serviceTokenName(token: string): string | undefined {
  const bytes = Buffer.from(token, 'base64');
  if (bytes.length < 5 || bytes[0] !== 0 || bytes[1] !== 1 || bytes[2] !== 0 || bytes[3] !== 1) return undefined;
  const match = /^elastic\/fleet-server\/([^:]+):/.exec(bytes.subarray(4).toString('utf8'));
  return match?.[1];
}

export function createApiKey(state: ElasticsearchState, name: string): { id: string; name: string; api_key: string; encoded: string } {
  const id = randomBytes(15).toString('base64url').slice(0, 20);
  const secret = randomBytes(16).toString('base64url').slice(0, 22);
  state.apiKeys.set(id, { secret, name });
  return { id, name, api_key: secret, encoded: Buffer.from(`${id}:${secret}`).toString('base64') };
}

type Reply = { status: number; body: unknown; headers?: Record<string, string | string[]> };

const CHALLENGE = ['Basic realm="security", charset="UTF-8"', 'Bearer realm="security"', 'ApiKey'];

export function route(state: ElasticsearchState, method: string, path: string, authorization: string | undefined, body: string): Reply {
  const who = authenticate(state, authorization, path);
  if ('status' in who) return who;
  if (method === 'GET' && path === '/') return { status: 200, body: clusterInfo(state) };
  if (method === 'GET' && path === '/_security/_authenticate') return { status: 200, body: who.identity };
  if ((method === 'POST' || method === 'PUT') && path === '/_security/api_key') {
    const name = safeJson(body)?.name;
    return { status: 200, body: createApiKey(state, typeof name === 'string' ? name : 'agent-key') };
  }
  if (method === 'POST' && (path === '/_bulk' || path.endsWith('/_bulk'))) {
    return { status: 200, body: { errors: false, took: 1, items: [] } };
  }
  return {
    status: 400,
    body: { error: `no handler found for uri [${path}] and method [${method}]` },
  };
}

function authenticate(state: ElasticsearchState, authorization: string | undefined, path: string): { identity: object } | Reply {
  if (!authorization) {
    return securityException(`missing authentication credentials for REST request [${path}]`);
  }
  const [scheme = '', credentials = ''] = authorization.split(/\s+/, 2);
  if (scheme.toLowerCase() === 'bearer') {
    if (credentials === state.serviceToken) return { identity: serviceAccountIdentity(serviceTokenName(credentials) ?? 'token') };
    const name = serviceTokenName(credentials);
    return name
      ? securityException(`failed to authenticate service account [elastic/fleet-server] with token name [${name}]`)
      : securityException('unable to authenticate with provided credentials and anonymous access is not allowed for this request', 'oauth2 token: invalid token');
  }
  if (scheme.toLowerCase() === 'apikey') {
    const [id = '', secret = ''] = Buffer.from(credentials, 'base64').toString('utf8').split(':', 2);
    const key = state.apiKeys.get(id);
    if (key && key.secret === secret) return { identity: apiKeyIdentity(id, key.name) };
    return securityException('unable to authenticate with provided credentials and anonymous access is not allowed for this request',
      key ? `API key: invalid credentials for API key [${id}]` : `API key: unable to find apikey with id ${id}`);
  }
  return securityException('unable to authenticate with provided credentials and anonymous access is not allowed for this request');
}

function securityException(reason: string, unsuccessful?: string): Reply {
  const cause = {
    type: 'security_exception',
    reason,
    ...(unsuccessful ? { additional_unsuccessful_credentials: unsuccessful } : {}),
    header: { 'WWW-Authenticate': CHALLENGE },
  };
  return { status: 401, body: { error: { root_cause: [cause], ...cause }, status: 401 }, headers: { 'www-authenticate': CHALLENGE } };
}

function clusterInfo(state: ElasticsearchState): object {
  return {
    name: state.nodeName,
    cluster_name: state.clusterName,
    cluster_uuid: state.clusterUuid,
    version: {
      number: state.version,
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

function serviceAccountIdentity(tokenName: string): object {
  return {
    username: 'elastic/fleet-server',
    roles: [],
    full_name: 'Service account - elastic/fleet-server',
    email: null,
    token: { name: tokenName, type: '_service_account_index' },
    metadata: { _elastic_service_account: true },
    enabled: true,
    authentication_realm: { name: '_service_account', type: '_service_account' },
    lookup_realm: { name: '_service_account', type: '_service_account' },
    authentication_type: 'token',
  };
}

function apiKeyIdentity(id: string, name: string): object {
  return {
    username: 'elastic/fleet-server',
    roles: [],
    full_name: null,
    email: null,
    metadata: {},
    enabled: true,
    authentication_realm: { name: '_es_api_key', type: '_es_api_key' },
    lookup_realm: { name: '_es_api_key', type: '_es_api_key' },
    authentication_type: 'api_key',
    api_key: { id, name },
  };
}

function safeJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Writes a reply with the header every Elasticsearch REST response carries. */
export function send(res: http.ServerResponse, reply: Reply): void {
  const payload = JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    'X-elastic-product': 'Elasticsearch',
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
    ...reply.headers,
  });
  res.end(payload);
}

