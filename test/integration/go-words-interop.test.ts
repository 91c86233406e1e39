import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorities } from '../../src/api.js';
import { goRequest } from '../../src/components/go-client.js';
import { clientTimeout, responseHeaderTimeout } from '../../src/components/go-errors.js';
import { closedPort, silentEndpoint, type FaultEndpoint } from '../../src/components/network-faults.js';
import type { Pki } from '../../src/pki/store.js';
import { loadCatalog } from '../../src/scenarios/catalog.js';
import { materialise } from '../../src/scenarios/certificates.js';
import { identityFromPem, loadCertificateAuthorities, loadIdentity, MaterialError } from '../../src/tls/material.js';
import { parseProxyUrl } from '../../src/components/proxy/proxy-url.js';
import { buildGoPeer, goClient, goServers, type GoPeerResult, type GoPeerServers } from '../helpers/go-peer.js';
import { scratchDir, sharedPki } from '../helpers/pki.js';
import { goTool } from '../helpers/tools.js';

// A missing Go 1.19 fails this file with one line, never a skipped test.
goTool();

/*
 * The words of issue 9's network and x509 scenarios, held against real Go 1.19 (test/interop/go):
 * Go's dial error for a closed port (the address it dialled, whatever the URL named), the
 * Client.Timeout and ResponseHeaderTimeout texts against a server that completes the handshake
 * and never answers, and the x509 texts of the catalog's certificates, built by the same code the
 * catalog uses and served by Go's own net/http server.
 */
let pki: Pki;
let binary: string;
let cleanup: () => Promise<void>;
let goPeer: GoPeerServers;
let closed: FaultEndpoint;
let silent: FaultEndpoint;
const catalog = loadCatalog();

/** Catalog scenarios whose Fleet Server certificate Go must refuse, and the host their --url names. */
const X509_SCENARIOS = [
  'agent-fleet.one-way.fleet-cert-path-length-exceeded',
  'agent-fleet.one-way.fleet-cert-name-not-permitted',
  'agent-fleet.one-way.fleet-cert-ip-excluded',
  'agent-fleet.one-way.ip-san-mismatch',
  'agent-fleet.one-way.fleet-cert-unhandled-critical-extension',
  'agent-fleet.one-way.fleet-ca-regenerated',
  'agent-fleet.one-way.fleet-cert-v1-intermediate',
] as const;

/** The CA file each x509 scenario's agent trusts. */
const trust = new Map<string, string>();
const scenario = (id: string) => catalog.scenarios.find((s) => s.id === id)!;

/** The scenario's --url host. */
const hostOf = (id: string): string => new URL(String(scenario(id).flags?.url ?? 'https://localhost:8220')).hostname;

/** The Go error the scenario's agent log carries after the agent's own wrapping. */
function expectedError(id: string): string {
  const logs = scenario(id).expect['agent->fleet-server']!.logs!.agent as string;
  return logs.split('\n').at(-1)!.replace('fail to enroll: fail to execute request to fleet-server: ', '');
}

beforeAll(async () => {
  const scratch = await scratchDir();
  cleanup = scratch.cleanup;
  pki = await sharedPki();
  binary = await buildGoPeer(scratch.dir);
  const specs = await Promise.all(X509_SCENARIOS.map(async (id) => {
    const material = await materialise(scenario(id).certificates!, pki, path.join(scratch.dir, id));
    const made = (flag: string) => {
      const value = scenario(id).flags?.[flag];
      return typeof value === 'string' ? path.join(material.dir, value.replace('/path/to/', '')) : undefined;
    };
    const cert = made('fleet-server-cert');
    const ca = made('certificate-authorities');
    trust.set(id, ca ? `${ca}.crt` : pki.certPath('fleet-ca'));
    return { name: id, cert: cert ? `${cert}.crt` : pki.certPath('fleet-cert'), key: cert ? `${cert}.key` : pki.keyPath('fleet-cert') };
  }));
  goPeer = await goServers(binary, specs);
  closed = await closedPort();
  silent = await silentEndpoint(identityFromPem(pki.leaves['fleet-cert'].pem, pki.leaves['fleet-cert'].key));
}, 120_000);

afterAll(async () => {
  await goPeer?.stop();
  await silent?.close();
  await cleanup?.();
});

const real = async (request: Parameters<typeof goClient>[1][number]): Promise<GoPeerResult> => (await goClient(binary, [request]))[0]!;

