import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { authorities, identity } from '../../src/api.js';
import { FakeElasticsearch } from '../../src/components/elasticsearch.js';
import { goRequest } from '../../src/components/go-client.js';
import type { ServerConnection } from '../../src/components/tls-listener.js';
import { JavaSslException, judgeClientCertificate, receivedAlert, unsupportedVersions, type JsseWording } from '../../src/dialects/java.js';
import type { Pki } from '../../src/pki/store.js';
import { ALERT, alertName, goAlertText } from '../../src/wire/alerts.js';
import { only, type ClientAuthentication, type TlsVersion, type VersionRange } from '../../src/tls/settings.js';
import { parsePemCertificates } from '../../src/x509/certificate.js';
import { buildGoPeer, goClient, type GoPeerRequest } from '../helpers/go-peer.js';
import { clientMaterials, serverCertCases, type ClientMaterials, type ServerCertCase } from '../helpers/interop-certs.js';
import { javaServers, type JavaEvent, type JavaServers } from '../helpers/java-peer.js';
import { scratchDir, sharedPki } from '../helpers/pki.js';
import { goTool, javaTool } from '../helpers/tools.js';

// Real peers on a shared 2-core machine: a handshake, a JVM or a child CLI can wait seconds for a
// core. The bounds below only stop a hang; every wait for a peer's report ends on an event.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 180_000 });

// Checked when the file loads, not in beforeAll: a missing peer fails this file with one line
// (the one scripts/test-peers.sh prints), and no test of it is reported as skipped.
goTool();
javaTool();

/*
 * The Java dialect held against the JDK's own TLS stack (JSSE, driven through an SSLEngine as
 * Netty drives it: test/interop/java/TlsPeer.java) with the same certificates and the same real
 * Go 1.19 client. For every case three things must agree: what the real JDK threw (with its
 * causes) and which alert it sent; what the dialect says for the wording of that JDK; and what
 * the fake Elasticsearch, which speaks the dialect's default wording, logs and sends.
 *
 * Which wording a JDK has: OpenJDK 17.0.15 (this machine's, java-behaviour.md) says 'jdk17';
 * Debian's 17.0.21 (what .ci/run installs today) and JDK 22+ have JDK-8311644, 'alert-named'.
 */
let pki: Pki;
let binary: string;
let cleanup: () => Promise<void>;
let java: JavaServers;
let wording: JsseWording;
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

/** The wording family of a `java -version` first line; a JDK nobody recorded fails loudly. */
function wordingOf(version: string): JsseWording {
  const match = /version "(\d+)(?:\.(\d+)\.(\d+))?/.exec(version);
  const [major, update] = [Number(match?.[1]), Number(match?.[3] ?? 0)];
  if (major >= 22 || (major === 17 && update >= 21)) return 'alert-named';
  if (major === 17 && update <= 15) return 'jdk17';
  throw new Error(`JSSE wording of ${version} is not recorded: run this test with it and add it to wordingOf`);
}

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
  java = await javaServers([
    ...Object.entries(SERVERS).map(([name, s]) => ({
      name, ...esCert, trust: pki.certPath('es-ca'), clientAuth: s.auth, ...(s.versions ? { protocols: [`TLSv${s.versions.max}` as const] } : {}),
    })),
    ...serverCases.map((c) => ({ name: c.id, cert: c.material.certFile, key: c.material.keyFile })),
  ]);
  wording = wordingOf(java.version);
  const started = await Promise.all([
    ...Object.entries(SERVERS).map(async ([name, s]) => [name, await FakeElasticsearch.start({
      jsse: wording, identity: identity(pki, 'es-cert'), clientCertificateAuthorities: authorities(pki, 'es-ca'), clientAuthentication: s.auth,
      ...(s.versions ? { versions: s.versions } : {}),
    })] as const),
    ...serverCases.map(async (c) => [c.id, await FakeElasticsearch.start({ jsse: wording, identity: c.material.identity })] as const),
  ]);
  for (const [name, fake] of started) fakes.set(name, fake);
}, 180_000);

afterAll(async () => {
  await java?.stop();
  await Promise.all([...fakes.values()].map((f) => f.close()));
  await cleanup?.();
});

