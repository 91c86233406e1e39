/**
 * Fleet Server's pooled keep-alive client to Elasticsearch (the load's direct path) and a
 * connection Elasticsearch closes while it sits idle in the pool: net/http's Transport sends an
 * idempotent request again on another connection when the server closed a reused one before
 * answering, and never sends a POST whose body went out twice (transport.go, shouldRetryRequest).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { authorities, identity } from '../../src/api.js';
import { FakeElasticsearch } from '../../src/components/elasticsearch.js';
import { ElasticsearchPool } from '../../src/components/fleet-server-es-pool.js';
import type { GoExchange } from '../../src/components/go-http.js';
import { sharedPki } from '../helpers/pki.js';

const SERVICE_TOKEN = 'AAEAAWVsYXN0aWMvZmxlZXQtc2VydmVyL3Rlc3Q6ZXMtcG9vbA';
/** Elasticsearch's http.read_timeout: it closes a connection that read nothing for this long. */
const READ_TIMEOUT_MS = 150;

let es: FakeElasticsearch;
/** A TCP relay in front of Elasticsearch that counts the connections the pool opens. */
let relay: net.Server;
let connections = 0;

beforeAll(async () => {
  const pki = await sharedPki();
  es = await FakeElasticsearch.start({ identity: identity(pki, 'es-cert'), serviceToken: SERVICE_TOKEN, readTimeoutMs: READ_TIMEOUT_MS });
  relay = net.createServer((client) => {
    connections++;
    const upstream = net.connect(es.port, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
      a.on('error', () => b.destroy());
      a.on('close', () => b.destroy());
    }
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  pooled = () => new ElasticsearchPool(new URL(es.url), { certificateAuthorities: authorities(pki, 'es-ca') },
    { host: '127.0.0.1', port: (relay.address() as net.AddressInfo).port });
});
afterAll(async () => {
  await new Promise((resolve) => relay.close(resolve));
  await es.close();
});

let pooled: () => ElasticsearchPool;
const headers = { 'user-agent': 'Fleet-Server/9.2.0', authorization: `Bearer ${SERVICE_TOKEN}` };

/**
 * Sends the second request on the connection the first one left idle, just as Elasticsearch's
 * read timeout closes it: the thread is held past both deadlines, so Elasticsearch's close and
 * the pool's pick of the idle connection happen in one turn of the event loop, before the pool
 * can read the close (the race a real client meets on a keep-alive timeout).
 */
async function secondOnClosingConnection(pool: ElasticsearchPool, method: 'GET' | 'POST', body?: string): Promise<GoExchange> {
  const first = await pool.request('GET', '/_security/_authenticate', headers);
  expect(first.response?.status).toBe(200);
  const second = new Promise<GoExchange>((resolve) => setTimeout(() => resolve(pool.request(method, '/_security/_authenticate', headers, body)), READ_TIMEOUT_MS + 50));
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, READ_TIMEOUT_MS * 4);
  return second;
}

describe('Fleet Server\'s pooled Elasticsearch client and a kept-alive connection Elasticsearch closed while idle', () => {
  it('sends a GET again on a new connection and returns its answer', async () => {
    const pool = pooled();
    const before = connections;
    const second = await secondOnClosingConnection(pool, 'GET');
    pool.close();
    expect(second.error).toBeUndefined();
    expect(second.response?.status).toBe(200);
    expect(JSON.parse(second.response!.body)).toMatchObject({ username: 'elastic/fleet-server' });
    // The first connection, then one more for the retry.
    expect(connections - before).toBe(2);
  });

  it('does not send a POST whose body went out again: Go\'s EOF, on the one connection', async () => {
    const pool = pooled();
    const before = connections;
    const second = await secondOnClosingConnection(pool, 'POST', '{}');
    pool.close();
    expect(second).toMatchObject({ error: 'EOF' });
    expect(second.response).toBeUndefined();
    expect(connections - before).toBe(1);
  });

  it('dials a new connection, without a retry, when the pool saw the close before the next request', async () => {
    const pool = pooled();
    const before = connections;
    expect((await pool.request('GET', '/_security/_authenticate', headers)).response?.status).toBe(200);
    // Elasticsearch closes the idle connection and the pool reads that before the next request.
    await new Promise((resolve) => setTimeout(resolve, READ_TIMEOUT_MS * 4));
    const second = await pool.request('GET', '/_security/_authenticate', headers);
    pool.close();
    expect(second.response?.status).toBe(200);
    expect(connections - before).toBe(2);
  });
});
