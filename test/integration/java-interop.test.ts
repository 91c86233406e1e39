import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorities, identity } from '../../src/api.js';
import { FakeElasticsearch } from '../../src/components/elasticsearch.js';
import { goRequest } from '../../src/components/go-client.js';
import type { ServerConnection } from '../../src/components/tls-listener.js';
import type { Pki } from '../../src/pki/store.js';
import { alertName } from '../../src/wire/alerts.js';
import { only, type ClientAuthentication, type TlsVersion, type VersionRange } from '../../src/tls/settings.js';
import { parsePemCertificates } from '../../src/x509/certificate.js';
import { buildGoPeer, goClient, type GoPeerRequest } from '../helpers/go-peer.js';
import { clientMaterials, serverCertCases, type ClientMaterials, type ServerCertCase } from '../helpers/interop-certs.js';
import { javaServers, type JavaEvent, type JavaServers } from '../helpers/java-peer.js';
import { scratchDir, sharedPki } from '../helpers/pki.js';

/*
 * The fake Elasticsearch held against the JDK's own TLS stack (JSSE, driven through an
 * SSLEngine as Netty drives it: test/interop/java/TlsPeer.java) with the same certificates and
 * the same real Go 1.19 client: the exception JSSE throws, with its causes, must be the one
 * the fake's log line embeds, and the Go client must read the same alert from both.
 */
let pki: Pki;
let binary: string;
let cleanup: () => Promise<void>;
let java: JavaServers;
let clients: ClientMaterials;
let serverCases: ServerCertCase[];
const fakes = new Map<string, FakeElasticsearch>();

const SERVERS: Readonly<Record<string, { auth: ClientAuthentication; versions?: VersionRange }>> = {
  none: { auth: 'none' },
  need: { auth: 'required' },
  want: { auth: 'optional' },
  'only-tls13': { auth: 'none', versions: only('1.3') },
  'only-tls12': { auth: 'none', versions: only('1.2') },
};

beforeAll(async () => {
  const scratch = await scratchDir();
  cleanup = scratch.cleanup;
  pki = await sharedPki();
  [binary, clients, serverCases] = await Promise.all([
    buildGoPeer(scratch.dir),
    clientMaterials(pki, scratch.dir, 'fleet-es-cert', 'es-ca'),
    serverCertCases(pki, scratch.dir),
  ]);
  const esCert = { cert: pki.certPath('es-cert'), key: pki.keyPath('es-cert') };
  const protocols = (v?: VersionRange) => (v ? [`TLSv${v.max}` as const] : undefined);
  java = await javaServers([
    ...Object.entries(SERVERS).map(([name, s]) => ({ name, ...esCert, trust: pki.certPath('es-ca'), clientAuth: s.auth, ...(s.versions ? { protocols: protocols(s.versions)! } : {}) })),
    ...serverCases.map((c) => ({ name: c.id, cert: c.material.certFile, key: c.material.keyFile })),
  ]);
  const started = await Promise.all([
    ...Object.entries(SERVERS).map(async ([name, s]) => [name, await FakeElasticsearch.start({
      identity: identity(pki, 'es-cert'), clientCertificateAuthorities: authorities(pki, 'es-ca'), clientAuthentication: s.auth,
      ...(s.versions ? { versions: s.versions } : {}),
    })] as const),
    ...serverCases.map(async (c) => [c.id, await FakeElasticsearch.start({ identity: c.material.identity })] as const),
  ]);
  for (const [name, fake] of started) fakes.set(name, fake);
}, 60_000);

afterAll(async () => {
  await java?.stop();
  await Promise.all([...fakes.values()].map((f) => f.close()));
  await cleanup?.();
});

