import https from 'node:https';
import { settledLines } from '../helpers/tools.js';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorities, identity, startElasticsearch, startFleetServer } from '../../src/index.js';
import { FakeFleetServer } from '../../src/components/fleet-server.js';
import { goRequest } from '../../src/components/go-client.js';
import { FakeSecureProxy, type SecureProxyOptions } from '../../src/components/proxy/secure-proxy.js';
import type { FakeElasticsearch } from '../../src/components/elasticsearch.js';
import type { Pki } from '../../src/pki/store.js';
import type { CaName, LeafName } from '../../src/pki/profiles.js';
import { only } from '../../src/tls/settings.js';
import { buildGoPeer, goClient, type GoPeerRequest } from '../helpers/go-peer.js';
import { startNginx, type RealNginx } from '../helpers/nginx.js';
import { scratchDir, sharedPki } from '../helpers/pki.js';

/**
 * The fake secure proxy held against Debian's nginx, both in front of the fake Fleet Server and
 * in front of the fake Elasticsearch: for each fault, the same status and page to Go 1.19 and to
 * the fake Go client, the same error-log line, and the same line from the component behind it.
 */
let pki: Pki;
let es: FakeElasticsearch;
let esMutual: FakeElasticsearch;
/** Fleet Server over TLS, over TLS requiring a client certificate (agent-ca), and over plain HTTP. */
const fleet: Record<'tls' | 'mutual' | 'plain', FakeFleetServer> = {} as never;
let binary: string;
let nginx: RealNginx;
let agentKey: string;
let cleanup: () => Promise<void>;
const fakes: Record<string, FakeSecureProxy> = {};

/** One proxy as data: what nginx is told, and the same settings for the fake. */
interface Front {
  readonly cert?: LeafName;
  readonly verifyClient?: 'optional' | 'required';
  readonly upstream: () => { url: string; log?: () => string[] };
  readonly trust?: CaName;
  readonly name?: string;
  readonly proxyCert?: LeafName;
  readonly upstreamTls?: '1.2' | '1.3';
}

const FRONTS: Record<string, Front> = {
  required: { verifyClient: 'required', upstream: () => ({ url: fleet.tls.url }), trust: 'fleet-ca', name: 'fleet-server' },
  wrongUpstreamCa: { verifyClient: 'required', upstream: () => ({ url: fleet.tls.url }), trust: 'es-ca', name: 'fleet-server' },
  optional: { verifyClient: 'optional', upstream: () => ({ url: fleet.plain.url }) },
  upstreamWantsCert12: { upstream: () => mutual(), upstreamTls: '1.2' },
  upstreamWantsCert13: { upstream: () => mutual(), upstreamTls: '1.3' },
  upstreamCertUntrusted12: { upstream: () => mutual(), proxyCert: 'es-cert', upstreamTls: '1.2' },
  upstreamCertUntrusted13: { upstream: () => mutual(), proxyCert: 'es-cert', upstreamTls: '1.3' },
  upstreamMutual: { upstream: () => mutual(), proxyCert: 'agent-cert', trust: 'fleet-ca', name: 'fleet-server' },
  wrongName: { upstream: () => ({ url: fleet.tls.url }), trust: 'fleet-ca', name: 'wrong.example' },
  httpToTls: { upstream: () => ({ url: fleet.tls.url.replace('https:', 'http:') }) },
  tlsToHttp: { upstream: () => ({ url: fleet.plain.url.replace('http:', 'https:') }) },
  elasticsearch: { cert: 'fleet-cert', upstream: () => ({ url: es.url }), trust: 'es-ca', name: 'localhost' },
  elasticsearchWantsCert: { cert: 'fleet-cert', upstream: () => ({ url: esMutual.url, log: () => esMutual.log.entries.map((e) => e.message) }), trust: 'es-ca', name: 'localhost' },
};