it('runs against an OpenJDK 17 or newer whose JSSE wording is recorded', () => {
  expect(java.version).toMatch(/^openjdk version "(17|[2-9]\d)\./);
  expect(['jdk17', 'alert-named']).toContain(wording);
});

/** The exception chain the fake attached to its refusal, and the one its log line names. */
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

const CAUGHT = /^\[WARN \]\[o\.e\.h\.AbstractHttpServerTransport\] \[es-node-1\] caught exception while handling client http traffic, closing connection Netty4HttpChannel\{localAddress=\/127\.0\.0\.1:\d+, remoteAddress=\/127\.0\.0\.1:\d+\}\n/;

interface JavaCase {
  readonly id: string;
  readonly server: keyof typeof SERVERS;
  readonly material?: keyof ClientMaterials;
  readonly alwaysSend?: boolean;
  /** Whether the client's certificate reaches the server (Go withholds one from a CA it does not list). */
  readonly sends: boolean;
}

const CASES: readonly JavaCase[] = [
  { id: 'need, good client certificate', server: 'need', material: 'good', sends: true },
  { id: 'need, no client certificate', server: 'need', sends: false },
  { id: 'need, untrusted CA withheld by Go', server: 'need', material: 'untrusted', sends: false },
  { id: 'need, untrusted CA sent anyway', server: 'need', material: 'untrusted', alwaysSend: true, sends: true },
  { id: 'want, untrusted CA withheld by Go', server: 'want', material: 'untrusted', sends: false },
  { id: 'want, untrusted CA sent anyway', server: 'want', material: 'untrusted', alwaysSend: true, sends: true },
  { id: 'need, expired client certificate', server: 'need', material: 'expired', sends: true },
  { id: 'need, client certificate without clientAuth EKU', server: 'need', material: 'noClientAuthEku', sends: true },
];

const PKIX = 'PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target';
const VALIDITY = 'PKIX path validation failed: java.security.cert.CertPathValidatorException: validity check failed';
const EKU = 'Extended key usage does not permit use for TLS client authentication';

/**
 * The JDK's words for each case, written out independently of the dialect: OpenJDK 17.0.15 as
 * java-behaviour.md recorded it, and the JDK-8311644 wording as Debian's 17.0.21 prints it.
 */
function recorded(c: JavaCase, family: JsseWording, tls: TlsVersion): { chain: string[]; alert: string } | null {
  const named = (alert: string, message: string) => `javax.net.ssl.SSLHandshakeException: ${family === 'alert-named' ? `(${alert}) ` : ''}${message}`;
  if (c.id.includes('good') || (c.server === 'want' && !c.sends)) return null;
  if (!c.sends) {
    const alert = family === 'jdk17' ? 'bad_certificate' : tls === '1.3' ? 'certificate_required' : 'handshake_failure';
    return { alert, chain: [named(alert, 'Empty client certificate chain')] };
  }
  const unknown = 'certificate_unknown';
  if (c.material === 'untrusted') {
    return { alert: unknown, chain: [named(unknown, PKIX), `sun.security.validator.ValidatorException: ${PKIX}`, 'sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target'] };
  }
  if (c.material === 'expired') {
    const expiry = javaDate(clients.expired.identity.chain[0]!.notAfter);
    return {
      alert: unknown,
      chain: [named(unknown, VALIDITY), `sun.security.validator.ValidatorException: ${VALIDITY}`, 'java.security.cert.CertPathValidatorException: validity check failed', `java.security.cert.CertificateExpiredException: NotAfter: ${expiry}`],
    };
  }
  return { alert: unknown, chain: [named(unknown, EKU), `sun.security.validator.ValidatorException: ${EKU}`] };
}

/** Java's Date.toString() in UTC, computed independently of the dialect under test. */
function javaDate(date: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${days[date.getUTCDay()]} ${months[date.getUTCMonth()]} ${p(date.getUTCDate())} ${p(date.getUTCHours())}:${p(date.getUTCMinutes())}:${p(date.getUTCSeconds())} UTC ${date.getUTCFullYear()}`;
}

const goRemote = (alert: string) => `remote error: tls: ${goAlertText(ALERT[alert as keyof typeof ALERT])}`;

/** The same real Go client against the JDK and against the fake, with what each server reported. */
async function both(name: string, request: (port: number) => GoPeerRequest) {
  const [onJava, onFake] = await goClient(binary, [request(java.port(name)), request(fakes.get(name)!.port)]);
  const [event, connection] = await Promise.all([
    java.event(name, onJava!.localPort!),
    fakes.get(name)!.connection(onFake!.localPort),
  ]);
  return { onJava: onJava!, onFake: onFake!, event, connection };
}

describe.concurrent.each(['1.2', '1.3'] as const)('client certificates on the Elasticsearch port, TLS %s', (tls: TlsVersion) => {
  it.each(CASES.map((c) => [c.id, c] as const))('%s: the JDK, the dialect and the fake agree', async (_id, c) => {
    const material = c.material ? clients[c.material] : undefined;
    const request = (port: number): GoPeerRequest => ({
      url: `https://localhost:${port}/`, cas: [pki.certPath('es-ca')], minVersion: tls, maxVersion: tls,
      ...(material ? { cert: material.certFile, key: material.keyFile } : {}), ...(c.alwaysSend ? { alwaysSend: true } : {}),
    });
    const { onJava, onFake, event, connection } = await both(c.server, request);
    const real = recorded(c, wording, tls);
    const fake = recorded(c, wording, tls);
    // The dialect, asked for this JDK's wording, about the chain the Go client really sent.
    const dialect = judgeClientCertificate(c.sends && material ? material.identity.chain : [], c.server === 'need', authorities(pki, 'es-ca'), new Date(), { wording, tls13: tls === '1.3' });
    if (real === null || fake === null) {
      expect(event).toMatchObject({ event: 'ok', protocol: `TLSv${tls}` });
      expect(dialect).toBeNull();
      // The handshake succeeded on both; Elasticsearch then wants credentials the probe has not.
      expect([onJava.status, onFake.status]).toEqual([200, 401]);
      expect(connection?.logLine).toBeUndefined();
      return;
    }
    expect(event).toMatchObject({ event: 'failed', chain: real.chain });
    expect(onJava.unwrapped).toBe(goRemote(real.alert));
    if (tls === '1.2') expect(plaintextAlert(event)).toBe(real.alert);
    expect({ chain: (dialect!.error as JavaSslException).chain, alert: alertName(dialect!.alert) }).toEqual(real);

    expect(fakeException(connection)).toEqual({ chain: fake.chain, logged: fake.chain[0] });
    expect(connection?.logLine).toMatch(CAUGHT);
    expect(onFake.unwrapped).toBe(goRemote(fake.alert));
    if (tls === '1.2') expect(alertName(connection!.tap.alerts.find((a) => a.sender === 'server')!.description)).toBe(fake.alert);
    // Fleet Server's own client (the fake's Go client, which cannot always-send) reads the same alerts.
    if (!c.alwaysSend) {
      const fleet = (port: number) => goRequest({
        method: 'GET', url: `https://localhost:${port}/`, goRelease: '1.19',
        tls: { certificateAuthorities: authorities(pki, 'es-ca'), versions: only(tls), ...(material ? { certificate: material.identity } : {}) },
      });
      const [fakeOnJava, fakeOnFake] = await Promise.all([fleet(java.port(c.server)), fleet(fakes.get(c.server)!.port)]);
      expect([fakeOnJava.error, fakeOnFake.error]).toEqual([goRemote(real.alert), goRemote(fake.alert)]);
    }
  });
});