it('runs against OpenJDK 17, the JDK the Java dialect was recorded on', () => {
  expect(java.version).toMatch(/^openjdk version "17\./);
});

/** The exception chain the fake attached to its refusal, or the one its log line names. */
function fakeException(connection: ServerConnection | undefined): { chain: readonly string[]; logged: string | undefined } {
  const rejection = connection?.tap.rejection;
  const chain = rejection?.by === 'server' ? ((rejection.error as { chain?: readonly string[] }).chain ?? [rejection.error.message]) : [];
  const logged = connection?.logLine?.split('\n')[1]?.replace(/^io\.netty\.handler\.codec\.DecoderException: /, '');
  return { chain, logged };
}

/** The alert in the bytes JSSE wrote after failing, when it is a plaintext record (TLS 1.2). */
function plaintextAlert(event: JavaEvent | undefined): string | undefined {
  if (event?.event !== 'failed' || !event.wrote.startsWith('15030')) return undefined;
  return alertName(Number.parseInt(event.wrote.slice(12, 14), 16));
}

const PKIX = 'PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target';
const UNTRUSTED_CHAIN = [
  `javax.net.ssl.SSLHandshakeException: ${PKIX}`,
  `sun.security.validator.ValidatorException: ${PKIX}`,
  'sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target',
];
const VALIDITY = 'PKIX path validation failed: java.security.cert.CertPathValidatorException: validity check failed';
const EKU = 'Extended key usage does not permit use for TLS client authentication';

interface JavaCase {
  readonly id: string;
  readonly server: keyof typeof SERVERS;
  readonly material?: keyof ClientMaterials;
  readonly alwaysSend?: boolean;
  /** What Go 1.19 prints (java-behaviour.md); null: 200 OK. */
  readonly goError: string | null;
  /** JSSE's exception and its causes (java-behaviour.md, OpenJDK 17.0.15); null: no failure. */
  readonly chain: readonly string[] | null | ((expiry: string) => readonly string[]);
}

const CASES: readonly JavaCase[] = [
  { id: 'need, good client certificate', server: 'need', material: 'good', goError: null, chain: null },
  { id: 'need, no client certificate', server: 'need', goError: 'remote error: tls: bad certificate', chain: ['javax.net.ssl.SSLHandshakeException: Empty client certificate chain'] },
  { id: 'need, untrusted CA withheld by Go', server: 'need', material: 'untrusted', goError: 'remote error: tls: bad certificate', chain: ['javax.net.ssl.SSLHandshakeException: Empty client certificate chain'] },
  { id: 'need, untrusted CA sent anyway', server: 'need', material: 'untrusted', alwaysSend: true, goError: 'remote error: tls: unknown certificate', chain: UNTRUSTED_CHAIN },
  { id: 'want, untrusted CA withheld by Go', server: 'want', material: 'untrusted', goError: null, chain: null },
  { id: 'want, untrusted CA sent anyway', server: 'want', material: 'untrusted', alwaysSend: true, goError: 'remote error: tls: unknown certificate', chain: UNTRUSTED_CHAIN },
  {
    id: 'need, expired client certificate', server: 'need', material: 'expired', goError: 'remote error: tls: unknown certificate',
    chain: (expiry) => [
      `javax.net.ssl.SSLHandshakeException: ${VALIDITY}`, `sun.security.validator.ValidatorException: ${VALIDITY}`,
      'java.security.cert.CertPathValidatorException: validity check failed', `java.security.cert.CertificateExpiredException: NotAfter: ${expiry}`,
    ],
  },
  { id: 'need, client certificate without clientAuth EKU', server: 'need', material: 'noClientAuthEku', goError: 'remote error: tls: unknown certificate', chain: [`javax.net.ssl.SSLHandshakeException: ${EKU}`, `sun.security.validator.ValidatorException: ${EKU}`] },
];

/** Java's Date.toString() in UTC, computed independently of the dialect under test. */
function javaDate(date: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${days[date.getUTCDay()]} ${months[date.getUTCMonth()]} ${p(date.getUTCDate())} ${p(date.getUTCHours())}:${p(date.getUTCMinutes())}:${p(date.getUTCSeconds())} UTC ${date.getUTCFullYear()}`;
}

async function both(name: string, request: (port: number) => GoPeerRequest) {
  const [onJava, onFake] = await goClient(binary, [request(java.port(name)), request(fakes.get(name)!.port)]);
  const [event, connection] = await Promise.all([
    java.event(name, onJava!.localPort!, onJava!.error ? 3_000 : 1_000),
    fakes.get(name)!.connection(onFake!.localPort),
  ]);
  return { onJava: onJava!, onFake: onFake!, event, connection };
}

describe.each(['1.2', '1.3'] as const)('client certificates on the Elasticsearch port, TLS %s: JSSE and the fake agree', (tls: TlsVersion) => {
  it.each(CASES.map((c) => [c.id, c] as const))('%s', async (_id, c) => {
    const material = c.material ? clients[c.material] : undefined;
    const request = (port: number): GoPeerRequest => ({
      url: `https://localhost:${port}/`, cas: [pki.certPath('es-ca')], minVersion: tls, maxVersion: tls,
      ...(material ? { cert: material.certFile, key: material.keyFile } : {}), ...(c.alwaysSend ? { alwaysSend: true } : {}),
    });
    const { onJava, onFake, event, connection } = await both(c.server, request);
    const chain = typeof c.chain === 'function' ? c.chain(javaDate(clients.expired.identity.chain[0]!.notAfter)) : c.chain;
    expect(onJava.unwrapped).toBe(c.goError ?? undefined);
    expect(onFake.unwrapped).toBe(c.goError ?? undefined);
    if (chain === null) {
      expect(event).toMatchObject({ event: 'ok', protocol: `TLSv${tls}` });
      // The handshake succeeded on both; Elasticsearch then wants credentials the probe has not.
      expect([onJava.status, onFake.status]).toEqual([200, 401]);
      expect(connection?.logLine).toBeUndefined();
      return;
    }
    expect(event).toMatchObject({ event: 'failed', chain });
    const fake = fakeException(connection);
    expect(fake.chain).toEqual(chain);
    expect(fake.logged).toBe(chain[0]);
    expect(connection?.logLine).toMatch(/^\[WARN \]\[o\.e\.h\.AbstractHttpServerTransport\] \[es-node-1\] caught exception while handling client http traffic, closing connection Netty4HttpChannel\{localAddress=\/127\.0\.0\.1:\d+, remoteAddress=\/127\.0\.0\.1:\d+\}\n/);
    if (tls === '1.2') {
      const sent = connection?.tap.alerts.find((a) => a.sender === 'server');
      expect(plaintextAlert(event)).toBe(alertName(sent!.description));
    }
    // Fleet Server's own client (the fake's Go client) sees what the real Go client sees.
    if (!c.alwaysSend) {
      const fleet = (port: number) => goRequest({
        method: 'GET', url: `https://localhost:${port}/`, goRelease: '1.19',
        tls: { certificateAuthorities: authorities(pki, 'es-ca'), versions: only(tls), ...(material ? { certificate: material.identity } : {}) },
      });
      const [fakeOnJava, fakeOnFake] = await Promise.all([fleet(java.port(c.server)), fleet(fakes.get(c.server)!.port)]);
      expect([fakeOnJava.error, fakeOnFake.error]).toEqual([c.goError, c.goError]);
    }
  });
});

