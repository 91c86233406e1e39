import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { execa } from 'execa';
import { authorities, startElasticsearch } from '../../src/api.js';
import { FakeElasticsearch } from '../../src/components/elasticsearch.js';
import { FakeFleetServer } from '../../src/components/fleet-server.js';
import { goRequest, type GoExchange } from '../../src/components/go-client.js';
import type { GoRelease } from '../../src/dialects/go.js';
import type { Pki } from '../../src/pki/store.js';
import { only, type TlsVersion, type VersionRange } from '../../src/tls/settings.js';
import { parsePemCertificates } from '../../src/x509/certificate.js';
import { buildGoPeer, goClient, goServers, type GoPeerRequest, type GoPeerResult, type GoPeerServers } from '../helpers/go-peer.js';
import { clientMaterials, serverCertCases, type ClientMaterials, type Material, type ServerCertCase } from '../helpers/interop-certs.js';
import { scratchDir, sharedPki } from '../helpers/pki.js';
import { goTool } from '../helpers/tools.js';

// Real peers on a shared 2-core machine: a handshake, a JVM or a child CLI can wait seconds for a
// core. The bounds below only stop a hang; every wait for a peer's report ends on an event.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 180_000 });

// Checked when the file loads, not in beforeAll: a missing peer fails this file with one line
// (the one scripts/test-peers.sh prints), and no test of it is reported as skipped.
goTool();

/*
 * The fake agent and the fake Fleet Server held against real Go 1.19 (Debian's golang-1.19-go)
 * running test/interop/go: for each certificate, every pairing of {real Go client, fake agent}
 * with {real Go net/http server, fake Fleet Server} must produce the same client error and the
 * same server log line. The fakes run with GoRelease '1.19' for that; where current Go words
 * things differently (go-behaviour.md), the 1.24 fake is checked against the real 1.19 text
 * with exactly the documented changes applied.
 */
let pki: Pki;
let binary: string;
let cleanup: () => Promise<void>;
let elasticsearch: FakeElasticsearch;
let serverCases: ServerCertCase[];
let clients: ClientMaterials;
let goPeer: GoPeerServers;
const fleetServers = new Map<string, FakeFleetServer>();
const TLS: readonly TlsVersion[] = ['1.2', '1.3'];

/** Client-certificate servers: Fleet Server's fleet-cert, trusting agent-ca for clients. */
const MUTUAL = { required: 'mutual-required', optional: 'mutual-optional' } as const;
/** A server that speaks only one TLS version, for the version-mismatch rows. */
const ONLY = { '1.2': 'only-tls12', '1.3': 'only-tls13' } as const;

function fakeFleetServer(identity: Material['identity'], options: { release?: GoRelease; clientAuthentication?: 'optional' | 'required'; versions?: VersionRange } = {}) {
  return FakeFleetServer.start({
    identity,
    certificateAuthorities: authorities(pki, 'fleet-ca', 'agent-ca'),
    clientAuthentication: options.clientAuthentication ?? 'none',
    ...(options.versions ? { versions: options.versions } : {}),
    goRelease: options.release ?? '1.19',
    elasticsearch: {
      url: elasticsearch.url, serviceToken: elasticsearch.serviceToken, connectTo: elasticsearch.endpoint,
      tls: { certificateAuthorities: authorities(pki, 'es-ca') },
    },
  });
}

beforeAll(async () => {
  const scratch = await scratchDir();
  cleanup = scratch.cleanup;
  pki = await sharedPki();
  [binary, serverCases, clients, elasticsearch] = await Promise.all([
    buildGoPeer(scratch.dir),
    serverCertCases(pki, scratch.dir),
    clientMaterials(pki, scratch.dir),
    startElasticsearch({ pki }),
  ]);
  const fleet = serverCases.find((c) => c.id === 'unknown-ca')!.material;
  const agentCa = pki.certPath('agent-ca');
  goPeer = await goServers(binary, [
    ...serverCases.map((c) => ({ name: c.id, cert: c.material.certFile, key: c.material.keyFile })),
    { name: MUTUAL.required, cert: fleet.certFile, key: fleet.keyFile, clientCAs: [agentCa], clientAuth: 'required' as const },
    { name: MUTUAL.optional, cert: fleet.certFile, key: fleet.keyFile, clientCAs: [agentCa], clientAuth: 'optional' as const },
    { name: ONLY['1.2'], cert: fleet.certFile, key: fleet.keyFile, minVersion: '1.2' as const, maxVersion: '1.2' as const },
    { name: ONLY['1.3'], cert: fleet.certFile, key: fleet.keyFile, minVersion: '1.3' as const, maxVersion: '1.3' as const },
  ]);
  const started = await Promise.all([
    ...serverCases.map(async (c) => [c.id, await fakeFleetServer(c.material.identity)] as const),
    ...(['1.19', '1.24'] as const).flatMap((release) => (['required', 'optional'] as const).map(async (auth) =>
      [`${MUTUAL[auth]}@${release}`, await fakeFleetServer(fleet.identity, { release, clientAuthentication: auth })] as const)),
    ...TLS.map(async (v) => [ONLY[v], await fakeFleetServer(fleet.identity, { versions: only(v) })] as const),
  ]);
  for (const [name, server] of started) fleetServers.set(name, server);
}, 180_000);