const mutual = () => ({ url: fleet.mutual.url, log: () => fleet.mutual.log.entries.map((e) => e.message) });
const keyPath = (leaf: LeafName) => (leaf === 'agent-cert' ? agentKey : pki.keyPath(leaf));

function nginxBlock(front: Front): string {
  const up = front.upstream();
  return [
    `ssl_certificate ${pki.certPath(front.cert ?? 'fleet-cert')};`, `ssl_certificate_key ${pki.keyPath(front.cert ?? 'fleet-cert')};`,
    ...(front.verifyClient ? [`ssl_client_certificate ${pki.certPath('agent-ca')};`, `ssl_verify_client ${front.verifyClient === 'required' ? 'on' : 'optional'};`] : []),
    // Several servers share an upstream address, so nginx would resume one's TLS session in
    // another, verdict and all: session reuse off keeps each verdict its own.
    `location / { proxy_pass ${up.url}; proxy_ssl_session_reuse off;`,
    ...(front.trust ? [`proxy_ssl_verify on; proxy_ssl_trusted_certificate ${pki.certPath(front.trust)};`] : []),
    ...(front.name ? [`proxy_ssl_name ${front.name};`] : []),
    ...(front.proxyCert ? [`proxy_ssl_certificate ${pki.certPath(front.proxyCert)}; proxy_ssl_certificate_key ${keyPath(front.proxyCert)};`] : []),
    ...(front.upstreamTls ? [`proxy_ssl_protocols TLSv${front.upstreamTls};`] : []),
    '}',
  ].join('\n');
}

function fakeOptions(front: Front): SecureProxyOptions {
  return {
    identity: identity(pki, front.cert ?? 'fleet-cert'),
    ...(front.verifyClient ? { clientAuthentication: front.verifyClient, clientCertificateAuthorities: authorities(pki, 'agent-ca') } : {}),
    upstream: front.upstream().url,
    ...(front.trust ? { upstreamAuthorities: authorities(pki, front.trust) } : {}),
    ...(front.name ? { upstreamName: front.name } : {}),
    ...(front.proxyCert ? { upstreamCertificate: identity(pki, front.proxyCert) } : {}),
    ...(front.upstreamTls ? { upstreamVersions: only(front.upstreamTls) } : {}),
  };
}

beforeAll(async () => {
  pki = await sharedPki();
  const scratch = await scratchDir();
  cleanup = scratch.cleanup;
  [es, esMutual, binary] = await Promise.all([
    startElasticsearch({ pki }), startElasticsearch({ pki, clientAuthentication: 'required' }), buildGoPeer(scratch.dir),
  ]);
  fleet.tls = await startFleetServer({ pki, elasticsearch: es });
  fleet.mutual = await startFleetServer({ pki, elasticsearch: es, clientAuthentication: 'required' });
  fleet.plain = await FakeFleetServer.start({
    identity: identity(pki, 'fleet-cert'), tls: false, port: 0,
    elasticsearch: { url: es.url, tls: { certificateAuthorities: authorities(pki, 'es-ca') }, serviceToken: es.serviceToken },
  });
  agentKey = path.join(scratch.dir, 'agent.key');
  await writeFile(agentKey, identity(pki, 'agent-cert').keyPem, { mode: 0o600 });
  nginx = await startNginx(scratch.dir, Object.fromEntries(Object.entries(FRONTS).map(([name, front]) => [name, () => nginxBlock(front)])));
  await Promise.all(Object.entries(FRONTS).map(async ([name, front]) => { fakes[name] = await FakeSecureProxy.start(fakeOptions(front)); }));
}, 120_000);

afterAll(async () => {
  await nginx?.stop();
  for (const fake of Object.values(fakes)) await fake.close();
  for (const server of Object.values(fleet)) await server?.close();
  await esMutual?.close();
  await es?.close();
  await cleanup?.();
});