const SERVER_CERT_FAILURES = [
  'unknown-ca', 'self-signed', 'hostname-mismatch', 'cn-only-no-san', 'ip-without-ip-san', 'expired', 'not-yet-valid',
  'no-serverauth-eku', 'ca-without-ca-true-as-root', 'ca-without-ca-true-as-intermediate', 'incomplete-chain',
];

describe.concurrent.each(['1.2', '1.3'] as const)('Elasticsearch certificates Fleet Server rejects, TLS %s', (tls: TlsVersion) => {
  it.each(SERVER_CERT_FAILURES)('%s: the JDK only learns of the bad_certificate alert, as the fake logs it', async (id) => {
    const c = serverCases.find((s) => s.id === id)!;
    const request = (port: number): GoPeerRequest => ({ url: `https://${c.host}:${port}/`, cas: [c.trust], minVersion: tls, maxVersion: tls });
    const { onJava, onFake, event, connection } = await both(id, request);
    const fleet = await goRequest({
      method: 'GET', url: `https://${c.host}:${fakes.get(id)!.port}/`, goRelease: '1.19',
      tls: { certificateAuthorities: parsePemCertificates(c.trustCa.pem), verificationMode: 'strict', versions: only(tls) },
    });
    const now = (text: string | undefined) => text?.replace(/current time \S+ is/, 'current time NOW is');
    expect(now(onJava.unwrapped)).toMatch(/^x509: /);
    expect([now(onFake.unwrapped), now(fleet.error)]).toEqual([now(onJava.unwrapped), now(onJava.unwrapped)]);
    expect(event).toMatchObject({ event: 'failed', chain: [receivedAlert(ALERT.bad_certificate, wording).message] });
    expect(event).toMatchObject({ chain: [`javax.net.ssl.SSLHandshakeException: ${wording === 'alert-named' ? '(bad_certificate) ' : ''}Received fatal alert: bad_certificate`] });
    expect(fakeException(connection).logged).toBe(receivedAlert(ALERT.bad_certificate, wording).message);
    expect(connection?.logLine).toMatch(CAUGHT);
  });
});

