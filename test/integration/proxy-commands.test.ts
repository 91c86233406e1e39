import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startForwardProxy } from '../../src/index.js';
import { loadIdentity } from '../../src/tls/material.js';
import type { Pki } from '../../src/pki/store.js';
import type { Leg } from '../../src/report/leg.js';
import { cliInProcess, fleetTls } from '../helpers/cli.js';
import { freePort } from '../helpers/net.js';
import { scratchDir, sharedPki } from '../helpers/pki.js';
import { startDanted, startTinyproxy } from '../helpers/proxy-peers.js';
import { serve, type Served } from '../helpers/serve.js';
import { settledLines } from '../helpers/tools.js';

/**
 * `serve` with its three proxies and `probe --proxy-url` through them, as a user runs them (the
 * built CLI as child processes), with the same probes through Debian's tinyproxy and danted: the
 * agent's words must not tell the fake proxy from the real one.
 */
let pki: Pki;
let dir: string;
let cleanup: () => Promise<void>;
let served: Served;
let ready: Record<string, string>;
let fleetPort: number;
let closed: number;
let forbidden: number;

beforeAll(async () => {
  pki = await sharedPki();
  ({ dir, cleanup } = await scratchDir());
  [fleetPort, closed, forbidden] = await Promise.all([freePort(), freePort(), freePort()]);
  served = await serve(pki.dir, [
    '--fleet-server-port', String(fleetPort),
    '--forward-proxy', '0', '--forward-proxy-auth', 'alice:s3cret', '--forward-proxy-connect-ports', `${fleetPort},${closed}`,
    '--socks-proxy', '0', '--socks-proxy-auth', 'alice:s3cret',
    '--secure-proxy', '0', '--secure-proxy-client-auth', 'required',
  ]);
  ready = served.ready as unknown as Record<string, string>;
}, 60_000);

afterAll(async () => {
  await served?.stop('SIGINT');
  await cleanup?.();
});

interface Probed { status: number; full: string; legs: Leg[]; err: string }

/** `fleet-tls probe --json` through a proxy, in this process (the same runCli as the binary): status, the full mode's verdict, the legs. */
async function probe(url: string, extra: readonly string[]): Promise<Probed> {
  const { status: exitCode, out: stdout, err: stderr } = await cliInProcess(['probe', url, '-a', pki.certPath('fleet-ca'), '--json', ...extra], dir);
  const result = exitCode === 2 ? { modes: { full: { message: '' } }, legs: [] } : JSON.parse(stdout) as { modes: { full: { message: string } }; legs: Leg[] };
  return { status: exitCode ?? -1, full: result.modes.full.message, legs: result.legs, err: stderr };
}

const fleetUrl = (port: number) => `https://127.0.0.1:${port}/api/status`;
const enrollError = (words: string) => `fail to enroll: fail to execute request to fleet-server: ${words}`;
const withPort = (url: string, credentials = '') => url.replace('://', `://${credentials}`);