interface Client {
  /** Its certificate: none, agent-cert (agent-ca), or es-cert (es-ca, which the proxy does not trust). */
  readonly cert?: 'agent' | 'untrusted';
  /** The CA it verifies the proxy with (default fleet-ca, which issued the proxy's fleet-cert). */
  readonly trust?: CaName;
  readonly scheme?: 'https' | 'http';
  readonly path?: string;
}

type Outcome = { status?: number; body?: string; error?: string };

/** One GET from Go 1.19 and one from the fake client to `port`; what each got. */
async function both(port: number, client: Client): Promise<Outcome[]> {
  const url = `${client.scheme ?? 'https'}://127.0.0.1:${port}${client.path ?? '/api/status'}`;
  const cas = [pki.certPath(client.trust ?? 'fleet-ca')];
  const goCert: Partial<GoPeerRequest> = client.cert === 'agent' ? { cert: pki.certPath('agent-cert'), key: agentKey }
    : client.cert === 'untrusted' ? { cert: pki.certPath('es-cert'), key: pki.keyPath('es-cert'), alwaysSend: true } : {};
  const cert = client.cert === 'agent' ? identity(pki, 'agent-cert') : client.cert === 'untrusted' ? identity(pki, 'es-cert') : undefined;
  const [[go], fake] = await Promise.all([
    goClient(binary, [{ url, cas, ...goCert }]),
    goRequest({ method: 'GET', url, goRelease: '1.19', tls: { certificateAuthorities: authorities(pki, client.trust ?? 'fleet-ca'), ...(cert ? { certificate: cert, sendCertificate: 'always' } : {}) } }),
  ]);
  return [
    go!.status ? { status: go!.status, body: go!.body! } : { error: go!.unwrapped! },
    fake.response ? { status: fake.response.status, body: fake.response.body } : { error: fake.error! },
  ];
}