describe.each(['1.2', '1.3'] as const)('Elasticsearch certificates Fleet Server rejects, TLS %s', (tls: TlsVersion) => {
  it.each(['unknown-ca', 'hostname-mismatch', 'expired', 'no-serverauth-eku', 'incomplete-chain'])('%s: JSSE only learns of the bad_certificate alert, as the fake logs it', async (id) => {
    const c = serverCases.find((s) => s.id === id)!;
    const request = (port: number): GoPeerRequest => ({ url: `https://${c.host}:${port}/`, cas: [c.trust], minVersion: tls, maxVersion: tls });
    const { onJava, onFake, event, connection } = await both(id, request);
    const fleet = await goRequest({
      method: 'GET', url: `https://${c.host}:${fakes.get(id)!.port}/`, goRelease: '1.19',
      tls: { certificateAuthorities: parsePemCertificates(c.trustCa.pem), verificationMode: 'strict', versions: only(tls) },
    });
    const error = onJava.unwrapped!.replace(/current time \S+ is/, 'current time NOW is');
    expect(error).toMatch(/^x509: /);
    expect(onFake.unwrapped!.replace(/current time \S+ is/, 'current time NOW is')).toBe(error);
    expect(fleet.error!.replace(/current time \S+ is/, 'current time NOW is')).toBe(error);
    expect(event).toMatchObject({ event: 'failed', chain: ['javax.net.ssl.SSLHandshakeException: Received fatal alert: bad_certificate'] });
    expect(fakeException(connection).logged).toBe('javax.net.ssl.SSLHandshakeException: Received fatal alert: bad_certificate');
  });
});

describe('TLS versions and plain HTTP on the Elasticsearch port', () => {
  it.each([
    ['only-tls13', { min: '1.2', max: '1.2' }, '[TLSv1.2]', '[TLSv1.3]'],
    ['only-tls12', { min: '1.3', max: '1.3' }, '[TLSv1.3]', '[TLSv1.2]'],
  ] as const)('%s server, client %o: the same refusal from JSSE and the fake', async (server, client, offered, accepted) => {
    const request = (port: number): GoPeerRequest => ({ url: `https://localhost:${port}/`, cas: [pki.certPath('es-ca')], minVersion: client.min, maxVersion: client.max });
    const { onJava, onFake, event, connection } = await both(server, request);
    const message = `javax.net.ssl.SSLHandshakeException: The client supported protocol versions ${offered} are not accepted by server preferences ${accepted}`;
    expect([onJava.unwrapped, onFake.unwrapped]).toEqual(['remote error: tls: protocol version not supported', 'remote error: tls: protocol version not supported']);
    expect(event).toMatchObject({ event: 'failed', chain: [message] });
    expect(plaintextAlert(event)).toBe('protocol_version');
    expect(fakeException(connection).logged).toBe(message);
  });

  it('plain HTTP: JSSE calls it plaintext; Netty (emulated, not checkable here) stops it before JSSE', async () => {
    const { onJava, onFake, event, connection } = await both('none', (port) => ({ url: `http://localhost:${port}/` }));
    // JSSE alone: its exception, and an internal_error alert written in plaintext.
    expect(event).toMatchObject({ event: 'failed', chain: ['javax.net.ssl.SSLException: Unrecognized SSL message, plaintext connection?'] });
    expect(plaintextAlert(event)).toBe('internal_error');
    expect(onJava.unwrapped).toBe('net/http: HTTP/1.x transport connection broken: malformed HTTP response "\\x15\\x03\\x03\\x00\\x02\\x02P"');
    // The fake follows Elasticsearch's Netty handler instead: no alert, its own WARN line.
    expect(connection?.logLine).toMatch(/^\[WARN \]\[o\.e\.h\.n\.Netty4HttpServerTransport\] \[es-node-1\] received plaintext http traffic on an https channel, closing connection Netty4HttpChannel\{/);
    expect(onFake.unwrapped).toBe('EOF');
  });
});
