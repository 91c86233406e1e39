import { request } from 'node:https';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startElasticsearch } from '../../../src/api.js';
import { ComponentLog } from '../../../src/components/log.js';
import { shipUntilConnected, type PolicyOutput } from '../../../src/components/output.js';
import { sharedPki } from '../../helpers/pki.js';

/** A loopback port nothing listens on, for now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** An API key made through Elasticsearch's own endpoint, as Fleet makes the output's. */
function createApiKey(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const made = request(`https://127.0.0.1:${port}/_security/api_key`, {
      method: 'POST', ca, headers: { authorization: `Basic ${Buffer.from('elastic:changeme').toString('base64')}`, 'content-type': 'application/json' },
    }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => { text += c.toString(); });
      res.on('end', () => { const key = JSON.parse(text) as { id: string; api_key: string }; resolve(`${key.id}:${key.api_key}`); });
    });
    made.on('error', reject);
    made.end('{"name":"beats"}');
  });
}

const output = async (port: number, withCa = true): Promise<PolicyOutput> => {
  const pki = await sharedPki();
  return { type: 'elasticsearch', hosts: [`https://127.0.0.1:${port}`], ...(withCa ? { ssl: { certificate_authorities: [pki.certPath('es-ca')] } } : {}) };
};

describe('the Beats\' output worker, when Elasticsearch cannot be reached', () => {
  it('reconnects with libbeat\'s words and backoff until Elasticsearch comes up, then ships', async () => {
    const pki = await sharedPki();
    const port = await freePort();
    const log = new ComponentLog('agent');
    let es: Awaited<ReturnType<typeof startElasticsearch>> | undefined;
    let apiKey = '';
    // Up between the first try (at once) and the second (1 s later), with the key the policy names.
    const late = setTimeout(() => void startElasticsearch({ pki, port, password: 'changeme' }).then(async (started) => {
      es = started;
      apiKey = await createApiKey(port, pki.cas['es-ca'].pem);
    }), 300);
    try {
      const leg = await shipUntilConnected({ output: { ...await output(port), get api_key() { return apiKey; } }, log }, 10_000);
      expect(leg.ok).toBe(true);
      expect(log.entries.map((e) => e.message)).toEqual([
        `Error dialing dial tcp 127.0.0.1:${port}: connect: connection refused`,
        `Failed to connect to backoff(elasticsearch(https://127.0.0.1:${port})): Get "https://127.0.0.1:${port}": dial tcp 127.0.0.1:${port}: connect: connection refused`,
        `Attempting to reconnect to backoff(elasticsearch(https://127.0.0.1:${port})) with 1 reconnect attempt(s)`,
        `Connection to backoff(elasticsearch(https://127.0.0.1:${port})) established`,
      ]);
      expect(es?.documents('logs-generic-default')).toHaveLength(3);
    } finally {
      clearTimeout(late);
      await es?.close();
    }
  });

  it('gives up with the connect error when the next try would come after its timeout', async () => {
    const port = await freePort();
    const log = new ComponentLog('agent');
    const leg = await shipUntilConnected({ output: await output(port), log }, 500);
    expect(leg.ok).toBe(false);
    expect(leg.phase).toBe('connect');
    expect(log.entries.filter((e) => e.message.startsWith('Attempting to reconnect'))).toEqual([]);
  });

  it('does not retry an answer: an Elasticsearch it does not trust ends the run at the first handshake', async () => {
    const pki = await sharedPki();
    await using es = await startElasticsearch({ pki });
    const log = new ComponentLog('agent');
    const leg = await shipUntilConnected({ output: await output(es.port, false), log }, 10_000);
    expect(leg.ok).toBe(false);
    expect(leg.phase).toBe('handshake');
    expect(leg.rejectedBy).toBe('client');
    expect(log.entries.map((e) => e.message)).toEqual([
      `Error dialing x509: certificate signed by unknown authority`,
      `Failed to connect to backoff(elasticsearch(https://127.0.0.1:${es.port})): Get "https://127.0.0.1:${es.port}": x509: certificate signed by unknown authority`,
    ]);
  });
});
