import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorities, GENERATED_ROOT_NAME, startElasticsearch, startFleetServer, startInterceptingProxy } from '../../src/index.js';
import { goRequest } from '../../src/components/go-client.js';
import { parseProxyUrl } from '../../src/components/proxy/proxy-url.js';
import type { FakeElasticsearch } from '../../src/components/elasticsearch.js';
import type { FakeFleetServer } from '../../src/components/fleet-server.js';
import type { Pki } from '../../src/pki/store.js';
import { sharedPki } from '../helpers/pki.js';

/**
 * The fake TLS-intercepting proxy with the fake Go client, over real sockets: the certificate the
 * client verifies is the one the proxy minted, the proxy's own handshake with Fleet Server is
 * its own, and each failure surfaces where squid's does (checked against squid itself in
 * intercepting-proxy-squid.test.ts).
 */
let pki: Pki;
let es: FakeElasticsearch;
let fleet: FakeFleetServer;
let mutual: FakeFleetServer;

beforeAll(async () => {
  pki = await sharedPki();
  es = await startElasticsearch({ pki });
  [fleet, mutual] = await Promise.all([
    startFleetServer({ pki, elasticsearch: es }),
    startFleetServer({ pki, elasticsearch: es, clientAuthentication: 'required', tls: '1.2' }),
  ]);
}, 60_000);

afterAll(async () => {
  await fleet?.close();
  await mutual?.close();
  await es?.close();
});

const viaProxy = (port: number) => parseProxyUrl(`http://127.0.0.1:${port}`, 'proxy');

describe('a TLS-intercepting proxy in front of Fleet Server', () => {
  it('makes a Go client that does not trust its root fail with x509: certificate signed by unknown authority, and logs squid\'s accept failure', async () => {
    await using proxy = await startInterceptingProxy({ upstreamAuthorities: authorities(pki, 'fleet-ca'), resolve: () => fleet.endpoint });
    const exchange = await goRequest({ method: 'GET', url: 'https://localhost:8220/api/status', tls: { certificateAuthorities: authorities(pki, 'fleet-ca') }, proxy: viaProxy(proxy.port) });
    expect(exchange.error).toBe('x509: certificate signed by unknown authority');
    expect(exchange.connection.serverChain[0]!.issuer).toBe(`CN=${GENERATED_ROOT_NAME},O=fleet-tls-harness`);
    await proxy.settled(exchange.connection.localPort);
    const lines = proxy.log.entries.map((e) => e.message);
    expect(lines[0]).toMatch(/^ {0,5}\d+ 127\.0\.0\.1 NONE_NONE\/200 0 CONNECT localhost:8220 - HIER_DIRECT\/127\.0\.0\.1 -$/);
    expect(lines[1]).toMatch(/^ERROR: failure while accepting a TLS connection on conn1 local=127\.0\.0\.1:\d+ remote=127\.0\.0\.1:\d+ FD 12 flags=1: 0x[0-9a-f]{12}\*1$/);
    expect(lines).toHaveLength(2);
  });

  it('lets a client that trusts its root through, with a minted certificate that mimics Fleet Server\'s and is issued by the root', async () => {
    await using proxy = await startInterceptingProxy({ upstreamAuthorities: authorities(pki, 'fleet-ca'), resolve: () => fleet.endpoint });
    const exchange = await goRequest({ method: 'GET', url: 'https://localhost:8220/api/status', tls: { certificateAuthorities: [proxy.root] }, proxy: viaProxy(proxy.port) });
    expect(exchange.response?.status).toBe(200);
    const [minted, root] = exchange.connection.serverChain;
    const real = authorities(pki, 'fleet-ca')[0]!;
    expect(minted!.subject).toBe('CN=fleet-server,O=fleet-tls-harness');
    expect(minted!.issuer).toBe(proxy.root.subject);
    expect(minted!.dnsNames).toEqual(['localhost', 'fleet-server']);
    expect(minted!.issuer).not.toBe(real.subject);
    expect(root!.sha256Hex).toBe(proxy.root.sha256Hex);
    const record = proxy.interception(exchange.connection.localPort)!;
    expect(record.upstream).toMatchObject({ ok: true, peer: '127.0.0.1', authorities: ['CN=fleet-ca,O=fleet-tls-harness'] });
    expect(record.upstream!.serverChain[0]!.issuer).toBe('CN=fleet-ca,O=fleet-tls-harness');
    expect(proxy.log.entries.map((e) => e.message)[1]).toMatch(/^ {0,5}\d+ 127\.0\.0\.1 TCP_MISS\/200 \d+ GET https:\/\/localhost:8220\/api\/status - HIER_DIRECT\/127\.0\.0\.1 application\/json$/);
  });

  it('answers 503 ERR_SECURE_CONNECT_FAIL over the bumped connection when it cannot verify Fleet Server itself', async () => {
    await using proxy = await startInterceptingProxy({ upstreamAuthorities: authorities(pki, 'es-ca'), resolve: () => fleet.endpoint });
    const exchange = await goRequest({ method: 'GET', url: 'https://localhost:8220/api/status', tls: { certificateAuthorities: [proxy.root] }, proxy: viaProxy(proxy.port) });
    expect(exchange.response?.status).toBe(503);
    expect(exchange.response?.headers['x-squid-error']).toBe('ERR_SECURE_CONNECT_FAIL 0');
    expect(exchange.connection.serverChain[0]!.subject).toBe('CN=localhost');
    const record = proxy.interception(exchange.connection.localPort)!;
    expect(record.upstream).toMatchObject({ ok: false, verifyError: '(21:unable to verify the first certificate)' });
    expect(proxy.log.entries.map((e) => e.message)[1]).toMatch(/^ {0,5}\d+ 127\.0\.0\.1 NONE_NONE\/503 \d+ GET https:\/\/localhost:8220\/api\/status - HIER_NONE\/- text\/html$/);
  });

  it('cannot carry the client\'s certificate: Fleet Server that requires one sees none from the proxy and the client gets 503', async () => {
    await using proxy = await startInterceptingProxy({ upstreamAuthorities: authorities(pki, 'fleet-ca'), resolve: () => mutual.endpoint });
    const exchange = await goRequest({ method: 'GET', url: 'https://localhost:8220/api/status', tls: { certificateAuthorities: [proxy.root] }, proxy: viaProxy(proxy.port) });
    expect(exchange.response?.status).toBe(503);
    const record = proxy.interception(exchange.connection.localPort)!;
    expect(record.upstream).toMatchObject({ ok: false, alert: 'bad_certificate' });
    const server = await mutual.connection(record.upstream!.localPort);
    expect(server?.logLine).toMatch(/^http: TLS handshake error from 127\.0\.0\.1:\d+: tls: client didn't provide a certificate$/);
  });
});