describe('serve with --forward-proxy, --socks-proxy and --secure-proxy', () => {
  it('prints each proxy\'s URL when ready, on the --host address', () => {
    expect(ready.forwardProxy).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(ready.socksProxy).toMatch(/^socks5:\/\/127\.0\.0\.1:\d+$/);
    expect(ready.secureProxy).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('the secure proxy presents fleet-cert, asks for agent-ca certificates, and passes the agent\'s request to Fleet Server', async () => {
    const url = fleetUrl(Number(new URL(ready.secureProxy!).port));
    const withCert = await probe(url, [
      '--elastic-agent-cert', pki.certPath('agent-cert'), '--elastic-agent-cert-key', pki.keyPath('agent-cert'),
      '--elastic-agent-cert-key-passphrase', pki.passphrasePath,
    ]);
    expect([withCert.status, withCert.full, withCert.legs.map((l) => [l.to, l.ok, l.http?.status])]).toEqual([0, 'verified; HTTP 200', [['fleet-server', true, 200]]]);
    expect(withCert.legs[0]!.serverCertificate!.subject).toBe('CN=fleet-server,O=fleet-tls-harness');
    // Without a certificate nginx still completes the handshake, answers 400 and logs it in its words.
    const without = await probe(url, []);
    expect(without.legs[0]!.http?.status).toBe(400);
    const line = await served.waitForLog(/client sent no required SSL certificate/);
    expect(line).toMatch(new RegExp(`^\\*\\d+ client sent no required SSL certificate while reading client request headers, client: 127\\.0\\.0\\.1, server: , request: "GET /api/status HTTP/1\\.1", host: "127\\.0\\.0\\.1:${new URL(url).port}"$`));
    expect(served.logs().find((l) => l.message === line)?.component).toBe('secure-proxy');
  });
});

describe('probe --proxy-url through the fake proxies of serve and through tinyproxy and dante', () => {
  it('CONNECT: the same words through tinyproxy and the fake for a missing password (407), a port it refuses (403), a target that refuses (500), and a tunnel', { timeout: 60_000 }, async () => {
    const real = await startTinyproxy(dir, { auth: { username: 'alice', password: 's3cret' }, connectPorts: [fleetPort, closed] });
    try {
      const cases: Array<[string, number, number, string]> = [
        ['', fleetPort, 407, enrollError('Proxy Authentication Required')],
        ['alice:s3cret@', forbidden, 403, enrollError('Access violation')],
        ['alice:s3cret@', closed, 500, enrollError('Unable to connect')],
        ['alice:s3cret@', fleetPort, 200, 'verified; HTTP 200'],
      ];
      for (const [credentials, port, status, words] of cases) {
        const [viaReal, viaFake] = await Promise.all([
          probe(fleetUrl(port), ['--proxy-url', `http://${credentials}127.0.0.1:${real.port}`]),
          probe(fleetUrl(port), ['--proxy-url', withPort(ready.forwardProxy!, credentials)]),
        ]);
        for (const probed of [viaReal, viaFake]) {
          expect([probed.status, probed.full]).toEqual([status === 200 ? 0 : 1, words]);
          expect(probed.legs[0]).toMatchObject({ from: 'agent', to: 'proxy', ok: status === 200, http: { method: 'CONNECT', path: `127.0.0.1:${port}`, status } });
          expect(probed.legs[1]).toMatchObject(status === 200 ? { to: 'fleet-server', ok: true, via: 'proxy' } : { to: 'fleet-server', skipped: 'the proxy did not open a connection to the server' });
        }
      }
      // serve prints the fake's lines in tinyproxy's words, under its own name.
      const lines = served.logs().filter((l) => l.component === 'forward-proxy').map((l) => l.message);
      expect(lines).toContain(`Refused CONNECT method on port ${forbidden}`);
      expect(lines).toContain(`opensock: Could not establish a connection to 127.0.0.1:${closed}`);
    } finally {
      await real.stop();
    }
  });

  it('SOCKS5: the same words through danted and the fake without credentials and with unknown ones; the right ones tunnel', { timeout: 60_000 }, async () => {
    const real = await startDanted(dir, { username: true });
    try {
      for (const [credentials, words] of [['', 'no acceptable authentication methods'], ['bob:x@', 'username/password authentication failed']] as const) {
        const [viaReal, viaFake] = await Promise.all([
          probe(fleetUrl(fleetPort), ['--proxy-url', `socks5://${credentials}127.0.0.1:${real.port}`]),
          probe(fleetUrl(fleetPort), ['--proxy-url', withPort(ready.socksProxy!, credentials)]),
        ]);
        for (const [probed, port] of [[viaReal, real.port], [viaFake, Number(new URL(ready.socksProxy!).port)]] as const) {
          expect([probed.status, probed.full]).toEqual([1, enrollError(`socks connect tcp 127.0.0.1:${port}->127.0.0.1:${fleetPort}: ${words}`)]);
          expect(probed.legs[0]).toMatchObject({ to: 'proxy', ok: false, rejectedBy: 'server', phase: 'connect' });
        }
      }
      const tunnel = await probe(fleetUrl(fleetPort), ['--proxy-url', withPort(ready.socksProxy!, 'alice:s3cret@')]);
      expect([tunnel.status, tunnel.full, tunnel.legs.map((l) => [l.to, l.ok])]).toEqual([0, 'verified; HTTP 200', [['proxy', true], ['fleet-server', true]]]);
      const lines = await settledLines(() => served.logs().filter((l) => l.component === 'socks-proxy').map((l) => l.message));
      // One line per connection: probe opens one per verification mode.
      expect(lines.filter((l) => /^block\(1\): tcp\/accept \]: .*: client offered no acceptable authentication method$/.test(l))).toHaveLength(4);
    } finally {
      await real.stop();
    }
  });

  it('a refused proxy, an https:// URL at a plain proxy and an http:// URL at a TLS proxy fail in Go\'s words', async () => {
    const identity = loadIdentity(pki.certPath('fleet-cert'), pki.keyPath('fleet-cert'));
    await using tlsProxy = await startForwardProxy({ scheme: 'https', identity });
    const plain = new URL(ready.forwardProxy!);
    const [refused, httpsAtPlain, httpAtTls, httpsAtTls] = await Promise.all([
      probe(fleetUrl(fleetPort), ['--proxy-url', `http://127.0.0.1:${closed}`]),
      probe(fleetUrl(fleetPort), ['--proxy-url', `https://alice:s3cret@127.0.0.1:${plain.port}`]),
      probe(fleetUrl(fleetPort), ['--proxy-url', `http://localhost:${tlsProxy.port}`]),
      probe(fleetUrl(fleetPort), ['--proxy-url', `https://localhost:${tlsProxy.port}`]),
    ]);
    expect(refused.full).toBe(enrollError(`proxyconnect tcp: dial tcp 127.0.0.1:${closed}: connect: connection refused`));
    expect(refused.legs[0]).toMatchObject({ to: 'proxy', ok: false, rejectedBy: 'server', phase: 'connect' });
    expect(httpsAtPlain.full).toBe(enrollError('proxyconnect tcp: tls: first record does not look like a TLS handshake'));
    expect(httpAtTls.full).toBe(enrollError('unexpected EOF'));
    // An https proxy is verified with the agent's own CAs, as Go's Transport does.
    expect([httpsAtTls.status, httpsAtTls.legs[0]!.serverCertificate?.subject, httpsAtTls.legs[0]!.tls?.version]).toEqual([0, 'CN=fleet-server,O=fleet-tls-harness', 'TLSv1.3']);
  });
});

describe('proxy flags with bad input: exit 2 and one line naming the flag', () => {
  /** The binary for one case of each command (its exit status and stderr as a shell sees them), this process for the rest. */
  const run = async (args: readonly string[], spawn: boolean) => (spawn
    ? fleetTls(args).then((r) => [r.exitCode, r.stderr, r.stdout])
    : cliInProcess(args, dir).then((r) => [r.status, r.err.trimEnd(), r.out]));

  it('probe refuses a malformed --proxy-url, an unsupported scheme and a header that is not a header', { timeout: 60_000 }, async () => {
    const cases: Array<[string[], string]> = [
      [['--proxy-url', 'ftp://127.0.0.1:21'], 'FTH_USAGE: --proxy-url: unsupported proxy scheme "ftp" (http, https or socks5)'],
      [['--proxy-url', 'http://[::1'], "FTH_USAGE: --proxy-url: 'http://[::1' is not a URL"],
      [['--proxy-url', 'socks4://127.0.0.1:1080'], 'FTH_USAGE: --proxy-url: unsupported proxy scheme "socks4" (http, https or socks5)'],
      [['--proxy-url', 'http://a%zz:b@127.0.0.1:3128'], "FTH_USAGE: --proxy-url: 'http://a%zz:b@127.0.0.1:3128' has an invalid URL escape in its user info"],
      [['--proxy-url', 'http://127.0.0.1:3128', '--proxy-header', 'X-Corp'], "FTH_USAGE: --proxy-header: 'X-Corp' is neither Name: value nor k=v"],
    ];
    const results = await Promise.all(cases.map(([args], i) => run(['probe', fleetUrl(fleetPort), ...args], i === 0)));
    expect(results).toEqual(cases.map(([, line]) => [2, `fleet-tls: ${line}`, '']));
  });

  it('serve refuses a proxy port in use, naming the proxy\'s flag, and credentials without a colon', { timeout: 60_000 }, async () => {
    const taken = String(served.esPort);
    const flags = ['--socks-proxy', '--forward-proxy', '--secure-proxy'];
    const results = await Promise.all([
      ...flags.map((flag, i) => run(['serve', '--certs', pki.dir, '--fleet-server-port', '0', '--es-port', '0', flag, taken], i === 0)),
      run(['serve', '--certs', pki.dir, '--forward-proxy', '0', '--forward-proxy-auth', 'alice'], false),
    ]);
    expect(results).toEqual([
      ...flags.map((flag) => [2, `fleet-tls: FTH_PORT_IN_USE: ${flag}: port ${taken} on 127.0.0.1 is already in use`, '']),
      [2, "fleet-tls: FTH_USAGE: --forward-proxy-auth: 'alice' is not user:pass", ''],
    ]);
  });

  it('install refuses socks4://, a --proxy-header without its = (as the agent\'s flag parser does) and bad values for the fake proxy\'s flags', { timeout: 60_000 }, async () => {
    const base = ['install', '--url=https://localhost:8220', '--certs', pki.dir, '--fleet-server-port=0'];
    const proxy = [...base, '--proxy-url=http://127.0.0.1:3128'];
    const results = await Promise.all([
      run([...base, '--proxy-url=socks4://127.0.0.1:1080'], true),
      run([...proxy, '--proxy-header', 'X-Corp'], false),
      run([...proxy, '--proxy-serves=ftp'], false),
      run([...proxy, '--proxy-allow-ports=99999'], false),
      run([...proxy, '--proxy-cert=/path/to/es-cert'], false),
    ]);
    expect(results).toEqual([
      [2, 'fleet-tls: FTH_USAGE: --proxy-url: unsupported proxy scheme "socks4" (http, https or socks5)', ''],
      [2, 'fleet-tls: FTH_USAGE: invalid argument "X-Corp" for "--proxy-header" flag: X-Corp must be formatted as key=value', ''],
      [2, "fleet-tls: FTH_USAGE: --proxy-serves: 'ftp' is not http, https, socks5 or none", ''],
      [2, "fleet-tls: FTH_USAGE: --proxy-allow-ports: '99999' is not a port number", ''],
      [2, 'fleet-tls: FTH_USAGE: --proxy-cert and --proxy-cert-key go together', ''],
    ]);
  });
});

describe('--help', () => {
  it('install documents every proxy flag, the agent\'s and the harness\'s, each with what it does', async () => {
    const { status, out } = await cliInProcess(['install', '--help'], dir);
    const documented = [...out.matchAll(/^ {6}--((?:secure-)?proxy[\w-]*)(?: <value>)? +(\S.*)$/gm)].map((m) => m[1]);
    expect(status).toBe(0);
    expect(documented).toEqual([
      'proxy-url', 'proxy-header', 'proxy-disabled', 'secure-proxy', 'secure-proxy-in-front-of', 'secure-proxy-cert', 'secure-proxy-cert-key', 'secure-proxy-client-auth',
      'secure-proxy-client-ca', 'secure-proxy-upstream-ca', 'secure-proxy-upstream-cert', 'secure-proxy-upstream-cert-key', 'secure-proxy-upstream-name',
      'secure-proxy-upstream-scheme', 'proxy-serves', 'proxy-allow-ports', 'proxy-cert', 'proxy-cert-key', 'proxy-intercept', 'proxy-intercept-ca', 'proxy-intercept-ca-key',
      'proxy-intercept-upstream-ca', 'proxy-intercept-cert', 'proxy-intercept-cert-key', 'proxy-target-refused', 'proxy-parent-refused', 'proxy-require-auth',
    ]);
  });

  it('serve and probe document their proxy flags', async () => {
    const [serveHelp, probeHelp] = await Promise.all([cliInProcess(['serve', '--help'], dir), cliInProcess(['probe', '--help'], dir)]);
    for (const flag of ['--forward-proxy <port>', '--forward-proxy-auth <user:pass>', '--forward-proxy-connect-ports <ports>', '--socks-proxy <port>', '--socks-proxy-auth <user:pass>', '--secure-proxy <port>', '--secure-proxy-client-auth <mode>',
      '--proxy-intercept <port>', '--proxy-intercept-ca <file>', '--proxy-intercept-upstream-ca <files>', '--proxy-intercept-auth <user:pass>']) {
      expect(serveHelp.out).toContain(`  ${flag}`);
    }
    for (const flag of ['--proxy-url <url>', '--proxy-header <header>', '--proxy-disabled']) expect(probeHelp.out).toContain(`  ${flag}`);
  });
});
