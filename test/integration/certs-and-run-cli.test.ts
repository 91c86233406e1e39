import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { fleetTls } from '../helpers/cli.js';
import { scratchDir } from '../helpers/pki.js';

// Several CLI processes per test: on a loaded machine each start takes seconds (no timing is asserted).
vi.setConfig({ testTimeout: 90_000 });

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => { ({ dir, cleanup } = await scratchDir()); });
afterAll(() => cleanup());

const openssl = (args: readonly string[]) => execa('openssl', args, { reject: false });

describe('fleet-tls certs', () => {
  let out: string;
  beforeAll(async () => {
    out = path.join(dir, 'pki');
    const result = await fleetTls(['certs', '--out', out]);
    expect(result.exitCode).toBe(0);
  });

  it('writes the seven objects of the page, keys 0600, and a passphrase file without a newline', async () => {
    for (const name of ['fleet-ca', 'agent-ca', 'es-ca', 'fleet-cert', 'agent-cert', 'es-cert', 'fleet-es-cert']) {
      expect((await stat(path.join(out, `${name}.crt`))).mode & 0o777).toBe(0o644);
      expect((await stat(path.join(out, `${name}.key`))).mode & 0o777).toBe(0o600);
    }
    expect((await stat(path.join(out, 'agent-cert-key-passphrase'))).mode & 0o777).toBe(0o600);
    const passphrase = await readFile(path.join(out, 'agent-cert-key-passphrase'), 'utf8');
    expect(passphrase).not.toMatch(/\s$/);
    expect(await readFile(path.join(out, 'agent-cert.key'), 'utf8')).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
  });

  it('makes chains that openssl verify accepts, each leaf under the CA of the page\'s table', async () => {
    for (const [leaf, ca, purpose] of [['fleet-cert', 'fleet-ca', 'sslserver'], ['es-cert', 'es-ca', 'sslserver'], ['agent-cert', 'agent-ca', 'sslclient'], ['fleet-es-cert', 'es-ca', 'sslclient']]) {
      const result = await openssl(['verify', '-purpose', purpose!, '-CAfile', path.join(out, `${ca}.crt`), path.join(out, `${leaf}.crt`)]);
      expect(result.stdout).toBe(`${path.join(out, `${leaf}.crt`)}: OK`);
    }
  });

  it('makes CAs with critical CA:TRUE and keyCertSign, and leaves with their usage and SANs', async () => {
    const ca = (await openssl(['x509', '-in', path.join(out, 'fleet-ca.crt'), '-noout', '-text'])).stdout;
    expect(ca).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE/);
    expect(ca).toMatch(/X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign/);
    const leaf = (await openssl(['x509', '-in', path.join(out, 'fleet-cert.crt'), '-noout', '-text'])).stdout;
    expect(leaf).toMatch(/X509v3 Extended Key Usage: \s*TLS Web Server Authentication/);
    expect(leaf).toMatch(/DNS:localhost, DNS:fleet-server, IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1/);
    const agent = (await openssl(['x509', '-in', path.join(out, 'agent-cert.crt'), '-noout', '-text'])).stdout;
    expect(agent).toMatch(/X509v3 Extended Key Usage: \s*TLS Web Client Authentication/);
  });

  it('encrypts the agent key so that openssl opens it with the passphrase file', async () => {
    const result = await openssl(['pkey', '-in', path.join(out, 'agent-cert.key'), '-passin', `file:${path.join(out, 'agent-cert-key-passphrase')}`, '-noout']);
    expect(result.exitCode).toBe(0);
  });

  it('reuses a valid PKI on the next run', async () => {
    const before = await readFile(path.join(out, 'fleet-ca.crt'), 'utf8');
    const result = await fleetTls(['certs', '--out', out, '--json']);
    const report = JSON.parse(result.stdout) as { objects: Array<{ name: string; action: string }> };
    expect(report.objects.map((o) => o.action)).toEqual(new Array(7).fill('reused'));
    expect(await readFile(path.join(out, 'fleet-ca.crt'), 'utf8')).toBe(before);
  });

  it('refuses to overwrite a file it did not write, leaving it as it was, until --force', async () => {
    const foreign = path.join(dir, 'foreign');
    await fleetTls(['certs', '--out', foreign]);
    const mine = '-----BEGIN CERTIFICATE-----\nnot yours\n-----END CERTIFICATE-----\n';
    await writeFile(path.join(foreign, 'fleet-ca.crt'), mine);
    const refused = await fleetTls(['certs', '--out', foreign]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toBe(`fleet-tls: FTH_PKI_FOREIGN_FILE: ${path.join(foreign, 'fleet-ca.crt')} was not written by fleet-tls and would be replaced (unreadable); use --force to replace it or choose another directory`);
    expect(await readFile(path.join(foreign, 'fleet-ca.crt'), 'utf8')).toBe(mine);
    const forced = await fleetTls(['certs', '--out', foreign, '--force']);
    expect(forced.exitCode).toBe(0);
    expect(await readFile(path.join(foreign, 'fleet-ca.crt'), 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----\nMII/);
  });

  it('makes ECDSA keys with --key-type ecdsa and refuses an unknown key type', async () => {
    const ec = path.join(dir, 'ec');
    expect((await fleetTls(['certs', '--out', ec, '--key-type', 'ecdsa'])).exitCode).toBe(0);
    expect((await openssl(['pkey', '-in', path.join(ec, 'fleet-cert.key'), '-noout', '-text'])).stdout).toMatch(/ASN1 OID: prime256v1/);
    const bad = await fleetTls(['certs', '--out', ec, '--key-type', 'dsa']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toBe("fleet-tls: FTH_USAGE: --key-type: 'dsa' is not one of rsa, ecdsa");
  });
});

describe('fleet-tls run', () => {
  it('creates the PKI when --certs is missing and prints the JSON report of PRODUCT.md', async () => {
    const certs = path.join(dir, 'fresh-certs');
    const result = await fleetTls(['run', 'flow.one-way', 'flow.mutual', '--json', '--certs', certs]);
    expect(result.exitCode).toBe(0);
    const report = JSON.parse(result.stdout) as { ok: boolean; scenarios: Array<Record<string, unknown> & { legs: Array<Record<string, unknown>> }> };
    expect(report.ok).toBe(true);
    expect(report.scenarios.map((s) => `${s.id as string}@${s.tls as string}`)).toEqual(['flow.one-way@1.2', 'flow.one-way@1.3', 'flow.mutual@1.2', 'flow.mutual@1.3']);
    for (const scenario of report.scenarios) {
      expect(Object.keys(scenario)).toEqual(expect.arrayContaining(['id', 'title', 'tls', 'pass', 'expected', 'legs']));
      for (const leg of scenario.legs) {
        expect(Object.keys(leg)).toEqual(expect.arrayContaining(['from', 'to', 'url', 'ok', 'tls', 'serverCertificate', 'clientCertificate', 'rejectedBy', 'phase', 'alert', 'logs', 'node']));
        expect(Object.keys(leg.serverCertificate as object).sort()).toEqual(['issuer', 'notAfter', 'notBefore', 'san', 'sha256', 'subject']);
      }
    }
    expect((await stat(path.join(certs, 'fleet-ca.key'))).mode & 0o777).toBe(0o600);
  });

  it('runs many scenarios side by side and reports each with its legs, the policy\'s after enrollment\'s', async () => {
    const ids = [
      'agent-fleet.one-way.agent-lacks-fleet-ca', 'agent-fleet.one-way.fleet-cert-expired', 'agent-fleet.one-way.fleet-cert-wrong-host',
      'agent-fleet.one-way.fleet-cert-self-signed', 'agent-fleet.one-way.fleet-cert-wrong-eku', 'agent-fleet.one-way.ip-without-ip-san',
      'fleet-es.one-way.fleet-lacks-es-ca', 'fleet-es.one-way.es-cert-expired', 'fleet-es.one-way.es-cert-wrong-host',
      'fleet-es.fingerprint.no-match', 'fleet-es.fingerprint.with-colons', 'output.one-way.output-lacks-es-ca',
    ];
    const result = await fleetTls(['run', ...ids, '--tls', '1.3', '--json', '--certs', path.join(dir, 'fresh-certs')]);
    expect(result.exitCode).toBe(0);
    const report = JSON.parse(result.stdout) as { ok: boolean; scenarios: Array<{ id: string; pass: boolean; legs: Array<{ from: string; to: string; ok: boolean; stage?: string }> }> };
    const order = [...ids].sort((a, b) => (a < b ? -1 : 1));
    expect(report.scenarios.map((s) => s.id).sort()).toEqual(order);
    expect(report.scenarios.every((s) => s.pass)).toBe(true);
    const output = report.scenarios.find((s) => s.id === 'output.one-way.output-lacks-es-ca')!;
    expect(output.legs.map((l) => `${l.from}->${l.to}${l.stage ? ` (${l.stage})` : ''}:${l.ok}`)).toEqual([
      'agent->fleet-server:true', 'fleet-server->elasticsearch:true', 'agent->fleet-server (policy):true', 'fleet-server->elasticsearch (policy):true', 'agent->elasticsearch:false',
    ]);
  });

  it('a batch large enough for the helper thread reports what one thread reports, in the order asked', async () => {
    const ids = [
      'agent-fleet.one-way.agent-lacks-fleet-ca', 'agent-fleet.one-way.fleet-cert-expired', 'agent-fleet.one-way.fleet-cert-wrong-host',
      'agent-fleet.mutual.agent-has-no-cert', 'agent-fleet.mutual.agent-cert-untrusted-ca', 'fleet-es.one-way.fleet-lacks-es-ca',
      'fleet-es.one-way.es-cert-expired', 'fleet-es.fingerprint.no-match', 'output.one-way.output-lacks-es-ca',
      'proxy.forward.bootstrap-bypasses-proxy', 'flow.one-way', 'flow.mutual',
    ];
    const certs = path.join(dir, 'fresh-certs');
    // 24 runs take the helper thread; --keylog needs every leg's wire, so that run stays on one thread.
    const both = await fleetTls(['run', ...ids, '--json', '--certs', certs]);
    const one = await fleetTls(['run', ...ids, '--json', '--certs', certs, '--keylog', path.join(dir, 'one-thread.keys')]);
    expect([both.exitCode, one.exitCode]).toEqual([0, 0]);
    const same = (stdout: string) => JSON.parse(stdout, (key, value: unknown) => {
      if (key === 'durationMs' || key === 'at') return 0;
      if ((key === 'sha256' || key === 'notAfter' || key === 'notBefore') && typeof value === 'string') return 'FRESH';
      return typeof value === 'string'
        ? value.replace(/(127\.0\.0\.1|\[::1\]|localhost):\d+/g, '$1:PORT').replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, 'TIME')
          .replace(/\b[0-9A-F]{16}:error:/g, 'THREAD:error:').replace(/fleet-tls-run-[\w-]+/g, 'fleet-tls-run-DIR')
          // Each enrollment gets an agent id of its own (the policy's acknowledgement names it).
          .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g, 'AGENT-ID')
        : value;
    }) as { scenarios: Array<{ id: string; tls: string }> };
    const report = same(both.stdout);
    expect(report.scenarios.map((s) => `${s.id}@${s.tls}`)).toEqual(ids.flatMap((id) => [`${id}@1.2`, `${id}@1.3`]));
    expect(report).toEqual(same(one.stdout));
  });

  it('writes JUnit XML with one test case per scenario and TLS version', async () => {
    const file = path.join(dir, 'junit.xml');
    const result = await fleetTls(['run', 'agent-fleet.one-way.agent-lacks-fleet-ca', '--junit', file, '--certs', path.join(dir, 'fresh-certs')]);
    expect(result.exitCode).toBe(0);
    const xml = await readFile(file, 'utf8');
    expect(xml.match(/<testcase /g)).toHaveLength(2);
    expect(xml).toContain('name="agent-fleet.one-way.agent-lacks-fleet-ca@tls1.2"');
    expect(result.stdout).toMatch(/\n2 passed, 0 failed\n/);
  });

  it('exits 1 when a scenario does not behave as its file expects', async () => {
    const catalog = path.join(dir, 'catalog');
    await execa('mkdir', ['-p', path.join(catalog, 'scenarios')]);
    await writeFile(path.join(catalog, 'scenarios', 'wrong.expectation.yaml'), [
      'id: wrong.expectation', 'title: expects the one-way flow to fail', 'flow: one-way',
      'expect:', '  agent->fleet-server: { ok: false }', '  fleet-server->elasticsearch: { ok: true }', '',
    ].join('\n'));
    const result = await fleetTls(['run', 'wrong.expectation', '--tls', '1.3', '--catalog', catalog, '--certs', path.join(dir, 'fresh-certs')]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain('mismatch agent->fleet-server ok: expected false, got true');
    expect(result.stdout).toMatch(/\n0 passed, 1 failed\n/);
  });

  it('exits 2 with one line for an unknown scenario or TLS version', async () => {
    const unknown = await fleetTls(['run', 'no.such.scenario', '--certs', path.join(dir, 'fresh-certs')]);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toBe("fleet-tls: FTH_SCENARIO_UNKNOWN: no scenario 'no.such.scenario'; `fleet-tls scenarios` lists them");
    const version = await fleetTls(['run', '--tls', '1.4']);
    expect(version.exitCode).toBe(2);
    expect(version.stderr).toBe("fleet-tls: FTH_USAGE: --tls: '1.4' is not one of 1.2, 1.3, both");
  });

  it('lists the catalog', async () => {
    const result = await fleetTls(['scenarios']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout.split('\n')[0]).toMatch(/^flow\.(one-way|mutual) /);
    const count = Number(/\n(\d+) scenarios$/.exec(result.stdout)?.[1]);
    expect(count).toBe(result.stdout.split('\n').length - 1);
    expect(count).toBeGreaterThanOrEqual(35);
  });
});
