import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPki } from '../../src/api.js';
import { legKey, type Leg } from '../../src/report/leg.js';
import { cliInProcess } from '../helpers/cli.js';
import { scratchDir } from '../helpers/pki.js';

/** `install --proxy-url ...` as a user types it: the agent's proxy dialling, the bypass and bad input. */
let dir: string;
let cleanup: () => Promise<void>;
let certs: string;

beforeAll(async () => {
  ({ dir, cleanup } = await scratchDir());
  certs = path.join(dir, 'certs');
  await createPki({ dir: certs });
}, 60_000);
afterAll(async () => cleanup?.());

const BASE = [
  '--url=https://localhost:8220', '--certificate-authorities=/path/to/fleet-ca',
  '--fleet-server-cert=/path/to/fleet-cert', '--fleet-server-cert-key=/path/to/fleet-cert-key',
  '--fleet-server-es-ca=/path/to/es-ca', '--fleet-server-port=0',
];

async function install(extra: readonly string[]): Promise<{ status: number; legs: Leg[]; err: string; notes: string[] }> {
  const { status, out, err } = await cliInProcess(['install', ...BASE, ...extra, '--certs', certs, '--json'], dir);
  const report = status === 2 ? { legs: [], notes: [] } : (JSON.parse(out) as { legs: Leg[]; notes?: string[] });
  return { status, legs: report.legs, err, notes: report.notes ?? [] };
}

describe('install --proxy-url', () => {
  it('enrolls through a SOCKS5 proxy: agent → proxy, then agent → fleet-server via the proxy', async () => {
    const { legs } = await install(['--proxy-url=socks5://127.0.0.1:0']);
    expect(legs.map((l) => [legKey(l), l.ok, l.via ?? null])).toEqual([
      ['agent->proxy', true, null], ['agent->fleet-server', true, 'proxy'], ['fleet-server->elasticsearch', true, null],
      // The policy keeps the enrollment's proxy: the agent's next connection goes through it too.
      ['agent->proxy (policy)', true, null], ['agent->fleet-server (policy)', true, 'proxy'], ['fleet-server->elasticsearch (policy)', true, null],
      ['agent->elasticsearch', true, null],
    ]);
    expect(legs[0]!.logs.proxy).toMatch(/^pass\(1\): tcp\/accept \[: 127\.0\.0\.1\.\d+ 127\.0\.0\.1\.\d+\npass\(1\): tcp\/connect \[: .* localhost\.8220/);
  });

  it('fails with the proxy\'s 407 when it wants other credentials, in the agent\'s words', async () => {
    const { legs } = await install(['--proxy-url=http://alice:pw@127.0.0.1:0', '--proxy-require-auth=alice:other']);
    expect(legs[0]).toMatchObject({
      from: 'agent', to: 'proxy', ok: false, rejectedBy: 'server', phase: 'http', http: { method: 'CONNECT', path: 'localhost:8220', status: 407 },
      logs: { agent: 'Error detected: fail to execute request to fleet-server: Proxy Authentication Required, will retry in a moment.\nfail to enroll: fail to execute request to fleet-server: Proxy Authentication Required' },
    });
    expect(legs[1]).toMatchObject({ to: 'fleet-server', skipped: 'the proxy did not open a connection to Fleet Server' });
  });

  it('is not used while the agent bootstraps its own Fleet Server (--fleet-server-es), as the real agent does', async () => {
    const { legs, notes } = await install(['--proxy-url=http://127.0.0.1:9', '--fleet-server-es=https://localhost:9200', '--fleet-server-service-token=T']);
    expect(legs.map((l) => legKey(l))).toEqual(['agent->fleet-server', 'fleet-server->elasticsearch', 'agent->fleet-server (policy)', 'fleet-server->elasticsearch (policy)', 'agent->elasticsearch']);
    expect(legs[0]).toMatchObject({ ok: true });
    // Port 9 has no proxy: the enrollment only works because the agent never dials it.
    const text = await cliInProcess(['install', ...BASE, '--proxy-url=http://127.0.0.1:9', '--fleet-server-es=https://localhost:9200', '--fleet-server-service-token=T', '--certs', certs], dir);
    expect(text.out).toContain('note: --fleet-server-es: the agent enrolls into the Fleet Server it bootstraps on this host directly, without --proxy-url, as the real agent does\n');
    expect(notes).toEqual([]);
  });
});

describe('install --proxy-url with bad input: exit 2 and one line', () => {
  it.each([
    ['http://[::1', "FTH_USAGE: --proxy-url: 'http://[::1' is not a URL"],
    ['ftp://127.0.0.1:21', 'FTH_USAGE: --proxy-url: unsupported proxy scheme "ftp" (http, https or socks5)'],
  ])('refuses %s', async (url, line) => {
    const { status, err } = await install([`--proxy-url=${url}`]);
    expect(status).toBe(2);
    expect(err.trim().split('\n')).toEqual([`fleet-tls: ${line}`]);
  });

  it('refuses a proxy port that is taken', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = (taken.address() as net.AddressInfo).port;
      const { status, err } = await install([`--proxy-url=http://127.0.0.1:${port}`]);
      expect(status).toBe(2);
      expect(err.trim().split('\n')).toEqual([`fleet-tls: FTH_PORT_IN_USE: proxy: port ${port} on 127.0.0.1 is already in use`]);
    } finally {
      taken.close();
    }
  });
});
