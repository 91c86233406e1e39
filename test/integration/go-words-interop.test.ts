import { createPrivateKey } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorities } from '../../src/api.js';
import { goRequest } from '../../src/components/go-client.js';
import { goServerDialect } from '../../src/components/go-server.js';
import { DEFAULT_GO } from '../../src/dialects/go.js';
import { parsePemCertificates } from '../../src/x509/certificate.js';
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

/**
 * Catalog scenarios whose agent certificate Fleet Server must refuse: the mutual forms of the x509
 * texts, which Go 1.19's server words `tls: failed to verify client certificate: x509: ...`
 * (handshake_server.go processCertsFromClient) and Go 1.20 on `tls: failed to verify certificate: ...`.
 */
const MUTUAL_X509_SCENARIOS = [
  'agent-fleet.mutual.agent-cert-expired',
  'agent-fleet.mutual.agent-cert-not-yet-valid',
  'agent-fleet.mutual.agent-cert-no-clientauth-eku',
  'agent-fleet.mutual.agent-cert-untrusted-ca-sent-anyway',
  'agent-fleet.mutual.agent-cert-incomplete-chain-sent-anyway',
  'agent-fleet.mutual.agent-cert-self-signed-sent-anyway',
  'agent-fleet.mutual.agent-cert-issuer-not-ca',
  'agent-fleet.mutual.agent-cert-name-not-permitted',
  'agent-fleet.mutual.agent-cert-ip-excluded',
  'agent-fleet.mutual.agent-cert-path-length-exceeded',
  'agent-fleet.mutual.agent-cert-unhandled-critical-extension',
  'agent-fleet.mutual.agent-cert-v1-intermediate',
  'agent-fleet.mutual.agent-ca-regenerated',
] as const;

/** Each mutual scenario's agent certificate, key (unencrypted) and Fleet Server client CA files. */
const mutualFiles = new Map<string, { cert: string; key: string; clientCas: string[]; alwaysSend: boolean }>();

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
  // The agent's keys are encrypted as on Elastic's page (agent-cert's passphrase); Go's peer reads plain ones.
  const plainKey = async (file: string, id: string) => {
    const plain = path.join(scratch.dir, `${id}-agent.key`);
    await writeFile(plain, createPrivateKey({ key: await readFile(file), passphrase: pki.passphrase }).export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    return plain;
  };
  const mutualSpecs = await Promise.all(MUTUAL_X509_SCENARIOS.map(async (id) => {
    const material = await materialise(scenario(id).certificates!, pki, path.join(scratch.dir, id));
    const flags = scenario(id).flags ?? {};
    const made = (value: string) => {
      const name = value.replace('/path/to/', '');
      return existsSync(path.join(material.dir, `${name}.crt`)) ? path.join(material.dir, name) : path.join(pki.dir, name);
    };
    const cert = typeof flags['elastic-agent-cert'] === 'string' ? made(flags['elastic-agent-cert']) : undefined;
    const cas = typeof flags['certificate-authorities'] === 'string' ? flags['certificate-authorities'] : '/path/to/fleet-ca,/path/to/agent-ca';
    const settings = (scenario(id).settings as { agent?: Record<string, unknown> } | undefined)?.agent ?? {};
    mutualFiles.set(id, {
      cert: cert ? `${cert}.crt` : pki.certPath('agent-cert'),
      key: await plainKey(cert ? `${cert}.key` : pki.keyPath('agent-cert'), id),
      clientCas: cas.split(',').map((ca) => `${made(ca)}.crt`),
      alwaysSend: settings['client.send_certificate'] === 'always',
    });
    return { name: id, cert: pki.certPath('fleet-cert'), key: pki.keyPath('fleet-cert'), clientCAs: mutualFiles.get(id)!.clientCas, clientAuth: 'required' as const };
  }));
  goPeer = await goServers(binary, [...specs, ...mutualSpecs]);
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

describe('Go 1.19\'s Fleet Server refuses the catalog\'s agent certificates in the mutual words', () => {
  /** The scenario's Fleet Server line (current Go), its x509 text alone, as a pattern for `{any}`. */
  const x509Of = (id: string): RegExp => {
    const line = scenario(id).expect['agent->fleet-server']!.logs!['fleet-server'] as string;
    const text = line.replace(/^.*?tls: failed to verify certificate: /, '');
    return new RegExp(`^${text.split('{any}').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.+')}$`);
  };

  it.each(MUTUAL_X509_SCENARIOS)('%s', async (id) => {
    const files = mutualFiles.get(id)!;
    const go = await real({ url: `https://localhost:${goPeer.port(id)}/`, cas: [pki.certPath('fleet-ca')], cert: files.cert, key: files.key, alwaysSend: files.alwaysSend });
    // Go 1.19 sends bad_certificate whatever the x509 error (1.20 picked unknown_ca and certificate_expired).
    expect(go.unwrapped).toBe('remote error: tls: bad certificate');
    const line = await goPeer.logLine(id, go.localPort!);
    const prefix = `http: TLS handshake error from 127.0.0.1:${go.localPort}: tls: failed to verify client certificate: `;
    expect(line?.startsWith(prefix)).toBe(true);
    const x509 = line!.slice(prefix.length);
    expect(x509).toMatch(x509Of(id));
    // The fake Fleet Server's judgement of the same chain, as Go 1.19 and as the Go the catalog runs (DEFAULT_GO).
    const chain = parsePemCertificates(await readFile(files.cert, 'utf8'));
    const clientCas = files.clientCas.flatMap((ca) => loadCertificateAuthorities([ca]));
    // Each reads its own clock a moment apart: the current time is the one word that may differ.
    const now = (text: string | undefined) => text?.replace(/current time \S+ is/, 'current time NOW is');
    expect(now(goServerDialect('1.19', clientCas).verifyClient(chain, false, 'required')?.error.message)).toBe(now(`tls: failed to verify client certificate: ${x509}`));
    expect(now(goServerDialect(DEFAULT_GO, clientCas).verifyClient(chain, false, 'required')?.error.message)).toBe(now(`tls: failed to verify certificate: ${x509}`));
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
