import { writeFile } from 'node:fs/promises';
import { generateKeyPairSync } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCa } from '../../src/pki/generate.js';
import { identityFromPem } from '../../src/tls/material.js';
import type { Pki } from '../../src/pki/store.js';
import { cliInProcess, fleetTls } from '../helpers/cli.js';
import { scratchDir, sharedPki } from '../helpers/pki.js';
import { serve, type Served } from '../helpers/serve.js';
import { requireTool } from '../helpers/tools.js';

/**
 * `serve --proxy-intercept`: the TLS-intercepting proxy beside the fakes, driven by a real outside
 * client: curl through it to the fake Fleet Server, trusting the proxy's root or not.
 */
const curlTool = requireTool(['curl'], 'curl');
let pki: Pki;
let dir: string;
let cleanup: () => Promise<void>;
let served: Served;
let ready: Record<string, string>;
let rootFile: string;

beforeAll(async () => {
  pki = await sharedPki();
  ({ dir, cleanup } = await scratchDir());
  const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ca = issueCa('Example Corp TLS Inspection CA', key);
  rootFile = path.join(dir, 'inspection-ca.crt');
  await Promise.all([writeFile(rootFile, ca.pem), writeFile(path.join(dir, 'inspection-ca.key'), identityFromPem(ca.pem, key.privateKey).keyPem, { mode: 0o600 })]);
  served = await serve(pki.dir, ['--proxy-intercept', '0', '--proxy-intercept-ca', rootFile, '--proxy-intercept-ca-key', path.join(dir, 'inspection-ca.key')]);
  ready = served.ready as unknown as Record<string, string>;
}, 60_000);

afterAll(async () => {
  await served?.stop('SIGINT');
  await cleanup?.();
});

const curl = (args: readonly string[]) => execa(curlTool, ['--silent', '--show-error', ...args], { reject: false });
const status = () => `https://localhost:${served.fleetServerPort}/api/status`;

describe('serve --proxy-intercept with curl', () => {
  it('prints its URL and root when ready', () => {
    expect(ready.interceptingProxy).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(ready.interceptingProxyRoot).toContain('-----BEGIN CERTIFICATE-----');
  });

  it('curl trusting the proxy\'s root gets Fleet Server\'s answer, through a certificate the proxy minted; the proxy logs it under its own name', async () => {
    const result = await curl(['--proxy', ready.interceptingProxy!, '--cacert', rootFile, '--write-out', '\n%{http_code} %{certs}', status()]);
    expect([result.exitCode, result.stdout.split('\n')[0], result.stdout.split('\n')[1]]).toEqual([0, '{"name":"fleet-server","status":"HEALTHY"}', '200 Subject:O = fleet-tls-harness, CN = fleet-server']);
    // Fleet Server's subject, mimicked, under the proxy's root.
    expect(result.stdout).toMatch(/\nIssuer:O = fleet-tls-harness, CN = Example Corp TLS Inspection CA\n/);
    const line = await served.waitForLog(/TCP_MISS\/200 \d+ GET https:\/\/localhost:\d+\/api\/status/);
    expect(line).toMatch(new RegExp(`^ *\\d+ 127\\.0\\.0\\.1 TCP_MISS/200 \\d+ GET https://localhost:${served.fleetServerPort}/api/status - HIER_DIRECT/\\S+ application/json$`));
    expect(served.logs().find((l) => l.message === line)?.component).toBe('intercepting-proxy');
  });

  it('curl trusting only Fleet Server\'s CA refuses the minted chain in OpenSSL\'s words; the proxy logs its failed accept', async () => {
    const result = await curl(['--proxy', ready.interceptingProxy!, '--cacert', pki.certPath('fleet-ca'), status()]);
    expect([result.exitCode, result.stderr.split('\n')[0]]).toEqual([60, 'curl: (60) SSL certificate problem: self-signed certificate in certificate chain']);
    const line = await served.waitForLog(/^ERROR: failure while accepting a TLS connection/);
    expect(line).toMatch(/^ERROR: failure while accepting a TLS connection on conn\d+ local=127\.0\.0\.1:\d+ remote=127\.0\.0\.1:\d+ FD \d+ flags=1: 0x[0-9a-f]+\*1$/);
  });
});

describe('serve --proxy-intercept refuses bad input with one line', () => {
  it('a stray flag, a bad port, a CA that is not a CA, credentials without a colon, and a port in use', { timeout: 60_000 }, async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const taken = (holder.address() as net.AddressInfo).port;
    try {
      const base = ['serve', '--certs', pki.dir, '--fleet-server-port', '0', '--es-port', '0'];
      const inProcess = (args: readonly string[]) => cliInProcess([...base, ...args], dir).then((r) => [r.status, r.err.trimEnd(), r.out]);
      const results = await Promise.all([
        inProcess(['--proxy-intercept-ca', rootFile]),
        inProcess(['--proxy-intercept', 'x']),
        inProcess(['--proxy-intercept', '0', '--proxy-intercept-ca', pki.certPath('fleet-cert'), '--proxy-intercept-ca-key', pki.keyPath('fleet-cert')]),
        inProcess(['--proxy-intercept', '0', '--proxy-intercept-auth', 'alice']),
        fleetTls([...base, '--proxy-intercept', String(taken)]).then((r) => [r.exitCode, r.stderr, r.stdout]),
      ]);
      expect(results).toEqual([
        [2, 'fleet-tls: FTH_USAGE: --proxy-intercept-ca needs --proxy-intercept', ''],
        [2, "fleet-tls: FTH_USAGE: --proxy-intercept: 'x' is not a port number (0-65535)", ''],
        [2, `fleet-tls: FTH_USAGE: --proxy-intercept-ca ${pki.certPath('fleet-cert')}: not a CA certificate (basicConstraints CA:TRUE), so nothing it signs would verify`, ''],
        [2, "fleet-tls: FTH_USAGE: --proxy-intercept-auth: 'alice' is not user:pass", ''],
        [2, `fleet-tls: FTH_PORT_IN_USE: --proxy-intercept: port ${taken} on 127.0.0.1 is already in use`, ''],
      ]);
    } finally {
      holder.close();
    }
  });
});