describe.concurrent('TLS versions and plain HTTP on the Elasticsearch port', () => {
  it.each([
    ['only-tls13', { min: '1.2', max: '1.2' }, '[TLSv1.2]', '[TLSv1.3]'],
    ['only-tls12', { min: '1.3', max: '1.3' }, '[TLSv1.3]', '[TLSv1.2]'],
  ] as const)('%s server, client %o: the same refusal from the JDK, the dialect and the fake', async (server, client, offered, accepted) => {
    const request = (port: number): GoPeerRequest => ({ url: `https://localhost:${port}/`, cas: [pki.certPath('es-ca')], minVersion: client.min, maxVersion: client.max });
    const { onJava, onFake, event, connection } = await both(server, request);
    const message = `The client supported protocol versions ${offered} are not accepted by server preferences ${accepted}`;
    const version = client.max === '1.2' ? 0x0303 : 0x0304;
    expect([onJava.unwrapped, onFake.unwrapped]).toEqual(['remote error: tls: protocol version not supported', 'remote error: tls: protocol version not supported']);
    expect(event).toMatchObject({ event: 'failed', chain: [`javax.net.ssl.SSLHandshakeException: ${wording === 'alert-named' ? '(protocol_version) ' : ''}${message}`] });
    expect(event).toMatchObject({ chain: [unsupportedVersions([version], [accepted.slice(1, -1)], wording).message] });
    expect(plaintextAlert(event)).toBe('protocol_version');
    expect(fakeException(connection).logged).toBe(unsupportedVersions([version], [accepted.slice(1, -1)], wording).message);
  });

  it('plain HTTP: JSSE calls it plaintext; Netty (emulated, not checkable here) stops it before JSSE', async () => {
    const { onJava, onFake, event, connection } = await both('none', (port) => ({ url: `http://localhost:${port}/` }));
    // JSSE alone: its exception (no alert name, in either wording) and internal_error in plaintext.
    expect(event).toMatchObject({ event: 'failed', chain: ['javax.net.ssl.SSLException: Unrecognized SSL message, plaintext connection?'] });
    expect(plaintextAlert(event)).toBe('internal_error');
    expect(onJava.unwrapped).toBe('net/http: HTTP/1.x transport connection broken: malformed HTTP response "\\x15\\x03\\x03\\x00\\x02\\x02P"');
    // The fake follows Elasticsearch's Netty handler instead: no alert, its own WARN line.
    expect(connection?.logLine).toMatch(/^\[WARN \]\[o\.e\.h\.n\.Netty4HttpServerTransport\] \[es-node-1\] received plaintext http traffic on an https channel, closing connection Netty4HttpChannel\{/);
    expect(onFake.unwrapped).toBe('EOF');
  });
});