afterAll(async () => {
  await goPeer?.stop();
  await Promise.all([...fleetServers.values()].map((s) => s.close()));
  await elasticsearch?.close();
  await cleanup?.();
});

/** What one client saw and what the server it talked to logged about it. */
interface Observed {
  readonly error: string | undefined;
  readonly status: number | undefined;
  readonly log: string | undefined;
}

/** Ports and the current time vary between runs and peers; the words must not. */
function normalise(text: string | undefined): string | undefined {
  return text
    ?.replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:PORT')
    .replace(/current time (\S+) is/g, (_all, time: string) => {
      // Both peers read their own clock a moment apart; the time must still be now, in RFC 3339.
      expect(Math.abs(Date.parse(time) - Date.now())).toBeLessThan(30_000);
      return 'current time NOW is';
    });
}

async function realServerLog(name: string, localPort: number | undefined, failed: boolean): Promise<string | undefined> {
  // A handshake that succeeded was logged (or not) before the response came back.
  return localPort === undefined ? undefined : goPeer.logLine(name, localPort, failed ? undefined : 0);
}

async function fakeServerLog(name: string, localPort: number | undefined): Promise<string | undefined> {
  return (await fleetServers.get(name)!.connection(localPort))?.logLine;
}

async function viaGo(request: GoPeerRequest, server: { real: string } | { fake: string }): Promise<Observed> {
  const [result] = await goClient(binary, [request]) as [GoPeerResult];
  const failed = result.error !== undefined;
  const log = 'real' in server ? await realServerLog(server.real, result.localPort, failed) : await fakeServerLog(server.fake, result.localPort);
  return { error: normalise(result.unwrapped), status: result.status, log: normalise(log) };
}

async function viaFake(exchange: Promise<GoExchange>, server: { real: string } | { fake: string }): Promise<Observed> {
  const done = await exchange;
  const port = done.connection.localPort;
  const failed = done.error !== undefined;
  const log = 'real' in server ? await realServerLog(server.real, port, failed) : await fakeServerLog(server.fake, port);
  return { error: normalise(done.error), status: done.response?.status, log: normalise(log) };
}

const HANDSHAKE = 'http: TLS handshake error from 127.0.0.1:PORT: ';

/** Go 1.19's words for each server certificate (go-behaviour.md), `NOW` for the time. */
const SERVER_CERT_ERRORS: Readonly<Record<string, string | null>> = {
  'good-complete-chain': null,
  'unknown-ca': 'x509: certificate signed by unknown authority',
  'self-signed': 'x509: certificate signed by unknown authority',
  'hostname-mismatch': 'x509: certificate is valid for fleet.example.internal, not localhost',
  'cn-only-no-san': 'x509: certificate relies on legacy Common Name field, use SANs instead',
  'ip-without-ip-san': "x509: cannot validate certificate for 127.0.0.1 because it doesn't contain any IP SANs",
  expired: 'x509: certificate has expired or is not yet valid: current time NOW is after EXPIRY',
  'not-yet-valid': 'x509: certificate has expired or is not yet valid: current time NOW is before START',
  'no-serverauth-eku': 'x509: certificate specifies an incompatible key usage',
  'ca-without-ca-true-as-root': 'x509: certificate signed by unknown authority (possibly because of "x509: invalid signature: parent certificate cannot sign this kind of certificate" while trying to verify candidate authority certificate "noca-ca")',
  'ca-without-ca-true-as-intermediate': 'x509: certificate signed by unknown authority (possibly because of "x509: invalid signature: parent certificate cannot sign this kind of certificate" while trying to verify candidate authority certificate "noca-intermediate")',
  'incomplete-chain': 'x509: certificate signed by unknown authority',
};

