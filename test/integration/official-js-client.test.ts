import { readFile } from 'node:fs/promises';
import { Client, errors } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startElasticsearch, type FakeElasticsearch } from '../../src/index.js';
import type { Pki } from '../../src/pki/store.js';
import { sharedPki } from '../helpers/pki.js';

// The official JavaScript client (@elastic/elasticsearch 9.x), unchanged, against the fake.
let pki: Pki;
let es: FakeElasticsearch;
let esLeafOnly: FakeElasticsearch;
let esRequired: FakeElasticsearch;
let ca: string;
/** es-ca's SHA-256 as `openssl x509 -fingerprint -sha256` prints it, the form the client's docs show. */
let caFingerprint: string;

beforeAll(async () => {
  pki = await sharedPki();
  [es, esLeafOnly, esRequired] = await Promise.all([
    startElasticsearch({ pki, password: 'changeme' }),
    startElasticsearch({ pki, password: 'changeme', chain: 'leaf' }),
    startElasticsearch({ pki, password: 'changeme', clientAuthentication: 'required' }),
  ]);
  ca = await readFile(pki.certPath('es-ca'), 'utf8');
  const { X509Certificate } = await import('node:crypto');
  caFingerprint = new X509Certificate(ca).fingerprint256;
});
afterAll(async () => {
  await Promise.all([es?.close(), esLeafOnly?.close(), esRequired?.close()]);
});

/** info, cluster.health, bulk then search: what a shipper's integration test does first. */
async function roundTrip(client: Client, index: string) {
  const info = await client.info();
  const bulk = await client.bulk({
    refresh: true,
    operations: [
      { index: { _index: index, _id: '1' } }, { user: 'kimchy', message: 'trying out Elasticsearch' },
      { create: { _index: index } }, { user: 'kimchy', message: 'second' },
      { create: { _index: index, _id: '1' } }, { user: 'someone', message: 'a conflict' },
    ],
  });
  const health = await client.cluster.health({ wait_for_status: 'yellow', timeout: '1s' });
  const found = await client.search({ index, query: { term: { 'user.keyword': 'kimchy' } } });
  return { info, bulk, health, found };
}

describe('the official JavaScript client against the fake Elasticsearch', () => {
  it('with a CA file and basic auth: info, health, bulk with a conflict, then search finds the documents', async () => {
    const client = new Client({ node: es.url, auth: { username: 'elastic', password: 'changeme' }, tls: { ca } });
    const { info, bulk, health, found } = await roundTrip(client, 'books-ca');
    expect(info).toMatchObject({ cluster_name: 'fleet-tls-harness', version: { number: '9.2.0' }, tagline: 'You Know, for Search' });
    expect(bulk.errors).toBe(true);
    expect(bulk.items.map((item) => Object.values(item)[0]!.status)).toEqual([201, 201, 409]);
    expect(bulk.items[2]!.create!.error).toMatchObject({ type: 'version_conflict_engine_exception', reason: '[1]: version conflict, document already exists (current version [1])' });
    expect(health).toMatchObject({ status: 'yellow', timed_out: false, number_of_nodes: 1 });
    expect(found.hits.total).toEqual({ value: 2, relation: 'eq' });
    expect(es.documents('books-ca').map((d) => d._source.message)).toEqual(['trying out Elasticsearch', 'second']);
    await client.close();
  });

  it('with caFingerprint (and API key auth) when Elasticsearch presents its CA, as auto-configured security does', async () => {
    const admin = new Client({ node: es.url, auth: { username: 'elastic', password: 'changeme' }, tls: { ca } });
    const key = await admin.security.createApiKey({ name: 'shipper-test' });
    await admin.close();
    // The client's documented fingerprint setup: no CA file, so Node's own verification is off.
    const client = new Client({ node: es.url, caFingerprint, auth: { apiKey: key.encoded }, tls: { rejectUnauthorized: false } });
    const who = await client.security.authenticate();
    expect(who).toMatchObject({ username: 'elastic', authentication_type: 'api_key', api_key: { id: key.id, name: 'shipper-test' } });
    const { found } = await roundTrip(client, 'books-fingerprint');
    expect(found.hits.hits.map((h) => h._source)).toEqual([
      { user: 'kimchy', message: 'trying out Elasticsearch' }, { user: 'kimchy', message: 'second' },
    ]);
    await client.close();
  });

  it('refuses caFingerprint with "Invalid or malformed certificate" when Elasticsearch sends its leaf alone', async () => {
    const client = new Client({ node: esLeafOnly.url, caFingerprint, auth: { username: 'elastic', password: 'changeme' }, tls: { rejectUnauthorized: false }, maxRetries: 0 });
    const failure = await client.info().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(errors.ConnectionError);
    expect((failure as Error).message).toBe('Invalid or malformed certificate');
    await client.close();
  });

  it('refuses a fingerprint of another CA with the client\'s own mismatch message', async () => {
    const other = new (await import('node:crypto')).X509Certificate(pki.cas['fleet-ca'].pem).fingerprint256;
    const client = new Client({ node: es.url, caFingerprint: other, auth: { username: 'elastic', password: 'changeme' }, tls: { rejectUnauthorized: false }, maxRetries: 0 });
    const failure = await client.info().catch((error: unknown) => error);
    expect((failure as Error).message).toBe('Server certificate CA fingerprint does not match the value configured in caFingerprint');
    await client.close();
  });

  it('presents a client certificate where Elasticsearch requires one, and is refused at the handshake without it', async () => {
    const auth = { username: 'elastic', password: 'changeme' };
    const withCert = new Client({ node: esRequired.url, auth, tls: { ca, cert: pki.leaves['fleet-es-cert'].pem, key: await readFile(pki.keyPath('fleet-es-cert'), 'utf8') } });
    const { health } = await roundTrip(withCert, 'books-mtls');
    expect(health.status).toBe('yellow');
    expect(esRequired.documents('books-mtls')).toHaveLength(2);
    await withCert.close();
    const without = new Client({ node: esRequired.url, auth, tls: { ca }, maxRetries: 0 });
    const failure = await without.info().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(errors.ConnectionError);
    await without.close();
  });

  it('gets Elasticsearch\'s 401 body for a wrong password', async () => {
    const client = new Client({ node: es.url, auth: { username: 'elastic', password: 'wrong' }, tls: { ca }, maxRetries: 0 });
    const failure = await client.info().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(errors.ResponseError);
    const response = failure as errors.ResponseError;
    expect(response.statusCode).toBe(401);
    expect(response.body).toMatchObject({ error: { type: 'security_exception', reason: 'unable to authenticate user [elastic] for REST request [/]' }, status: 401 });
    expect(response.headers?.['www-authenticate']).toContain('ApiKey');
    await client.close();
  });
});
