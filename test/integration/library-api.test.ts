import { describe, expect, it } from 'vitest';
import { request } from 'node:https';
import { authorities, enrollAgent, runScenario, startElasticsearch, startFleetServer } from '../../src/index.js';
import { sharedPki } from '../helpers/pki.js';

/** An HTTPS GET with Node's own client, trusting `ca`, for a look from outside the harness. */
function get(url: string, ca: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; product?: string }> {
  return new Promise((resolve, reject) => {
    request(url, { ca, headers }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => { body += chunk.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, ...(res.headers['x-elastic-product'] ? { product: String(res.headers['x-elastic-product']) } : {}) }));
    }).on('error', reject).end();
  });
}

describe('the library API, as a test author uses it', () => {
  it('starts Elasticsearch and Fleet Server with `await using`, enrolls an agent over mutual TLS, and closes them', async () => {
    const pki = await sharedPki();
    let fleetUrl: string;
    {
      await using es = await startElasticsearch({ pki, clientAuthentication: 'required' });
      await using fleet = await startFleetServer({ pki, elasticsearch: es, clientAuthentication: 'required' });
      fleetUrl = fleet.url;
      expect(fleet.state).toBe('HEALTHY');

      const result = await enrollAgent({ pki, fleetServer: fleet });
      expect(result.ok).toBe(true);
      expect(result.agentId).toMatch(/^[0-9a-f-]{36}$/);
      expect(result.leg.clientCertificate).toMatchObject({ presented: true, subject: 'CN=elastic-agent,O=fleet-tls-harness' });
      expect(result.policy).toMatchObject({ outputs: { default: { type: 'elasticsearch', hosts: [es.url] } } });

      const info = await get(`${es.url}/`, pki.cas['es-ca'].pem, { authorization: `Bearer ${es.serviceToken}` }).catch((error: Error) => error);
      // Elasticsearch requires a client certificate here: Node's client without one is refused.
      expect(info).toBeInstanceOf(Error);
    }
    // Disposed: nothing listens any more.
    await expect(get(`${fleetUrl}/api/status`, pki.cas['fleet-ca'].pem)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('reports a failed enrollment as data: the leg, who refused, and both components\' words', async () => {
    const pki = await sharedPki();
    await using es = await startElasticsearch({ pki });
    await using fleet = await startFleetServer({ pki, elasticsearch: es, tls: '1.3' });
    const result = await enrollAgent({ pki, fleetServer: fleet, certificateAuthorities: ['es-ca'] });
    expect(result.ok).toBe(false);
    expect(result.leg).toMatchObject({
      ok: false, rejectedBy: 'client', phase: 'handshake', alert: 'bad_certificate',
      logs: {
        agent: 'Error detected: fail to execute request to fleet-server: x509: certificate signed by unknown authority, will retry in a moment.\n' +
          'fail to enroll: fail to execute request to fleet-server: x509: certificate signed by unknown authority',
      },
    });
    expect(result.leg.logs['fleet-server']).toMatch(/^http: TLS handshake error from 127\.0\.0\.1:\d+: remote error: tls: bad certificate$/);
  });

  it('serves Elasticsearch\'s product header and Fleet Server\'s status to any client', async () => {
    const pki = await sharedPki();
    await using es = await startElasticsearch({ pki });
    await using fleet = await startFleetServer({ pki, elasticsearch: es });
    const info = await get(`${es.url}/`, pki.cas['es-ca'].pem, { authorization: `Bearer ${es.serviceToken}` });
    expect(info).toMatchObject({ status: 200, product: 'Elasticsearch' });
    expect(await get(`${fleet.url}/api/status`, pki.cas['fleet-ca'].pem)).toEqual({ status: 200, body: '{"name":"fleet-server","status":"HEALTHY"}' });
  });

  it('reports FAILED with 503 when Fleet Server cannot verify Elasticsearch', async () => {
    const pki = await sharedPki();
    await using es = await startElasticsearch({ pki });
    await using fleet = await startFleetServer({ pki, elasticsearch: es, trustElasticsearch: false });
    expect(fleet.state).toBe('FAILED');
    expect(fleet.stateMessage).toBe('Error - failed version compatibility check with elasticsearch: x509: certificate signed by unknown authority');
    expect(await get(`${fleet.url}/api/status`, pki.cas['fleet-ca'].pem)).toEqual({ status: 503, body: '{"name":"fleet-server","status":"FAILED"}' });
    expect(authorities(pki, 'es-ca')[0]!.subject).toBe('CN=es-ca,O=fleet-tls-harness');
  });

  it('runs a catalog scenario by id', async () => {
    const results = await runScenario('agent-fleet.mutual.agent-has-no-cert', { pki: await sharedPki(), tls: ['1.3'] });
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ pass: true, tls: '1.3' });
  });
});
