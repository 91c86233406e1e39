import type { DirectReply } from '../load/direct-http.js';
import { requestPath } from '../request-target.js';
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import { clusterHealth, clusterInfo, license, type ClusterIdentity } from './elasticsearch/cluster.js';
import { bulk, getDocument, remove, single } from './elasticsearch/documents.js';
import { badParameter, contentTypeRefused, exception, methodNotAllowed, noHandler, parseBody, undecodablePath, type Reply } from './elasticsearch/errors.js';
import { EsDecodeError, esDecodeComponent, esDecodeQueryString } from './elasticsearch/rest-decode.js';
import { count, refresh, search } from './elasticsearch/search.js';
import { authenticate, createApiKey, newPassword, newServiceToken, type Identity, type SecurityState } from './elasticsearch/security.js';
import { DocumentStore, invalidIndexName } from './elasticsearch/store.js';
import { Remembered } from '../remember.js';

export { createApiKey, newServiceToken, serviceTokenName } from './elasticsearch/security.js';
export type { Reply } from './elasticsearch/errors.js';

/**
 * Elasticsearch's REST layer as a shipper's integration test, Fleet Server and the agent meet it:
 * routing with the controller's own 400/405/406 answers, authentication on every handled route,
 * then cluster, security, document and search endpoints. README "Elasticsearch endpoints" lists them.
 */
export interface ElasticsearchState extends ClusterIdentity, SecurityState {
  readonly store: DocumentStore;
}

export interface ElasticsearchStateOptions {
  readonly version?: string;
  readonly serviceToken?: string;
  readonly nodeName?: string;
  /** Users for Basic authentication, by name; `elastic` gets a new password when absent. */
  readonly users?: Readonly<Record<string, string>>;
  /** index.refresh_interval in ms for every index (default 1000; -1: only explicit refreshes make documents searchable). */
  readonly refreshIntervalMs?: number;
}

export function newElasticsearchState(options: ElasticsearchStateOptions = {}): ElasticsearchState {
  return {
    version: options.version ?? '9.2.0',
    clusterName: 'fleet-tls-harness',
    clusterUuid: randomBytes(16).toString('base64url').slice(0, 22),
    nodeName: options.nodeName ?? 'es-node-1',
    startedAt: Date.now(),
    serviceToken: options.serviceToken ?? newServiceToken(),
    users: new Map(Object.entries({ elastic: newPassword(), ...options.users })),
    apiKeys: new Map(),
    store: new DocumentStore(options.refreshIntervalMs),
  };
}

