import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorities, startElasticsearch } from '../../../src/api.js';
import type { FakeElasticsearch } from '../../../src/components/elasticsearch.js';
import { GoTransport, goRequest, type GoClientTls } from '../../../src/components/go-client.js';
import { sharedPki } from '../../helpers/pki.js';

let es: FakeElasticsearch;
let tls: GoClientTls;
beforeAll(async () => {
  const pki = await sharedPki();
  es = await startElasticsearch({ pki });
  tls = { certificateAuthorities: authorities(pki, 'es-ca') };
});
afterAll(() => es.close());

const get = (transport?: GoTransport) =>
  goRequest({ method: 'GET', url: `https://localhost:${es.port}/`, headers: { authorization: 'Bearer nope' }, tls, ...(transport ? { transport } : {}) });

describe('a Go client\'s transport', () => {
  it('reuses its kept-alive connection for the next request, as Go\'s http.Transport does', async () => {
    const transport = new GoTransport();
    const first = await get(transport);
    const second = await get(transport);
    transport.close();
    expect(first.response?.status).toBe(401);
    expect(second.response?.status).toBe(401);
    expect(second.connection.localPort).toBe(first.connection.localPort);
  });

  it('opens a new connection for each request without one', async () => {
    const first = await get();
    const second = await get();
    expect(second.connection.localPort).not.toBe(first.connection.localPort);
  });

  it('dials again when the server closed the kept connection while it was idle', async () => {
    const transport = new GoTransport();
    const first = await get(transport);
    for (const connection of (es as unknown as { listener: { connections: Map<number, { tap: { destroy(): void } }> } }).listener.connections.values()) connection.tap.destroy();
    await new Promise((resolve) => setImmediate(resolve));
    const second = await get(transport);
    transport.close();
    expect(second.response?.status).toBe(401);
    expect(second.connection.localPort).not.toBe(first.connection.localPort);
  });

  it('does not reuse a connection made with other TLS settings', async () => {
    const transport = new GoTransport();
    const first = await get(transport);
    const other = await goRequest({ method: 'GET', url: `https://localhost:${es.port}/`, tls: { ...tls }, transport });
    transport.close();
    expect(other.connection.localPort).not.toBe(first.connection.localPort);
  });
});
