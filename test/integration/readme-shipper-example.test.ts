import { X509Certificate } from 'node:crypto';
import { Client } from '@elastic/elasticsearch';
import { describe, expect, it } from 'vitest';
import { createPki, startElasticsearch } from '../../src/index.js';

// The README's shipper example ("Testing a shipper"), verbatim but for the import path.
describe('my shipper', () => {
  it('ships its events over TLS, trusting Elasticsearch by CA fingerprint, and they arrive', async () => {
    const pki = await createPki();
    await using es = await startElasticsearch({ pki });                 // es.url, es.password (user elastic)
    const caFingerprint = new X509Certificate(pki.cas['es-ca'].pem).fingerprint256;

    // The client under test, configured as against a real cluster.
    const client = new Client({
      node: es.url, caFingerprint, tls: { rejectUnauthorized: false },
      auth: { username: 'elastic', password: es.password },
    });
    const shipped = await client.helpers.bulk({
      datasource: [{ message: 'one' }, { message: 'two' }],
      onDocument: () => ({ create: { _index: 'my-events' } }),
      refreshOnCompletion: true,
    });
    expect(shipped).toMatchObject({ total: 2, successful: 2, failed: 0 });

    expect(es.documents('my-events').map((d) => d._source)).toEqual([{ message: 'one' }, { message: 'two' }]);
    const found = await client.search({ index: 'my-events', query: { term: { message: 'two' } } });
    expect(found.hits.hits.map((hit) => hit._source)).toEqual([{ message: 'two' }]);
    await client.close();
  });
});

describe('the README', () => {
  it('shows this file\'s shipper example, word for word but for the import path', async () => {
    const { readFile } = await import('node:fs/promises');
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const block = /### Testing a shipper\n[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    const self = await readFile(new URL(import.meta.url), 'utf8');
    const example = self.slice(0, self.indexOf("\ndescribe('the README'")).replace("'../../src/index.js'", "'fleet-tls-harness'")
      .split('\n').filter((line) => !line.startsWith('// The README')).join('\n').replace(/\n\n+describe/, '\n\ndescribe');
    expect(block?.trimEnd()).toBe(example.trimEnd());
  });
});