/** Go's RFC 3339 rendering of a certificate time (whole seconds, UTC). */
const rfc3339 = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

function expectedServerCertError(c: ServerCertCase): string | null {
  const leaf = c.material.identity.chain[0]!;
  return SERVER_CERT_ERRORS[c.id]!?.replace('EXPIRY', rfc3339(leaf.notAfter)).replace('START', rfc3339(leaf.notBefore)) ?? null;
}

describe.concurrent.each(TLS)('server certificates, TLS %s: real Go 1.19 and the fakes agree', (tls) => {
  const goRequestFor = (c: ServerCertCase, port: number): GoPeerRequest => ({
    url: `https://${c.host}:${port}/`, cas: [c.trust], minVersion: tls, maxVersion: tls,
  });
  const fakeRequest = (c: ServerCertCase, port: number, mode: 'strict' | 'full', goRelease: GoRelease = '1.19') => goRequest({
    method: 'GET', url: `https://${c.host}:${port}/`, goRelease,
    tls: { certificateAuthorities: parsePemCertificates(c.trustCa.pem), verificationMode: mode, versions: only(tls) },
  });

  it.each(Object.keys(SERVER_CERT_ERRORS))('%s: same client error and same server log line in all four pairings', async (id) => {
    const c = serverCases.find((s) => s.id === id)!;
    const real = { real: id };
    const fake = { fake: id };
    const realPort = goPeer.port(id);
    const fakePort = fleetServers.get(id)!.port;
    const [goVsGo, goVsFake, fakeVsGo, fakeVsFake, fullVsGo, strict124VsGo] = await Promise.all([
      viaGo(goRequestFor(c, realPort), real),
      viaGo(goRequestFor(c, fakePort), fake),
      viaFake(fakeRequest(c, realPort, 'strict'), real),
      viaFake(fakeRequest(c, fakePort, 'strict'), fake),
      viaFake(fakeRequest(c, realPort, 'full'), real),
      viaFake(fakeRequest(c, realPort, 'strict', '1.24'), real),
    ]);
    const error = expectedServerCertError(c);
    // Every server-certificate failure reaches the server as the client's bad_certificate alert.
    const log = error === null ? undefined : `${HANDSHAKE}remote error: tls: bad certificate`;
    expect(goVsGo).toMatchObject({ error: error ?? undefined, log });
    expect(goVsFake).toMatchObject({ error: error ?? undefined, log });
    expect(fakeVsGo).toMatchObject({ error: error ?? undefined, log });
    expect(fakeVsFake).toMatchObject({ error: error ?? undefined, log });
    if (error === null) expect([goVsGo.status, fakeVsGo.status]).toEqual([200, 200]);
    // libs' `full` mode differs from Go's own verification only in accepting a CN-only certificate.
    if (id === 'cn-only-no-san') expect(fullVsGo).toMatchObject({ error: undefined, status: 200, log: undefined });
    else expect(fullVsGo).toEqual({ ...fakeVsGo, status: fullVsGo.status });
    // Go >= 1.20 wraps its own verification error (CL 449336); only `strict` lets Go verify.
    expect(strict124VsGo).toEqual({ ...fakeVsGo, ...(error === null ? {} : { error: `tls: failed to verify certificate: ${error}` }) });
  });
});

/** Go 1.19's server wording for each client certificate case; null: the handshake succeeds. */
type ClientCase = {
  readonly id: string;
  readonly auth: 'required' | 'optional';
  readonly material: keyof ClientMaterials | null;
  /** The Go client presents the certificate whatever the server's CA list (GetClientCertificate). */
  readonly alwaysSend?: boolean;
  readonly serverError: string | null;
};
const CLIENT_CASES: readonly ClientCase[] = [
  { id: 'good-mutual', auth: 'required', material: 'good', serverError: null },
  { id: 'required-none-sent', auth: 'required', material: null, serverError: "tls: client didn't provide a certificate" },
  { id: 'required-untrusted-ca-withheld', auth: 'required', material: 'untrusted', serverError: "tls: client didn't provide a certificate" },
  { id: 'required-untrusted-ca-always-sent', auth: 'required', material: 'untrusted', alwaysSend: true, serverError: 'tls: failed to verify client certificate: x509: certificate signed by unknown authority' },
  { id: 'required-expired', auth: 'required', material: 'expired', serverError: 'tls: failed to verify client certificate: x509: certificate has expired or is not yet valid: current time NOW is after EXPIRY' },
  { id: 'required-no-clientauth-eku', auth: 'required', material: 'noClientAuthEku', serverError: 'tls: failed to verify client certificate: x509: certificate specifies an incompatible key usage' },
  { id: 'optional-untrusted-ca-withheld', auth: 'optional', material: 'untrusted', serverError: null },
  { id: 'optional-untrusted-ca-always-sent', auth: 'optional', material: 'untrusted', alwaysSend: true, serverError: 'tls: failed to verify client certificate: x509: certificate signed by unknown authority' },
  { id: 'optional-none-sent', auth: 'optional', material: null, serverError: null },
];

