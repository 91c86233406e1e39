import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario, startElasticsearch, type FakeElasticsearch } from '../../src/index.js';
import type { Pki } from '../../src/pki/store.js';
import { sharedPki } from '../helpers/pki.js';

// The fake's REST layer over real HTTPS, status by status, and what arrived read both ways.
let pki: Pki;
let es: FakeElasticsearch;

beforeAll(async () => {
  pki = await sharedPki();
  // No periodic refresh: what a search sees depends on refreshes alone, however slow the machine.
  es = await startElasticsearch({ pki, password: 'changeme', refreshIntervalMs: -1 });
});
afterAll(async () => {
  await es?.close();
});

interface Answer { status: number; headers: Record<string, string | string[] | undefined>; body: unknown; peerChain: number }

function call(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = https.request(`${es.url}${path}`, {
      method, ca: pki.cas['es-ca'].pem, agent: false,
      headers: { authorization: `Basic ${Buffer.from('elastic:changeme').toString('base64')}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    }, (res) => {
      let text = '';
      let chain = 0;
      for (let c = (res.socket as import('node:tls').TLSSocket).getPeerCertificate(true); c && Object.keys(c).length; c = c.issuerCertificate === c ? (undefined as never) : c.issuerCertificate) chain++;
      res.on('data', (chunk: Buffer) => { text += chunk.toString(); });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text ? JSON.parse(text) : undefined, peerChain: chain }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

const ndjson = (...lines: object[]) => `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`;

describe('the fake Elasticsearch REST layer', () => {
  it('answers GET / with the product header, JSON, and presents es-cert with es-ca behind it', async () => {
    const answer = await call('GET', '/');
    expect(answer.status).toBe(200);
    expect(answer.headers['x-elastic-product']).toBe('Elasticsearch');
    expect(answer.headers['content-type']).toBe('application/json');
    expect(answer.body).toMatchObject({ tagline: 'You Know, for Search', version: { number: '9.2.0', build_flavor: 'default' } });
    // Node links the verified chain; es-ca is self-signed, so the walk ends there: leaf, CA.
    expect(answer.peerChain).toBe(2);
  });

  it('echoes the versioned media type a client asks for with compatible-with', async () => {
    const answer = await call('GET', '/', undefined, { accept: 'application/vnd.elasticsearch+json; compatible-with=9' });
    expect(answer.headers['content-type']).toBe('application/vnd.elasticsearch+json;compatible-with=9');
  });

  it('gives the controller\'s own bodies: 400 no handler (no status field), 405 with Allow, 406 for a form body', async () => {
    expect(await call('GET', '/_nope/x?pretty')).toMatchObject({ status: 400, body: { error: 'no handler found for uri [/_nope/x?pretty] and method [GET]' } });
    const wrongMethod = await call('GET', '/_bulk');
    expect(wrongMethod).toMatchObject({ status: 405, body: { error: 'Incorrect HTTP method for uri [/_bulk] and method [GET], allowed: [POST, PUT]', status: 405 } });
    expect(wrongMethod.headers.allow).toBe('POST,PUT');
    const form = await call('POST', '/books/_doc', 'a=b', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(form).toMatchObject({ status: 406, body: { error: 'Content-Type header [application/x-www-form-urlencoded] is not supported', status: 406 } });
  });

  it('refuses a request without credentials with the security_exception body and every challenge', async () => {
    const answer = await call('GET', '/_cluster/health', undefined, { authorization: '' });
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual({
      error: {
        root_cause: [{ type: 'security_exception', reason: 'missing authentication credentials for REST request [/_cluster/health]', header: { 'WWW-Authenticate': ['Basic realm="security", charset="UTF-8"', 'Bearer realm="security"', 'ApiKey'] } }],
        type: 'security_exception', reason: 'missing authentication credentials for REST request [/_cluster/health]',
        header: { 'WWW-Authenticate': ['Basic realm="security", charset="UTF-8"', 'Bearer realm="security"', 'ApiKey'] },
      },
      status: 401,
    });
  });

  it('bulks index, create, update and delete with a result per item, and the errors flag', async () => {
    const answer = await call('POST', '/_bulk', ndjson(
      { index: { _index: 'rest', _id: 'a' } }, { n: 1, tag: 'Red Apple' },
      { create: { _index: 'rest', _id: 'a' } }, { n: 2 },
      { update: { _index: 'rest', _id: 'a' } }, { doc: { n: 3 } },
      { update: { _index: 'rest', _id: 'missing' } }, { doc: { n: 4 } },
      { delete: { _index: 'rest', _id: 'gone' } },
      { index: { _index: 'Rest' } }, { n: 5 },
    ), { 'content-type': 'application/x-ndjson' });
    expect(answer.status).toBe(200);
    const body = answer.body as { errors: boolean; items: Array<Record<string, { status: number; result?: string; error?: { type: string; reason: string } }>> };
    expect(body.errors).toBe(true);
    expect(body.items.map((i) => [Object.keys(i)[0], Object.values(i)[0]!.status, Object.values(i)[0]!.result ?? Object.values(i)[0]!.error?.type])).toEqual([
      ['index', 201, 'created'], ['create', 409, 'version_conflict_engine_exception'], ['update', 200, 'updated'],
      ['update', 404, 'document_missing_exception'], ['delete', 404, 'not_found'], ['index', 400, 'invalid_index_name_exception'],
    ]);
    expect(body.items[5]!.index!.error!.reason).toBe('Invalid index name [Rest], must be lowercase');
    expect(es.documents('rest')).toEqual([{ _index: 'rest', _id: 'a', _version: 2, _seq_no: 1, _source: { n: 3, tag: 'Red Apple' } }]);
  });

  it('refuses a bulk body without its final newline, as Elasticsearch does', async () => {
    const answer = await call('POST', '/_bulk', '{"index":{"_index":"rest"}}\n{"n":1}', { 'content-type': 'application/x-ndjson' });
    expect(answer).toMatchObject({ status: 400, body: { error: { type: 'illegal_argument_exception', reason: 'The bulk request must be terminated by a newline [\\n]' }, status: 400 } });
  });

  it('indexes single documents (201 with Location, then 200), gets them in real time, and 404s what is not there', async () => {
    const posted = await call('POST', '/single/_doc', '{"user":"kimchy"}');
    expect(posted.status).toBe(201);
    const id = (posted.body as { _id: string })._id;
    expect(posted.headers.location).toBe(`/single/_doc/${id}`);
    expect(await call('PUT', '/single/_doc/7', '{"user":"other"}')).toMatchObject({ status: 201, body: { result: 'created', _version: 1 } });
    expect(await call('PUT', '/single/_doc/7', '{"user":"again"}')).toMatchObject({ status: 200, body: { result: 'updated', _version: 2 } });
    expect(await call('GET', '/single/_doc/7')).toMatchObject({ status: 200, body: { found: true, _source: { user: 'again' } } });
    expect(await call('GET', '/single/_doc/8')).toEqual(expect.objectContaining({ status: 404, body: { _index: 'single', _id: '8', found: false } }));
    expect(await call('GET', '/nosuch/_doc/1')).toMatchObject({ status: 404, body: { error: { type: 'index_not_found_exception', reason: 'no such index [nosuch]', index: 'nosuch' }, status: 404 } });
  });

  it('searches only what a refresh made visible; term reads text fields word by word, .keyword whole', async () => {
    await call('POST', '/_bulk', ndjson({ index: { _index: 'fresh' } }, { title: 'Hello World' }), { 'content-type': 'application/x-ndjson' });
    const search = (query: object) => call('POST', '/fresh/_search', JSON.stringify({ query }));
    const total = async (query: object) => ((await search(query)).body as { hits: { total: { value: number } } }).hits.total.value;
    expect(await total({ match_all: {} })).toBe(0);
    expect(await call('POST', '/fresh/_refresh')).toMatchObject({ status: 200, body: { _shards: { total: 2, successful: 1, failed: 0 } } });
    expect(await total({ match_all: {} })).toBe(1);
    expect(await total({ term: { title: 'Hello World' } })).toBe(0);
    expect(await total({ term: { title: 'hello' } })).toBe(1);
    expect(await total({ term: { 'title.keyword': 'Hello World' } })).toBe(1);
    expect(await call('POST', '/fresh/_count', JSON.stringify({ query: { match: { title: 'world peace' } } }))).toMatchObject({ status: 200, body: { count: 1 } });
    expect(await search({ fuzzy_thing: {} })).toMatchObject({ status: 400, body: { error: { type: 'parsing_exception', reason: 'unknown query [fuzzy_thing]' } } });
    expect(await call('POST', '/nosuch/_search', '{}')).toMatchObject({ status: 404, body: { error: { type: 'index_not_found_exception' } } });
  });

  it('keeps data streams create-only with @timestamp, in a .ds- backing index', async () => {
    const answer = await call('POST', '/_bulk?refresh=true', ndjson(
      { create: { _index: 'logs-app-default' } }, { '@timestamp': '2026-01-01T00:00:00Z', message: 'kept' },
      { index: { _index: 'logs-app-default' } }, { '@timestamp': '2026-01-01T00:00:00Z', message: 'refused' },
      { create: { _index: 'logs-app-default' } }, { message: 'no timestamp' },
      { delete: { _index: 'logs-app-default', _id: 'x' } },
    ), { 'content-type': 'application/x-ndjson' });
    const items = (answer.body as { items: Array<Record<string, { _index: string; status: number; error?: { reason: string } }>> }).items.map((i) => Object.values(i)[0]!);
    expect(items[0]!._index).toMatch(/^\.ds-logs-app-default-\d{4}\.\d{2}\.\d{2}-000001$/);
    expect(items.map((i) => i.status)).toEqual([201, 400, 400, 400]);
    expect(items[1]!.error!.reason).toBe('only write ops with an op_type of create are allowed in data streams');
    expect(items[3]!.error!.reason).toBe('only write ops with an op_type of create are allowed in data streams');
    expect(es.documents('logs-app-default').map((d) => d._source.message)).toEqual(['kept']);
    expect(await call('POST', '/logs-app-default/_count', '{}')).toMatchObject({ body: { count: 1 } });
  });

  it('reports yellow health once an index exists (its replica has no second node), and 408 when waiting for green times out', async () => {
    expect(await call('GET', '/_cluster/health')).toMatchObject({ status: 200, body: { status: 'yellow', number_of_nodes: 1, timed_out: false } });
    expect(await call('GET', '/_cluster/health?wait_for_status=green&timeout=50ms')).toMatchObject({ status: 408, body: { status: 'yellow', timed_out: true } });
    expect(await call('GET', '/_license')).toMatchObject({ status: 200, body: { license: { type: 'basic', status: 'active' } } });
  });
});

describe('the output leg of a flow', () => {
  it('reports the events the agent shipped and Elasticsearch stored', async () => {
    const [result] = await runScenario('flow.one-way', { pki, tls: ['1.3'] });
    expect(result!.legs.find((l) => l.from === 'agent' && l.to === 'elasticsearch')).toMatchObject({ ok: true, events: { index: 'logs-generic-default', shipped: 3, stored: 3 } });
  });
});