export interface EsRequest {
  readonly method: string;
  /** The raw request target, query string included: what ES names in its messages. */
  readonly uri: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

interface Call { readonly state: ElasticsearchState; readonly params: Record<string, string>; readonly query: URLSearchParams; readonly body: string; readonly who: Identity }
type Handler = (call: Call) => Reply | Promise<Reply>;
interface Route { readonly pattern: RegExp; readonly names: readonly string[]; readonly methods: Partial<Record<string, Handler>> }

const routes: Route[] = [];
/** `{index}` and `{id}` are one path segment each; an index segment never starts with `_` (those are APIs) but for `_all`. */
function on(path: string, methods: Partial<Record<string, Handler>>): void {
  const names: string[] = [];
  const source = path.replace(/\{(\w+)\}/g, (_m, name: string) => {
    names.push(name);
    return name === 'index' ? '(_all|[^/_][^/]*)' : '([^/]+)';
  });
  routes.push({ pattern: new RegExp(`^${source}$`), names, methods });
}

const refreshing = (q: URLSearchParams) => q.has('refresh') && q.get('refresh') !== 'false';
const ok = (body: unknown): Reply => ({ status: 200, body });

on('/', { GET: ({ state }) => ok(clusterInfo(state)), HEAD: () => ({ status: 200, body: undefined }) });
on('/_cluster/health', { GET: ({ state, query }) => clusterHealth(state, state.store, query) });
on('/_cluster/health/{index}', { GET: ({ state, query }) => clusterHealth(state, state.store, query) });
on('/_license', { GET: ({ state }) => ok(license(state)) });
on('/_security/_authenticate', { GET: ({ who }) => ok(who) });
const apiKey: Handler = ({ state, body, who }) => {
  const parsed = parseBody(body);
  if ('reply' in parsed) return parsed.reply;
  const name = parsed.value.name;
  if (typeof name !== 'string' || name === '') return exception(400, { type: 'action_request_validation_exception', reason: 'Validation Failed: 1: api key name is required;' });
  return ok(createApiKey(state, name, who));
};
on('/_security/api_key', { POST: apiKey, PUT: apiKey });
const bulkAt: Handler = ({ state, params, query, body }) => bulk(state.store, body, params.index, refreshing(query));
on('/_bulk', { POST: bulkAt, PUT: bulkAt });
on('/{index}/_bulk', { POST: bulkAt, PUT: bulkAt });
const searchAt: Handler = ({ state, params, query, body }) => search(state.store, params.index, body, query);
on('/_search', { GET: searchAt, POST: searchAt });
on('/{index}/_search', { GET: searchAt, POST: searchAt });
const countAt: Handler = ({ state, params, body }) => count(state.store, params.index, body);
on('/_count', { GET: countAt, POST: countAt });
on('/{index}/_count', { GET: countAt, POST: countAt });
const refreshAt: Handler = ({ state, params }) => refresh(state.store, params.index);
on('/_refresh', { GET: refreshAt, POST: refreshAt });
on('/{index}/_refresh', { GET: refreshAt, POST: refreshAt });
on('/{index}/_doc', { POST: ({ state, params, query, body }) => single(state.store, 'create', params.index!, undefined, body, refreshing(query)) });
const indexAt = (action: 'index' | 'create'): Handler => ({ state, params, query, body }) =>
  single(state.store, query.get('op_type') === 'create' ? 'create' : action, params.index!, params.id, body, refreshing(query));
on('/{index}/_doc/{id}', {
  GET: ({ state, params }) => getDocument(state.store, params.index!, params.id!),
  PUT: indexAt('index'),
  POST: indexAt('index'),
  DELETE: ({ state, params, query }) => remove(state.store, params.index!, params.id!, refreshing(query)),
});
on('/{index}/_create/{id}', { PUT: indexAt('create'), POST: indexAt('create') });
on('/{index}', {
  PUT: ({ state, params }) => {
    const bad = invalidIndexName(params.index!);
    if (bad) return exception(400, { type: 'invalid_index_name_exception', reason: `Invalid index name [${params.index}], ${bad}`, index_uuid: '_na_', index: params.index });
    if (!state.store.createIndex(params.index!)) {
      const concrete = state.store.resolve(params.index!)!;
      return exception(400, { type: 'resource_already_exists_exception', reason: `index [${concrete}/${state.store.uuid(concrete)}] already exists`, index_uuid: state.store.uuid(concrete), index: concrete });
    }
    return ok({ acknowledged: true, shards_acknowledged: true, index: params.index });
  },
  DELETE: ({ state, params }) => (state.store.deleteIndex(params.index!) ? ok({ acknowledged: true }) : notFound(params.index!)),
  HEAD: ({ state, params }) => ({ status: state.store.resolve(params.index!) ? 200 : 404, body: undefined }),
});

function notFound(index: string): Reply {
  return exception(404, { type: 'index_not_found_exception', reason: `no such index [${index}]`, 'resource.type': 'index_or_alias', 'resource.id': index, index_uuid: '_na_', index });
}

/** RestController's order: find the route, check the body's media type, then security, then the handler. */
export async function route(state: ElasticsearchState, request: EsRequest): Promise<Reply> {
  // RestRequest decodes the query string before anything is routed; a malformed escape there is
  // a BadParameterException, which RestController.dispatchBadRequest answers with 400.
  let query: URLSearchParams;
  try {
    query = esDecodeQueryString(request.uri);
  } catch (error) {
    if (error instanceof EsDecodeError) return badParameter(error.message);
    throw error;
  }
  const pathname = requestPath(request.uri);
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
  const routed = routesFor(path);
  if (routed.matching.length === 0) return noHandler(request.uri, request.method);
  const { matching, allowed, decoded } = routed;
  if ('error' in decoded) return undecodablePath(decoded.error, allowed);
  const index = matching.findIndex((r) => r.methods[request.method]);
  const found = matching[index];
  if (!found) return methodNotAllowed(request.uri, request.method, allowed);
  if (request.body.length > 0 && !acceptedContentType(request.headers['content-type'])) return contentTypeRefused(request.headers['content-type']);
  const who = authenticate(state, request.headers.authorization, request.uri);
  if ('status' in who) return who;
  const params = decoded.params[index]!;
  return found.methods[request.method]!({ state, params, query, body: request.body, who: who.identity });
}

interface Routed {
  readonly matching: readonly Route[];
  /** Every method the matching routes take, in route order. */
  readonly allowed: readonly string[];
  /** Each matching route's decoded parameters, or the decoding error of the first that failed. */
  readonly decoded: { readonly params: ReadonlyArray<Readonly<Record<string, string>>> } | { readonly error: string };
}

/**
 * The routes a path matches, with their parameters decoded as PathTrie decodes them before the
 * method is looked at. The same few paths come again and again (Fleet Server's calls under load),
 * so what a path routes to is remembered; it depends on the path alone.
 */
const routing = new Remembered<string, Routed>(256);

function routesFor(path: string): Routed {
  return routing.get(path, () => {
    const found = routes.map((r) => ({ r, m: r.pattern.exec(path) })).filter((x) => x.m !== null);
    const allowed = [...new Set(found.flatMap((x) => Object.keys(x.r.methods)))];
    let decoded: Routed['decoded'];
    try {
      decoded = { params: found.map((x) => Object.fromEntries(x.r.names.map((name, i) => [name, esDecodeComponent(x.m![i + 1]!)]))) };
    } catch (error) {
      if (!(error instanceof EsDecodeError)) throw error;
      decoded = { error: error.message };
    }
    return { matching: found.map((x) => x.r), allowed, decoded };
  });
}

/** JSON, NDJSON and their `vnd.elasticsearch` versioned forms; the browser-safelisted types are refused (CSRF). */
function acceptedContentType(value: string | undefined): boolean {
  const type = value?.split(';')[0]?.trim().toLowerCase();
  return type !== undefined && /^application\/(json|x-ndjson|vnd\.elasticsearch\+(json|x-ndjson))$/.test(type);
}

/**
 * Writes a reply with the header every Elasticsearch REST response carries. A client asking for
 * `compatible-with=N` (the official clients do) gets the versioned media type back.
 */
export function send(res: http.ServerResponse, reply: Reply, accept?: string): void {
  const written = responseParts(reply, accept);
  res.writeHead(written.status, Object.fromEntries(written.headers));
  res.end(written.body);
}

/** What {@link send} writes: the status, the header fields in order, the body. */
export function responseParts(reply: Reply, accept?: string): DirectReply {
  const payload = reply.body === undefined ? '' : JSON.stringify(reply.body);
  const compatible = /compatible-with=(\d+)/.exec(accept ?? '')?.[1];
  const fields: Record<string, string | number | string[]> = {
    'X-elastic-product': 'Elasticsearch',
    'content-type': compatible ? `application/vnd.elasticsearch+json;compatible-with=${compatible}` : 'application/json',
    'content-length': Buffer.byteLength(payload),
    ...reply.headers,
  };
  return { status: reply.status, headers: Object.entries(fields), body: payload };
}
