import { settledLines } from '../helpers/tools.js';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorities, identity, startElasticsearch, startFleetServer } from '../../src/index.js';
import { goRequest } from '../../src/components/go-client.js';
import { FakeSecureProxy } from '../../src/components/proxy/secure-proxy.js';
import type { FakeElasticsearch } from '../../src/components/elasticsearch.js';
import type { FakeFleetServer } from '../../src/components/fleet-server.js';
import type { Pki } from '../../src/pki/store.js';
import { buildGoPeer, goClient, type GoPeerRequest } from '../helpers/go-peer.js';
import { startNginx, type RealNginx } from '../helpers/nginx.js';
import { scratchDir, sharedPki } from '../helpers/pki.js';

/**
 * The fake secure proxy held against Debian's nginx in front of the fake Fleet Server: same
 * status, same page, same error-log line for a missing or untrusted client certificate and an
 * upstream nginx cannot verify, driven by Go 1.19 and by the fake Go client.
 */
let pki: Pki;
let es: FakeElasticsearch;
let fleet: FakeFleetServer;
let binary: string;
let nginx: RealNginx;
let agentKey: string;
let cleanup: () => Promise<void>;
const fakes: Record<string, FakeSecureProxy> = {};

beforeAll(async () => {
  pki = await sharedPki();
  const scratch = await scratchDir();
  cleanup = scratch.cleanup;
  [es, binary] = await Promise.all([startElasticsearch({ pki }), buildGoPeer(scratch.dir)]);
  fleet = await startFleetServer({ pki, elasticsearch: es });
  agentKey = path.join(scratch.dir, 'agent.key');
  await writeFile(agentKey, identity(pki, 'agent-cert').keyPem, { mode: 0o600 });
  // Both servers proxy to the same address, so nginx shares one upstream and its saved TLS
  // session: a session from the untrusting server, resumed by the trusting one, brings its
  // verify result (21) along. Session reuse off keeps each verdict its own.
  const front = (trust: string) => () => [
    `ssl_certificate ${pki.certPath('fleet-cert')};`, `ssl_certificate_key ${pki.keyPath('fleet-cert')};`,
    `ssl_client_certificate ${pki.certPath('agent-ca')};`, 'ssl_verify_client on;',
    `location / { proxy_pass https://127.0.0.1:${fleet.port}; proxy_ssl_verify on; proxy_ssl_trusted_certificate ${pki.certPath(trust as 'fleet-ca')}; proxy_ssl_name fleet-server; proxy_ssl_session_reuse off; }`,
  ].join('\n');
  nginx = await startNginx(scratch.dir, { good: front('fleet-ca'), wrongUpstreamCa: front('es-ca') });
  for (const [name, trust] of [['good', 'fleet-ca'], ['wrongUpstreamCa', 'es-ca']] as const) {
    fakes[name] = await FakeSecureProxy.start({
      identity: identity(pki, 'fleet-cert'), clientAuthentication: 'required', clientCertificateAuthorities: authorities(pki, 'agent-ca'),
      upstream: `https://127.0.0.1:${fleet.port}`, upstreamAuthorities: authorities(pki, trust), upstreamName: 'fleet-server',
    });
  }
}, 120_000);

afterAll(async () => {
  await nginx?.stop();
  for (const fake of Object.values(fakes)) await fake.close();
  await fleet?.close();
  await es?.close();
  await cleanup?.();
});

type Client = 'none' | 'untrusted' | 'agent';

/** One GET from Go 1.19 and one from the fake client to `port`; the status and body each got. */
async function both(port: number, client: Client): Promise<Array<{ status?: number; body?: string; error?: string }>> {
  const url = `https://127.0.0.1:${port}/api/status`;
  const goCert: Partial<GoPeerRequest> = client === 'agent' ? { cert: pki.certPath('agent-cert'), key: agentKey }
    : client === 'untrusted' ? { cert: pki.certPath('es-cert'), key: pki.keyPath('es-cert'), alwaysSend: true } : {};
  const cert = client === 'agent' ? identity(pki, 'agent-cert') : client === 'untrusted' ? identity(pki, 'es-cert') : undefined;
  const [[go], fake] = await Promise.all([
    goClient(binary, [{ url, cas: [pki.certPath('fleet-ca')], ...goCert }]),
    goRequest({ method: 'GET', url, goRelease: '1.19', tls: { certificateAuthorities: authorities(pki, 'fleet-ca'), ...(cert ? { certificate: cert, sendCertificate: 'always' } : {}) } }),
  ]);
  return [
    go!.status ? { status: go!.status, body: go!.body! } : { error: go!.unwrapped! },
    fake.response ? { status: fake.response.status, body: fake.response.body } : { error: fake.error! },
  ];
}


/** What differs by run: ports and the Host header. */
const generic = (lines: readonly string[]) => lines
  .filter((l) => !/closed keepalive connection|client closed connection while SSL handshaking/.test(l))
  .map((l) => l.replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:PORT')).sort();

describe('nginx and the fake secure proxy in front of Fleet Server', () => {
  it.each([
    ['a client without a certificate gets nginx\'s 400 "No required SSL certificate was sent"', 'good', 'none', 400],
    ['a client certificate from another CA gets the 400 "The SSL certificate error" with OpenSSL\'s verify error', 'good', 'untrusted', 400],
    ['an upstream Fleet Server certificate nginx cannot verify is a 502 Bad Gateway', 'wrongUpstreamCa', 'agent', 502],
    ['a trusted agent reaches Fleet Server through the proxy', 'good', 'agent', 200],
  ] as const)('%s', async (_name, server, client, status) => {
    const realBefore = (await settledLines(() => nginx.lines())).length;
    const real = await both(nginx.port(server), client);
    const realLines = (await settledLines(() => nginx.lines())).slice(realBefore);
    const fake = fakes[server]!;
    const fakeBefore = fake.log.entries.length;
    const emulated = await both(fake.port, client);
    const fakeLines = (await settledLines(() => fake.log.entries.map((e) => e.message))).slice(fakeBefore);
    expect({ statuses: real.map((r) => r.status), realLines }).toEqual({ statuses: [status, status], realLines });
    expect(emulated).toEqual(real);
    expect(generic(fakeLines)).toEqual(generic(realLines));
  });
});
