import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPki } from '../../src/api.js';
import type { Leg } from '../../src/report/leg.js';
import { cliInProcess } from '../helpers/cli.js';
import { scratchDir } from '../helpers/pki.js';

/** `install --secure-proxy ...` as a user types it: both placements, both hops' TLS, and bad input. */
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
  '--fleet-server-cert=/path/to/fleet-cert', '--fleet-server-cert-key=/path/to/fleet-cert-key', '--fleet-server-port=0',
];

async function install(extra: readonly string[]): Promise<{ status: number; legs: Leg[]; err: string }> {
  const { status, out, err } = await cliInProcess(['install', ...BASE, ...extra, '--certs', certs, '--json'], dir);
  return { status, legs: status === 2 ? [] : (JSON.parse(out) as { legs: Leg[] }).legs, err };
}

const hop = (leg: Leg) => [`${leg.from}->${leg.to}`, leg.ok, leg.tls?.version ?? null, leg.serverCertificate?.issuer ?? null, leg.clientCertificate?.presented ?? null];

describe('install --secure-proxy', () => {
  it('in front of Elasticsearch: Fleet Server verifies the proxy with --fleet-server-es-ca and presents its certificate to it, the proxy verifies Elasticsearch', async () => {
    const { status, legs } = await install([
      '--fleet-server-es=https://localhost:9200', '--fleet-server-service-token=T', '--fleet-server-es-ca=/path/to/fleet-ca',
      '--fleet-server-es-cert=/path/to/fleet-es-cert', '--fleet-server-es-cert-key=/path/to/fleet-es-cert-key',
      '--secure-proxy', '--secure-proxy-in-front-of=elasticsearch', '--secure-proxy-cert=/path/to/fleet-cert', '--secure-proxy-cert-key=/path/to/fleet-cert-key',
      '--secure-proxy-client-auth=required', '--secure-proxy-upstream-ca=/path/to/es-ca', '--tls=1.3',
    ]);
    expect(status).toBe(0);
    expect(legs.map(hop)).toEqual([
      ['agent->fleet-server', true, '1.3', 'CN=fleet-ca,O=fleet-tls-harness', false],
      ['fleet-server->proxy', true, '1.3', 'CN=fleet-ca,O=fleet-tls-harness', true],
      ['proxy->elasticsearch', true, '1.3', 'CN=es-ca,O=fleet-tls-harness', false],
      // The policy: the agent's next checkin, Fleet Server's test of its output at the proxy (as the
      // output names it), then the proxy's own hop to Elasticsearch for it.
      ['agent->fleet-server', true, '1.3', 'CN=fleet-ca,O=fleet-tls-harness', false],
      ['fleet-server->proxy', true, '1.3', 'CN=fleet-ca,O=fleet-tls-harness', true],
      ['proxy->elasticsearch', true, '1.3', 'CN=es-ca,O=fleet-tls-harness', false],
      ['agent->elasticsearch', true, '1.3', 'CN=fleet-ca,O=fleet-tls-harness', true],
    ]);
    expect(legs[1]!.verifiedWith).toEqual({ client: { mode: 'full', authorities: ['CN=fleet-ca,O=fleet-tls-harness'] }, server: ['CN=es-ca,O=fleet-tls-harness'] });
    expect(legs[2]!.verifiedWith?.client).toEqual({ mode: 'full', authorities: ['CN=es-ca,O=fleet-tls-harness'] });
    expect(legs.map((l) => l.stage ?? null)).toEqual([null, null, null, 'policy', 'policy', 'policy', null]);
    expect(legs[6]!.via).toBe('proxy');
  });

  it('in front of Fleet Server with TLS behind it: a Fleet Server requiring client certificates refuses a proxy without one, in Go\'s words on its side and nginx\'s on the proxy\'s', async () => {
    const { status, legs } = await install(['--fleet-server-es-ca=/path/to/es-ca', '--secure-proxy', '--secure-proxy-upstream-ca=/path/to/fleet-ca', '--fleet-server-client-auth=required', '--tls=1.2']);
    expect(status).toBe(1);
    expect(legs[0]).toMatchObject({ from: 'agent', to: 'proxy', ok: false, rejectedBy: 'server', phase: 'http', http: { status: 502 } });
    expect(legs[1]).toMatchObject({ from: 'proxy', to: 'fleet-server', ok: false, rejectedBy: 'server', phase: 'handshake', alert: 'bad_certificate' });
    expect(legs[1]!.logs['fleet-server']).toMatch(/^http: TLS handshake error from 127\.0\.0\.1:\d+: tls: client didn't provide a certificate$/);
    expect(legs[1]!.logs.proxy).toMatch(/^SSL_do_handshake\(\) failed \(SSL: error:0A000412:SSL routines::sslv3 alert bad certificate:SSL alert number 42\) while SSL handshaking to upstream, /);
    expect(legs[1]!.timeline?.some((e) => e.what === 'Alert' && e.sender === 'server')).toBe(true);
  });

  it('--secure-proxy-upstream-cert gets it through, and the proxy → fleet-server leg shows the certificate it presented', async () => {
    const { status, legs } = await install([
      '--fleet-server-es-ca=/path/to/es-ca', '--secure-proxy', '--secure-proxy-upstream-ca=/path/to/fleet-ca', '--fleet-server-client-auth=required',
      '--certificate-authorities=/path/to/fleet-ca,/path/to/es-ca',
      '--secure-proxy-upstream-cert=/path/to/fleet-es-cert', '--secure-proxy-upstream-cert-key=/path/to/fleet-es-cert-key',
    ]);
    expect(status).toBe(0);
    expect(legs[1]).toMatchObject({ from: 'proxy', to: 'fleet-server', ok: true, clientCertificate: { presented: true } });
  });
});

describe('install --secure-proxy with bad input: exit 2 and one line', () => {
  it.each([
    [['--secure-proxy', '--secure-proxy-in-front-of=kibana'], "FTH_USAGE: --secure-proxy-in-front-of: 'kibana' is not fleet-server or elasticsearch"],
    [['--secure-proxy', '--secure-proxy-upstream-scheme=ftp'], "FTH_USAGE: --secure-proxy-upstream-scheme: 'ftp' is not http or https"],
    [['--secure-proxy', '--secure-proxy-upstream-cert=/path/to/fleet-es-cert'], 'FTH_USAGE: --secure-proxy-upstream-cert and --secure-proxy-upstream-cert-key go together'],
    [['--secure-proxy-upstream-name=fleet'], 'FTH_USAGE: --secure-proxy-upstream-name needs --secure-proxy'],
    [['--secure-proxy', '--secure-proxy-upstream-name=a b'], "FTH_USAGE: --secure-proxy-upstream-name: 'a b' is not a host name"],
  ])('refuses %j', async (flags, line) => {
    const { status, err } = await install(flags);
    expect(status).toBe(2);
    expect(err.trim().split('\n')).toEqual([`fleet-tls: ${line}`]);
  });

  it('names the flag of an upstream certificate that is not there', async () => {
    const { status, err } = await install(['--secure-proxy', '--secure-proxy-upstream-cert=/nonexistent/proxy.crt', '--secure-proxy-upstream-cert-key=/nonexistent/proxy.key']);
    expect(status).toBe(2);
    expect(err.trim().split('\n')).toHaveLength(1);
    expect(err).toMatch(/^fleet-tls: FTH_FILE_UNREADABLE: --secure-proxy-upstream-cert\b.*\/nonexistent\/proxy\.crt/);
  });

  it('documents every secure-proxy flag in --help', async () => {
    const { out } = await cliInProcess(['install', '--help'], dir);
    for (const flag of ['--secure-proxy-in-front-of', '--secure-proxy-upstream-cert', '--secure-proxy-upstream-cert-key', '--secure-proxy-upstream-name', '--secure-proxy-upstream-scheme']) {
      expect(out).toContain(flag);
    }
  });
});

describe('the proxy\'s upstream leg says who refused whom when nothing was passed on', () => {
  const skipped = (legs: readonly Leg[], from: string, to: string) => legs.filter((l) => l.from === from && l.to === to).map((l) => [l.stage ?? 'enrollment', l.skipped ?? null]);

  it('the agent refused the proxy\'s certificate: no request reached the proxy, which answered nobody', async () => {
    const { legs } = await install(['--fleet-server-es-ca=/path/to/es-ca', '--secure-proxy', '--secure-proxy-cert=/path/to/es-cert', '--secure-proxy-cert-key=/path/to/es-cert-key']);
    expect(legs.find((l) => l.from === 'agent' && l.to === 'proxy')?.rejectedBy).toBe('client');
    expect(skipped(legs, 'proxy', 'fleet-server')).toEqual([['enrollment', 'The agent refused the proxy in the TLS handshake, so no request reached the proxy to pass on']]);
  });

  it('the proxy refused the agent (no client certificate): the proxy answered the agent itself', async () => {
    const { legs } = await install(['--fleet-server-es-ca=/path/to/es-ca', '--fleet-server-insecure-http', '--secure-proxy', '--secure-proxy-client-auth=required']);
    expect(skipped(legs, 'proxy', 'fleet-server')).toEqual([['enrollment', 'the proxy answered the agent itself and forwarded nothing']]);
  });

  it('Fleet Server refused the certificate of the proxy in front of Elasticsearch: no request reached the proxy', async () => {
    const { legs } = await install([
      '--fleet-server-es=https://localhost:9200', '--fleet-server-service-token=T', '--fleet-server-es-ca=/path/to/es-ca',
      '--secure-proxy', '--secure-proxy-in-front-of=elasticsearch', '--secure-proxy-cert=/path/to/fleet-cert', '--secure-proxy-cert-key=/path/to/fleet-cert-key',
      '--secure-proxy-upstream-ca=/path/to/es-ca',
    ]);
    expect(legs.find((l) => l.from === 'fleet-server' && l.to === 'proxy')?.rejectedBy).toBe('client');
    expect(skipped(legs, 'proxy', 'elasticsearch')).toEqual([['enrollment', 'Fleet Server refused the proxy in the TLS handshake, so no request reached the proxy to pass on']]);
  });
});