/**
 * What Go 1.24 says instead of 1.19 (go-behaviour.md "Newer Go"): the server's prefix became
 * `tls: failed to verify certificate: `, and Go 1.21 sends a precise alert.
 */
function as124(observed: Observed, tls: TlsVersion): Observed {
  if (!observed.log) return observed;
  const log = observed.log.replace('tls: failed to verify client certificate: ', 'tls: failed to verify certificate: ');
  const alert = /didn't provide a certificate/.test(log)
    ? (tls === '1.3' ? 'certificate required' : 'bad certificate')
    : /unknown authority/.test(log) ? 'unknown certificate authority' : /has expired/.test(log) ? 'expired certificate' : 'bad certificate';
  return { ...observed, log, error: `remote error: tls: ${alert}` };
}

describe.concurrent.each(TLS)('client certificates, TLS %s: real Go 1.19 and the fakes agree', (tls) => {
  const goRequestFor = (c: ClientCase, port: number): GoPeerRequest => {
    const material = c.material ? clients[c.material] : undefined;
    return {
      url: `https://localhost:${port}/`, cas: [pki.certPath('fleet-ca')], minVersion: tls, maxVersion: tls,
      ...(material ? { cert: material.certFile, key: material.keyFile } : {}),
      ...(c.alwaysSend ? { alwaysSend: true } : {}),
    };
  };
  const fakeRequest = (c: ClientCase, port: number) => goRequest({
    method: 'GET', url: `https://localhost:${port}/`, goRelease: '1.19',
    tls: {
      certificateAuthorities: authorities(pki, 'fleet-ca'), versions: only(tls),
      ...(c.material ? { certificate: clients[c.material].identity } : {}),
    },
  });
  const expected = (c: ClientCase): Observed => {
    const expiry = clients.expired.identity.chain[0]!.notAfter;
    const serverError = c.serverError?.replace('EXPIRY', rfc3339(expiry));
    // A Go 1.19 server answers every client-certificate failure with bad_certificate.
    return serverError
      ? { error: 'remote error: tls: bad certificate', status: undefined, log: `${HANDSHAKE}${serverError}` }
      : { error: undefined, status: 200, log: undefined };
  };

  it.each(CLIENT_CASES.map((c) => [c.id, c] as const))('%s: the same on both clients and both servers', async (_id, c) => {
    const real = { real: MUTUAL[c.auth] };
    const fake = { fake: `${MUTUAL[c.auth]}@1.19` };
    const fake124 = { fake: `${MUTUAL[c.auth]}@1.24` };
    const realPort = goPeer.port(MUTUAL[c.auth]);
    const [goVsGo, goVsFake, goVsFake124] = await Promise.all([
      viaGo(goRequestFor(c, realPort), real),
      viaGo(goRequestFor(c, fleetServers.get(fake.fake)!.port), fake),
      viaGo(goRequestFor(c, fleetServers.get(fake124.fake)!.port), fake124),
    ]);
    const want = expected(c);
    const statusOnly = (o: Observed) => ({ ...o, status: o.status === undefined ? undefined : 200 });
    expect(statusOnly(goVsGo)).toEqual(want);
    expect(statusOnly(goVsFake)).toEqual(want);
    expect(statusOnly(goVsFake124)).toEqual(as124(want, tls));
    // The fake agent always honours Go's CA-list rule: it has no always-send mode to compare.
    if (c.alwaysSend) return;
    const [fakeVsGo, fakeVsFake] = await Promise.all([
      viaFake(fakeRequest(c, realPort), real),
      viaFake(fakeRequest(c, fleetServers.get(fake.fake)!.port), fake),
    ]);
    expect(statusOnly(fakeVsGo)).toEqual(want);
    expect(statusOnly(fakeVsFake)).toEqual(want);
  });
});