/** What differs by run: ports, the Host header and the order two clients' lines land in. */
const generic = (lines: readonly string[]) => lines
  .filter((l) => !/closed keepalive connection|client closed connection while SSL handshaking/.test(l))
  .map((l) => l.replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:PORT')).sort();

/** Access-log lines with the time (in nginx's own $time_local format only) made generic, in a stable order. */
const genericAccess = (lines: readonly string[]) => lines.map((l) => l.replace(/ \[\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] /, ' [TIME] ')).sort();

/** Sends the same clients through nginx's server `name` and the fake's; returns both sides' outcomes and lines (error log, access log). */
async function compare(name: string, client: Client) {
  const upstreamLog = FRONTS[name]!.upstream().log ?? (() => []);
  const realBefore = (await settledLines(() => nginx.lines())).length;
  const realAccessBefore = (await settledLines(() => nginx.access())).length;
  const upBefore = upstreamLog().length;
  const real = await both(nginx.port(name), client);
  const realLines = (await settledLines(() => nginx.lines())).slice(realBefore);
  const realAccess = (await settledLines(() => nginx.access())).slice(realAccessBefore);
  const realUpstream = (await settledLines(upstreamLog)).slice(upBefore);
  const fake = fakes[name]!;
  const fakeBefore = fake.log.entries.length;
  const emulated = await both(fake.port, client);
  await settledLines(() => fake.log.entries.map((e) => e.message));
  const fakeEntries = fake.log.entries.slice(fakeBefore);
  const fakeLines = fakeEntries.filter((e) => e.fields?.nginxLog !== 'access').map((e) => e.message);
  const fakeAccess = fakeEntries.filter((e) => e.fields?.nginxLog === 'access').map((e) => e.message);
  const fakeUpstream = (await settledLines(upstreamLog)).slice(upBefore + realUpstream.length);
  return {
    real, emulated, realLines: generic(realLines), fakeLines: generic(fakeLines), realUpstream: generic(realUpstream), fakeUpstream: generic(fakeUpstream),
    realAccess: genericAccess(realAccess), fakeAccess: genericAccess(fakeAccess),
  };
}

describe('nginx and the fake secure proxy in front of Fleet Server', () => {
  it.each([
    ['a client without a certificate gets nginx\'s 400 "No required SSL certificate was sent"', 'required', {}, 400, 'client sent no required SSL certificate'],
    ['a client certificate from another CA gets the 400 "The SSL certificate error" with OpenSSL\'s verify error', 'required', { cert: 'untrusted' }, 400, 'client SSL certificate verify error: (21:unable to verify the first certificate)'],
    ['ssl_verify_client optional still answers an untrusted certificate with the 400 "The SSL certificate error"', 'optional', { cert: 'untrusted' }, 400, 'client SSL certificate verify error: (21:unable to verify the first certificate)'],
    ['ssl_verify_client optional lets a client without a certificate through', 'optional', {}, 200, undefined],
    ['an upstream Fleet Server certificate nginx cannot verify is a 502 Bad Gateway', 'wrongUpstreamCa', { cert: 'agent' }, 502, 'upstream SSL certificate verify error: (21:unable to verify the first certificate) while SSL handshaking to upstream'],
    ['an upstream certificate without proxy_ssl_name among its names is a 502 and "does not match"', 'wrongName', {}, 502, 'upstream SSL certificate does not match "wrong.example" while SSL handshaking to upstream'],
    ['a trusted agent reaches Fleet Server through the proxy', 'required', { cert: 'agent' }, 200, undefined],
    ['a plain HTTP request on the proxy\'s TLS port gets the 400 "The plain HTTP request was sent to HTTPS port"', 'optional', { scheme: 'http' }, 400, 'client sent plain HTTP request to HTTPS port while reading client request headers'],
    ['proxy_pass http:// to Fleet Server\'s TLS port passes on Go\'s 400 "Client sent an HTTP request to an HTTPS server."', 'httpToTls', {}, 400, undefined],
    ['proxy_pass https:// to a plain-HTTP Fleet Server is a 502 and OpenSSL\'s "wrong version number"', 'tlsToHttp', {}, 502, 'SSL_do_handshake() failed (SSL: error:0A00010B:SSL routines::wrong version number) while SSL handshaking to upstream'],
  ] as const)('%s', async (_name, server, client, status, line) => {
    const { real, emulated, realLines, fakeLines, realAccess, fakeAccess } = await compare(server, client);
    expect(real.map((r) => r.status)).toEqual([status, status]);
    expect(emulated).toEqual(real);
    expect(fakeLines).toEqual(realLines);
    // Every answered request, refused or passed on, has its access-log line, as nginx writes it.
    expect(realAccess).toHaveLength(2);
    expect(fakeAccess).toEqual(realAccess);
    // Go 1.19 names itself; the fake client sends no User-Agent (both proxies log it as "-").
    const passed = (agent: string) => expect.stringMatching(new RegExp(`^127\\.0\\.0\\.1 - - \\[TIME\\] "GET /api/status HTTP/1\\.1" 200 42 "-" "${agent}"$`));
    if (status === 200) expect(realAccess).toEqual([passed('-'), passed('Go-http-client/1.1')]);
    if (line) expect(realLines.every((l) => l.includes(line)) && realLines.length === 2).toBe(true);
    else expect(realLines).toEqual([]);
  });

  it('writes the access line of a request with a quote, a backslash and Basic credentials as nginx escapes it; HEAD sends no body bytes', async () => {
    const ask = (port: number, method: string) => new Promise<number>((resolve, reject) => {
      const request = https.request({
        host: '127.0.0.1', port, method, path: '/api/status?x=1', rejectUnauthorized: false,
        headers: { 'user-agent': 'a"b\\c\u00e9', referer: 'http://ref/', authorization: `Basic ${Buffer.from('bob:pw').toString('base64')}` },
      }, (response) => { response.resume(); response.on('end', () => resolve(response.statusCode ?? 0)); });
      request.on('error', reject);
      request.end();
    });
    const read = async (lines: () => Promise<string[]> | string[], run: () => Promise<number[]>) => {
      const before = (await settledLines(lines)).length;
      const statuses = await run();
      return { statuses, lines: genericAccess((await settledLines(lines)).slice(before)) };
    };
    const twice = (port: number) => async () => [await ask(port, 'GET'), await ask(port, 'HEAD')];
    const fake = fakes.optional!;
    const real = await read(() => nginx.access(), twice(nginx.port('optional')));
    const emulated = await read(() => fake.log.entries.filter((e) => e.fields?.nginxLog === 'access').map((e) => e.message), twice(fake.port));
    expect(emulated).toEqual(real);
    // Node sends the header's é as the one byte 0xE9; the fake Fleet Server behind both proxies
    // answers HEAD on its status route with 404 (what real fleet-server answers is not checked here).
    expect(real.lines).toEqual([
      '127.0.0.1 - bob [TIME] "GET /api/status?x=1 HTTP/1.1" 200 42 "http://ref/" "a\\x22b\\x5Cc\\xE9"',
      '127.0.0.1 - bob [TIME] "HEAD /api/status?x=1 HTTP/1.1" 404 0 "http://ref/" "a\\x22b\\x5Cc\\xE9"',
    ]);
  });

  it('an agent that does not trust the proxy\'s certificate fails in Go\'s words, and nginx logs the alert it got', async () => {
    const { real, emulated, realLines, fakeLines, realAccess, fakeAccess } = await compare('optional', { trust: 'es-ca' });
    expect(real).toEqual([{ error: 'x509: certificate signed by unknown authority' }, { error: 'x509: certificate signed by unknown authority' }]);
    expect(emulated).toEqual(real);
    // No request came: nothing in the access log.
    expect([realAccess, fakeAccess]).toEqual([[], []]);
    expect(realLines).toEqual(Array(2).fill('SSL_do_handshake() failed (SSL: error:0A000412:SSL routines::sslv3 alert bad certificate:SSL alert number 42) while SSL handshaking, client: 127.0.0.1, server: 127.0.0.1:PORT'));
    expect(fakeLines).toEqual(realLines);
  });

  it.each([
    ['TLS 1.2: Fleet Server refuses the handshake and nginx logs SSL_do_handshake() with the bad_certificate alert', 'upstreamWantsCert12',
      'SSL_do_handshake() failed (SSL: error:0A000412:SSL routines::sslv3 alert bad certificate:SSL alert number 42) while SSL handshaking to upstream', 'tls: client didn\'t provide a certificate'],
    ['TLS 1.3: nginx finished its handshake and meets certificate_required reading the answer', 'upstreamWantsCert13',
      'SSL_read() failed (SSL: error:0A00045C:SSL routines::tlsv13 alert certificate required:SSL alert number 116) while reading response header from upstream', 'tls: client didn\'t provide a certificate'],
    ['TLS 1.2: a proxy_ssl_certificate from a CA Fleet Server does not trust is unknown_ca in the handshake', 'upstreamCertUntrusted12',
      'SSL_do_handshake() failed (SSL: error:0A000418:SSL routines::tlsv1 alert unknown ca:SSL alert number 48) while SSL handshaking to upstream', 'x509: certificate signed by unknown authority'],
    ['TLS 1.3: the same unknown_ca reaches nginx only when it reads the answer', 'upstreamCertUntrusted13',
      'SSL_read() failed (SSL: error:0A000418:SSL routines::tlsv1 alert unknown ca:SSL alert number 48) while reading response header from upstream', 'x509: certificate signed by unknown authority'],
  ] as const)('a Fleet Server that requires a client certificate, the proxy lacking a good one: %s', async (_name, server, line, fleetLine) => {
    const { real, emulated, realLines, fakeLines, realUpstream, fakeUpstream, realAccess, fakeAccess } = await compare(server, {});
    expect(real.map((r) => r.status)).toEqual([502, 502]);
    expect(emulated).toEqual(real);
    expect(fakeAccess).toEqual(realAccess);
    expect(realAccess).toEqual(['-', 'Go-http-client/1.1'].map((agent) => `127.0.0.1 - - [TIME] "GET /api/status HTTP/1.1" 502 157 "-" "${agent}"`));
    const expected = `${line}, client: 127.0.0.1, server: , request: "GET /api/status HTTP/1.1", upstream: "https://127.0.0.1:PORT/api/status", host: "127.0.0.1:PORT"`;
    expect(realLines).toEqual([expected, expected]);
    expect(fakeLines).toEqual(realLines);
    expect(realUpstream.every((l) => l.endsWith(fleetLine)) && realUpstream.length === 2).toBe(true);
    expect(fakeUpstream).toEqual(realUpstream);
  });

  it('nginx\'s level follows OpenSSL\'s reason: crit for TLS 1.3\'s certificate_required, error for an alert a peer may send', () => {
    const levels = (name: string) => fakes[name]!.log.entries.filter((e) => e.level === 'error').map((e) => e.fields?.nginxLevel ?? 'error');
    expect([...new Set(levels('upstreamWantsCert13'))]).toEqual(['crit']);
    expect([...new Set(levels('upstreamCertUntrusted13'))]).toEqual(['error']);
  });

  it('a proxy_ssl_certificate Fleet Server trusts gets the agent through to a Fleet Server requiring client certificates', async () => {
    const { real, emulated, realUpstream, fakeUpstream } = await compare('upstreamMutual', {});
    expect(real.map((r) => r.status)).toEqual([200, 200]);
    expect(emulated).toEqual(real);
    expect(fakeUpstream).toEqual(realUpstream);
  });
});

describe('nginx 1.22\'s defaults', () => {
  it('without ssl_protocols both proxies speak TLS 1.2 to a Go client that offers 1.3', async () => {
    const request = (port: number) => ({ url: `https://127.0.0.1:${port}/api/status`, cas: [pki.certPath('fleet-ca')] });
    const results = await goClient(binary, [request(nginx.port('optional')), request(fakes.optional!.port)]);
    expect(results.map((r) => [r.status, r.version])).toEqual([[200, '1.2'], [200, '1.2']]);
  });
});

describe('nginx and the fake secure proxy in front of Elasticsearch', () => {
  it('Go 1.19 and the fake client get Elasticsearch\'s own answer through either proxy', async () => {
    const { real, emulated, realLines, fakeLines } = await compare('elasticsearch', { path: '/' });
    expect(real[0]!.status).toBe(401);
    expect(emulated).toEqual(real);
    expect(fakeLines).toEqual(realLines);
  });

  it('Fleet Server bootstraps through either proxy with --fleet-server-es-ca being the proxy\'s CA', async () => {
    for (const port of [nginx.port('elasticsearch'), fakes.elasticsearch!.port]) {
      await using server = await FakeFleetServer.start({
        identity: identity(pki, 'fleet-cert'), port: 0,
        elasticsearch: { url: `https://localhost:${port}`, tls: { certificateAuthorities: authorities(pki, 'fleet-ca') }, serviceToken: es.serviceToken, connectTo: { host: '127.0.0.1', port } },
      });
      expect(server.state).toBe('HEALTHY');
    }
  });

  it('an Elasticsearch that requires a client certificate the proxy lacks: the same 502 and the same JSSE refusal behind it', async () => {
    const { real, emulated, realLines, fakeLines, realUpstream, fakeUpstream } = await compare('elasticsearchWantsCert', { path: '/' });
    expect(real.map((r) => r.status)).toEqual([502, 502]);
    expect(emulated).toEqual(real);
    expect(realLines.length).toBe(2);
    expect(fakeLines).toEqual(realLines);
    expect(fakeUpstream).toEqual(realUpstream);
  });
});