describe('Go 1.19 and the fakes word a failed connection alike', () => {
  it.each(['localhost', '127.0.0.1'])('a refused dial to %s names the address Go dialled, 127.0.0.1 and the port', async (host) => {
    const url = `https://${host}:${closed.port}/`;
    const go = await real({ url, cas: [pki.certPath('fleet-ca')] });
    const fake = await goRequest({ method: 'GET', url, tls: { certificateAuthorities: authorities(pki, 'fleet-ca') }, goRelease: '1.19' });
    expect(go.unwrapped).toBe(`dial tcp 127.0.0.1:${closed.port}: connect: connection refused`);
    expect(fake.error).toBe(go.unwrapped);
    expect(fake.connection).toMatchObject({ rejectedBy: 'server', phase: 'connect', node: { code: 'ECONNREFUSED' } });
  });

  it('a refused proxy named localhost is wrapped proxyconnect and names the address Go dialled', async () => {
    const proxy = `http://localhost:${closed.port}`;
    const url = 'https://localhost:8220/';
    const go = await real({ url, cas: [pki.certPath('fleet-ca')], proxy });
    const fake = await goRequest({ method: 'GET', url, tls: { certificateAuthorities: authorities(pki, 'fleet-ca') }, goRelease: '1.19', proxy: parseProxyUrl(proxy, '--proxy-url', {}) });
    expect(go.unwrapped).toBe(`proxyconnect tcp: dial tcp 127.0.0.1:${closed.port}: connect: connection refused`);
    expect(fake.error).toBe(go.unwrapped);
  });

  it('Client.Timeout against a server that completes the handshake and never answers is "awaiting headers"', async () => {
    const url = `https://localhost:${silent.port}/`;
    const go = await real({ url, cas: [pki.certPath('fleet-ca')], timeoutMs: 80 });
    const fake = await goRequest({ method: 'GET', url, tls: { certificateAuthorities: authorities(pki, 'fleet-ca') }, goRelease: '1.19', deadline: clientTimeout(80) });
    expect(go.unwrapped).toBe('context deadline exceeded (Client.Timeout exceeded while awaiting headers)');
    expect(fake.error).toBe(go.unwrapped);
    expect(fake.timedOut).toBe(true);
    expect(fake.connection).toMatchObject({ rejectedBy: 'client', phase: 'http', alert: null });
  });

  it('ResponseHeaderTimeout (Fleet Server towards Elasticsearch) is net/http\'s own timeout text', async () => {
    const url = `https://localhost:${silent.port}/`;
    const go = await real({ url, cas: [pki.certPath('fleet-ca')], responseHeaderTimeoutMs: 80 });
    const fake = await goRequest({ method: 'GET', url, tls: { certificateAuthorities: authorities(pki, 'fleet-ca') }, goRelease: '1.19', deadline: responseHeaderTimeout(80) });
    expect(go.unwrapped).toBe('net/http: timeout awaiting response headers');
    expect(fake.error).toBe(go.unwrapped);
  });
});

describe('Go 1.19 refuses the catalog\'s certificates in the words the scenarios expect', () => {
  it.each(X509_SCENARIOS)('%s', async (id) => {
    const url = `https://${hostOf(id)}:${goPeer.port(id)}/`;
    const go = await real({ url, cas: [trust.get(id)!] });
    // The fake agent as the scenario runs it: libs' full verification, against Go's own server.
    const fake = await goRequest({ method: 'GET', url, tls: { certificateAuthorities: loadCertificateAuthorities([trust.get(id)!]), verificationMode: 'full' }, goRelease: '1.19' });
    expect(go.unwrapped).toBe(expectedError(id));
    expect(fake.error).toBe(expectedError(id));
    // Go's server logs the client's refusal the same way for each.
    expect(await goPeer.logLine(id, go.localPort!)).toBe(`http: TLS handshake error from 127.0.0.1:${go.localPort}: remote error: tls: bad certificate`);
  });
});

describe('Go 1.19\'s tls.X509KeyPair and the harness\'s libs loader word swapped files alike', () => {
  /** What Go 1.19 says loading the pair (the peer's server mode exits 2 with it), and what the harness says. */
  async function both(cert: string, key: string): Promise<{ go: string; harness: string }> {
    const run = await execa(binary, ['server'], { input: JSON.stringify([{ name: 'pair', cert, key }]), reject: false });
    expect(run.exitCode).toBe(2);
    let harness = '';
    try {
      loadIdentity(cert, key);
    } catch (error) {
      harness = (error as MaterialError).libsMessage;
    }
    return { go: run.stderr.replace(/^tlspeer: /, ''), harness };
  }

  it('a key where the certificate belongs: PEM inputs may have been switched', async () => {
    const { go, harness } = await both(pki.keyPath('fleet-cert'), pki.certPath('fleet-cert'));
    expect(go).toBe('tls: failed to find certificate PEM data in certificate input, but did find a private key; PEM inputs may have been switched');
    expect(harness).toBe(go);
  });

  it('a certificate where the key belongs: found a certificate rather than a key', async () => {
    const { go, harness } = await both(pki.certPath('fleet-cert'), pki.certPath('fleet-cert'));
    expect(go).toBe('tls: found a certificate rather than a key in the PEM for the private key');
    expect(harness).toBe(go);
  });
});