describe.concurrent('TLS versions and plain HTTP: real Go 1.19 and the fakes agree', () => {
  it.each([
    ['a client capped at TLS 1.2 meets a TLS 1.3-only server', '1.3', { min: '1.2', max: '1.2' }],
    ['a TLS 1.3-only client meets a TLS 1.2-only server', '1.2', { min: '1.3', max: '1.3' }],
  ] as const)('%s', async (_title, serverVersion, client) => {
    const name = ONLY[serverVersion];
    const request = (port: number): GoPeerRequest => ({ url: `https://localhost:${port}/`, cas: [pki.certPath('fleet-ca')], minVersion: client.min, maxVersion: client.max });
    const fake = (port: number) => goRequest({
      method: 'GET', url: `https://localhost:${port}/`, goRelease: '1.19',
      tls: { certificateAuthorities: authorities(pki, 'fleet-ca'), versions: client },
    });
    const [realPort, fakePort] = [goPeer.port(name), fleetServers.get(name)!.port];
    const observed = await Promise.all([
      viaGo(request(realPort), { real: name }), viaGo(request(fakePort), { fake: name }),
      viaFake(fake(realPort), { real: name }), viaFake(fake(fakePort), { fake: name }),
    ]);
    const refused = (offered: string) =>
      ({ error: 'remote error: tls: protocol version not supported', status: undefined, log: `${HANDSHAKE}tls: client offered only unsupported versions: ${offered}` });
    const [goVsGo, goVsFake, fakeVsGo, fakeVsFake] = observed;
    expect([goVsGo, goVsFake]).toEqual([refused(client.max === '1.2' ? '[303]' : '[304]'), refused(client.max === '1.2' ? '[303]' : '[304]')]);
    // Known gap: a Go client always sends supported_versions; the fake agent's OpenSSL leaves it
    // out when capped at TLS 1.2, so a Go server (real or fake) falls back to the legacy version.
    const fakeOffered = client.max === '1.2' ? '[303 302 301]' : '[304]';
    expect([fakeVsGo, fakeVsFake]).toEqual([refused(fakeOffered), refused(fakeOffered)]);
  });

  it('answers a plain-HTTP request on the TLS port with 400 and logs nothing, like net/http', async () => {
    const name = 'good-complete-chain';
    const [realPort, fakePort] = [goPeer.port(name), fleetServers.get(name)!.port];
    const results = await goClient(binary, [{ url: `http://localhost:${realPort}/` }, { url: `http://localhost:${fakePort}/` }]);
    const fakeAgent = await goRequest({ method: 'GET', url: `http://localhost:${realPort}/` });
    for (const result of results) {
      expect(result).toMatchObject({ status: 400, body: 'Client sent an HTTP request to an HTTPS server.\n' });
    }
    expect(fakeAgent.response).toMatchObject({ status: 400, body: 'Client sent an HTTP request to an HTTPS server.\n' });
    expect(goPeer.lines(name).filter((l) => l.includes(`:${results[0]!.localPort}:`))).toEqual([]);
    expect((await fleetServers.get(name)!.connection(results[1]!.localPort))?.logLine).toBeUndefined();
  });
});

describe('the CertificateRequest a Go server sends, as openssl s_client reads it', () => {
  /** The signature algorithms a server's CertificateRequest listed, in openssl's words. */
  async function requestedSignatureAlgorithms(port: number, tls: TlsVersion): Promise<string> {
    const { stdout } = await execa('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, `-tls${tls.replace('.', '_')}`], { input: '', reject: false, timeout: 10_000 });
    return /^Requested Signature Algorithms: (.*)$/m.exec(stdout)?.[1] ?? '(none)';
  }

  it.each(TLS)('lists Go\'s signature algorithms in Go\'s order, SHA-1 ones included (TLS %s)', async (tls) => {
    const real = await requestedSignatureAlgorithms(goPeer.port(MUTUAL.optional), tls);
    expect(real).toBe('RSA-PSS+SHA256:ECDSA+SHA256:ed25519:RSA-PSS+SHA384:RSA-PSS+SHA512:RSA+SHA256:RSA+SHA384:RSA+SHA512:ECDSA+SHA384:ECDSA+SHA512:RSA+SHA1:ECDSA+SHA1');
    expect(await requestedSignatureAlgorithms(fleetServers.get(`${MUTUAL.optional}@1.19`)!.port, tls)).toBe(real);
  });
});
