import { writeFile } from 'node:fs/promises';
import { generateKeyPairSync } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPki } from '../../src/api.js';
import { issueCa } from '../../src/pki/generate.js';
import type { Leg } from '../../src/report/leg.js';
import { cliInProcess } from '../helpers/cli.js';
import { scratchDir } from '../helpers/pki.js';

/** `install --proxy-intercept`, `--health-check` and `--proxy-target-refused` as a user types them, and their bad input. */
let dir: string;
let cleanup: () => Promise<void>;
let certs: string;
let root: string;
let rootKey: string;

beforeAll(async () => {
  ({ dir, cleanup } = await scratchDir());
  certs = path.join(dir, 'certs');
  await createPki({ dir: certs });
  const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ca = issueCa('Example Corp TLS Inspection CA', key);
  root = path.join(dir, 'inspection-ca.crt');
  rootKey = path.join(dir, 'inspection-ca.key');
  await Promise.all([writeFile(root, ca.pem), writeFile(rootKey, key.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 })]);
}, 60_000);
afterAll(async () => cleanup?.());

const BASE = [
  '--url=https://localhost:8220',
  '--fleet-server-cert=/path/to/fleet-cert', '--fleet-server-cert-key=/path/to/fleet-cert-key',
  '--fleet-server-es-ca=/path/to/es-ca', '--fleet-server-port=0',
];
const INTERCEPT = ['--proxy-url=http://127.0.0.1:0', '--proxy-intercept', '--proxy-intercept-upstream-ca=/path/to/fleet-ca'];

async function install(extra: readonly string[]): Promise<{ status: number; legs: Leg[]; err: string }> {
  const { status, out, err } = await cliInProcess(['install', ...BASE, ...extra, '--certs', certs, '--json'], dir);
  return { status, legs: status === 2 ? [] : (JSON.parse(out) as { legs: Leg[] }).legs, err };
}

const keys = (legs: readonly Leg[]) => legs.map((l) => [`${l.from}->${l.to}`, l.ok]);

describe('install --proxy-intercept', () => {
  it('enrolls when --certificate-authorities holds the proxy\'s root, and shows the minted certificate on agent → proxy and Fleet Server\'s on proxy → fleet-server', async () => {
    const { status, legs } = await install([...INTERCEPT, `--certificate-authorities=/path/to/fleet-ca,${root}`, `--proxy-intercept-ca=${root}`, `--proxy-intercept-ca-key=${rootKey}`]);
    expect(status).toBe(0);
    expect(keys(legs)).toEqual([['agent->proxy', true], ['proxy->fleet-server', true], ['fleet-server->elasticsearch', true], ['fleet-server->elasticsearch', true], ['agent->elasticsearch', true]]);
    expect(legs[0]!.serverCertificate).toMatchObject({ subject: 'CN=fleet-server,O=fleet-tls-harness', issuer: 'CN=Example Corp TLS Inspection CA,O=fleet-tls-harness' });
    expect(legs[0]!.via).toBeUndefined();
    expect(legs[1]!.serverCertificate).toMatchObject({ subject: 'CN=fleet-server,O=fleet-tls-harness', issuer: 'CN=fleet-ca,O=fleet-tls-harness' });
    expect(legs[1]!.verifiedWith?.client).toEqual({ mode: 'full', authorities: ['CN=fleet-ca,O=fleet-tls-harness'] });
  });

  it('fails with exit 1 and Go\'s unknown-authority words when the agent does not trust the proxy\'s own root', async () => {
    const { status, legs } = await install([...INTERCEPT, '--certificate-authorities=/path/to/fleet-ca']);
    expect(status).toBe(1);
    expect(legs[0]).toMatchObject({
      from: 'agent', to: 'proxy', ok: false, rejectedBy: 'client', phase: 'handshake',
      logs: { agent: 'Error detected: fail to execute request to fleet-server: x509: certificate signed by unknown authority, will retry in a moment.\nfail to enroll: fail to execute request to fleet-server: x509: certificate signed by unknown authority' },
    });
    expect(legs[0]!.logs.proxy).toMatch(/\nERROR: failure while accepting a TLS connection on conn1 local=127\.0\.0\.1:\d+ remote=127\.0\.0\.1:\d+ FD 12 flags=1: 0x[0-9a-f]+\*1$/);
  });
});

describe('install --health-check', () => {
  it('puts the balancer\'s probes before the agent, with Fleet Server\'s EOF line for each TCP probe', async () => {
    const { status, legs } = await install(['--certificate-authorities=/path/to/fleet-ca', '--health-check=tcp', '--health-check-interval=10ms', '--health-check-count=3']);
    expect(status).toBe(0);
    expect(legs[0]!.logs['fleet-server']!.split('\n')).toHaveLength(3);
    expect(legs[0]!.logs['fleet-server']!.split('\n').every((l) => /^http: TLS handshake error from 127\.0\.0\.1:\d+: EOF$/.test(l))).toBe(true);
  });
});

describe('bad input for the interception, health-check and fault flags: exit 2 and one line', () => {
  it.each([
    [['--proxy-intercept'], 'FTH_USAGE: --proxy-intercept needs --proxy-url (the proxy the agent sends CONNECT to)'],
    [['--proxy-url=socks5://127.0.0.1:0', '--proxy-intercept'], 'FTH_USAGE: --proxy-intercept needs an http:// --proxy-url (squid\'s ssl-bump port takes plain CONNECT), not socks5://'],
    [['--proxy-url=http://127.0.0.1:0', '--proxy-intercept-ca=/path/to/fleet-ca'], 'FTH_USAGE: --proxy-intercept-ca needs --proxy-intercept'],
    [[...INTERCEPT, '--proxy-intercept-ca=/path/to/fleet-ca'], 'FTH_USAGE: --proxy-intercept-ca and --proxy-intercept-ca-key go together'],
    [[...INTERCEPT, '--proxy-intercept-ca=/path/to/fleet-cert', '--proxy-intercept-ca-key=/path/to/fleet-cert-key'], 'FTH_USAGE: --proxy-intercept-ca CERTS/fleet-cert.crt: not a CA certificate (basicConstraints CA:TRUE), so nothing it signs would verify'],
    [['--health-check=icmp'], 'FTH_USAGE: --health-check: \'icmp\' is not tcp, tls or http'],
    [['--health-check=tcp', '--health-check-interval=soon'], 'FTH_USAGE: --health-check-interval: \'soon\' is not a Go duration up to 10m (5s, 250ms)'],
    [['--health-check-count=3'], 'FTH_USAGE: --health-check-count needs --health-check'],
    [['--proxy-target-refused'], 'FTH_USAGE: --proxy-target-refused needs --proxy-url'],
    [['--proxy-parent-refused'], 'FTH_USAGE: --proxy-parent-refused needs --proxy-url'],
    [['--proxy-url=socks5://127.0.0.1:0', '--proxy-parent-refused'], 'FTH_USAGE: --proxy-parent-refused needs an http:// or https:// --proxy-url (tinyproxy\'s Upstream), not socks5://'],
  ])('%j', async (extra, line) => {
    const { status, err } = await install(['--certificate-authorities=/path/to/fleet-ca', ...extra]);
    expect(status).toBe(2);
    expect(err.trim().split('\n')).toEqual([`fleet-tls: ${line.replace('CERTS', certs)}`]);
  });
});
