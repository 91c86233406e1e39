import { X509Certificate } from 'node:crypto';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startElasticsearch, writePlainKeys, type FakeElasticsearch } from '../../src/index.js';
import type { Pki } from '../../src/pki/store.js';
import { sharedPki } from '../helpers/pki.js';
import { requireTool } from '../helpers/tools.js';

// Debian's python3-elasticsearch (7.17), unchanged, against the fake: the same flows as the
// JavaScript client's test, and what 7.17's fingerprint option really pins.
const python = requireTool(['/usr/bin/python3'], 'python3 python3-elasticsearch');
const SCRIPT = new URL('../interop/python/official_client.py', import.meta.url).pathname;

let pki: Pki;
let es: FakeElasticsearch;
let esRequired: FakeElasticsearch;

beforeAll(async () => {
  pki = await sharedPki();
  [es, esRequired] = await Promise.all([
    startElasticsearch({ pki, password: 'changeme' }),
    // agent-cert is issued by agent-ca: trusted here so the agent's (decrypted) key can be used.
    startElasticsearch({ pki, password: 'changeme', clientAuthentication: 'required', clientCertificateAuthorities: ['es-ca', 'agent-ca'] }),
  ]);
});
afterAll(async () => {
  await Promise.all([es?.close(), esRequired?.close()]);
});

async function run(config: Record<string, unknown>): Promise<Record<string, unknown>> {
  const { stdout } = await execa(python, [SCRIPT, JSON.stringify(config)], { timeout: 60_000 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

const sha256 = (pem: string) => new X509Certificate(pem).fingerprint256;

describe('Debian\'s Python client (elasticsearch-py 7.17) against the fake Elasticsearch', () => {
  it('with ca_certs and basic auth: passes its product check, bulks (a delete of nothing is a 404 item, not an error), then search and count find the documents', async () => {
    const result = await run({ url: es.url, password: 'changeme', ca_certs: pki.certPath('es-ca'), index: 'py-basic' });
    expect(result).toEqual({
      ok: true, version: '9.2.0', username: 'elastic', authentication_type: 'realm',
      bulk_errors: false, bulk_statuses: [201, 201, 404], health: 'yellow',
      hits: ['trying out Elasticsearch', 'second'], count: 1,
    });
    expect(es.documents('py-basic')).toHaveLength(2);
  });

  it('with an API key created over HTTP, then used by the client', async () => {
    const created = await fetchJson(es, '/_security/api_key', { name: 'py-shipper' });
    const result = await run({ url: es.url, api_key: created, ca_certs: pki.certPath('es-ca'), index: 'py-apikey' });
    expect(result).toMatchObject({ ok: true, username: 'elastic', authentication_type: 'api_key', hits: ['trying out Elasticsearch', 'second'] });
  });

  it('ssl_assert_fingerprint pins the certificate Elasticsearch presents (its leaf), so the leaf\'s fingerprint works', async () => {
    const result = await run({ url: es.url, password: 'changeme', fingerprint: sha256(pki.leaves['es-cert'].pem), index: 'py-fingerprint' });
    expect(result).toMatchObject({ ok: true, bulk_statuses: [201, 201, 404] });
  });

  it('ssl_assert_fingerprint with the CA\'s fingerprint fails in 7.17 (it is not the CA-fingerprint option of the 8.x clients)', async () => {
    const ca = sha256(pki.cas['es-ca'].pem);
    const result = await run({ url: es.url, password: 'changeme', fingerprint: ca, index: 'py-ca-fingerprint' });
    expect(result).toMatchObject({ ok: false, error: 'SSLError' });
    expect(String(result.message)).toContain(`Fingerprints did not match. Expected "${ca.replaceAll(':', '').toLowerCase()}"`);
  });

  it('presents agent-cert with the plain copy certs --plain-keys writes, where Elasticsearch requires a client certificate', async () => {
    const [plain] = await writePlainKeys(pki);
    const result = await run({
      url: esRequired.url, password: 'changeme', ca_certs: pki.certPath('es-ca'),
      client_cert: pki.certPath('agent-cert'), client_key: plain!.file, index: 'py-mtls',
    });
    expect(result).toMatchObject({ ok: true, bulk_statuses: [201, 201, 404] });
    expect(esRequired.documents('py-mtls').map((d) => d._source.user)).toEqual(['kimchy', 'kimchy']);
  });

  it('raises AuthenticationException with Elasticsearch\'s 401 body for a wrong password', async () => {
    const result = await run({ url: es.url, password: 'wrong', ca_certs: pki.certPath('es-ca'), index: 'py-denied' });
    expect(result).toMatchObject({
      ok: false, error: 'AuthenticationException', status: 401,
      body: { error: { type: 'security_exception', reason: 'unable to authenticate user [elastic] for REST request [/]' }, status: 401 },
    });
  });
});

/** A POST with basic auth over Node's own TLS, trusting es-ca. */
async function fetchJson(target: FakeElasticsearch, path: string, body: unknown): Promise<Record<string, unknown>> {
  const https = await import('node:https');
  return new Promise((resolve, reject) => {
    const request = https.request(`${target.url}${path}`, {
      method: 'POST', ca: pki.cas['es-ca'].pem,
      headers: { authorization: `Basic ${Buffer.from(`elastic:${target.password}`).toString('base64')}`, 'content-type': 'application/json' },
    }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => { text += c.toString(); });
      res.on('end', () => resolve(JSON.parse(text) as Record<string, unknown>));
    });
    request.on('error', reject);
    request.end(JSON.stringify(body));
  });
}
