import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorities, identity, startElasticsearch } from '../../src/index.js';
import type { FakeElasticsearch } from '../../src/components/elasticsearch.js';
import { FakeFleetServer } from '../../src/components/fleet-server.js';
import type { Pki } from '../../src/pki/store.js';
import { BIN, cliInProcess } from '../helpers/cli.js';
import { freePort } from '../helpers/net.js';
import { scratchDir, sharedPki } from '../helpers/pki.js';
import { requireTool } from '../helpers/tools.js';
import { startCommand, type RunningCommand } from '../helpers/serve.js';

/*
 * `fleet-tls proxy` on its own, in a process of its own as docker/compose.yaml's `proxy` service
 * runs it: Debian's curl and the standalone `agent` command (`--proxy-url`, as
 * `elastic-agent enroll` takes it) reach an in-process fake Fleet Server through it.
 */
const curl = requireTool(['curl'], 'curl');
let pki: Pki;
let es: FakeElasticsearch;
let fleet: FakeFleetServer;
let dir: string;
let cleanup: () => Promise<void>;
let fleetLocal: string;
const children: RunningCommand[] = [];

function start(args: string[]): RunningCommand {
  const child = startCommand(args, { cwd: dir });
  children.push(child);
  return child;
}

/** A command in this process, as a child would run it (status, output without its last newline): no Node start per agent. */
const inProcess = async (args: string[]) => {
  const result = await cliInProcess(args, dir);
  return { exitCode: result.status, stdout: result.out.replace(/\n$/, ''), stderr: result.err.replace(/\n$/, '') };
};
const run = (args: string[]) => execa(process.execPath, [BIN, ...args], { reject: false, extendEnv: false, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' }, cwd: dir });
const agentArgs = (url: string, ...extra: string[]) => ['agent', '--url', url, '--enrollment-token', fleet.enrollmentToken!, '--certificate-authorities', pki.certPath('fleet-ca'), ...extra];

let forward: RunningCommand;
let forwardUrl: string;
let secure: RunningCommand;
let secureUrl: string;

beforeAll(async () => {
  pki = await sharedPki();
  ({ dir, cleanup } = await scratchDir());
  es = await startElasticsearch({ pki });
  // As the `fleet-server` command starts it: the policy's output carries es-ca, so the agent ships.
  fleet = await FakeFleetServer.start({
    identity: identity(pki, 'fleet-cert'), certificateAuthorities: authorities(pki, 'fleet-ca', 'agent-ca'),
    elasticsearch: { url: es.url, serviceToken: es.serviceToken, tls: { certificateAuthorities: authorities(pki, 'es-ca') } },
    output: { type: 'elasticsearch', hosts: [es.url], ssl: { certificate_authorities: [await readFile(pki.certPath('es-ca'), 'utf8')] } },
  });
  // Named as a container names it: the proxy resolves it, the certificate has it (fleet-cert names localhost).
  fleetLocal = fleet.url.replace('127.0.0.1', 'localhost');
  forward = start(['proxy', '--forward-proxy', '0', '--state-file', 'forward.json']);
  secure = start(['proxy', '--secure-proxy', '0', '--secure-proxy-upstream', fleetLocal, '--secure-proxy-upstream-ca', pki.certPath('fleet-ca'),
    '--secure-proxy-cert', pki.certPath('fleet-cert'), '--secure-proxy-cert-key', pki.keyPath('fleet-cert'),
    '--secure-proxy-client-auth', 'required', '--secure-proxy-client-ca', pki.certPath('agent-ca'), '--state-file', 'secure.json']);
  const [forwardState, secureState] = await Promise.all([forward.waitForState('forward.json'), secure.waitForState('secure.json')]);
  [forwardUrl, secureUrl] = [forwardState.url!, secureState.url!];
}, 60_000);

afterAll(async () => {
  await Promise.all(children.map((child) => child.stop()));
  await fleet?.close();
  await es?.close();
  await cleanup?.();
});

describe('fleet-tls proxy', () => {
  it('refuses bad flags with exit 2 and one line naming the flag', async () => {
    const cases: Array<[string[], string]> = [
      [['proxy'], 'proxy needs --forward-proxy, --socks-proxy, --secure-proxy or --proxy-intercept (each with its port)'],
      [['proxy', '--secure-proxy', '0'], '--secure-proxy needs --secure-proxy-upstream (the Fleet Server or Elasticsearch URL it passes to)'],
      [['proxy', '--forward-proxy', '0', '--secure-proxy-upstream', 'https://fleet-server:8220'], '--secure-proxy-upstream needs --secure-proxy'],
      [['proxy', '--forward-proxy', '70000'], "--forward-proxy: '70000' is not a port number (0-65535)"],
      [['proxy', '--secure-proxy', '0', '--secure-proxy-upstream', 'fleet-server:8220'], "--secure-proxy-upstream: 'fleet-server:8220' is not an http or https URL"],
      [['proxy', '--forward-proxy', '0', '--forward-proxy-auth', 'nocolon'], '--forward-proxy-auth: \'nocolon\' is not user:pass'],
      [['agent', '--url', 'https://fleet-server:8220', '--enrollment-token', 'x', '--proxy-url', 'ftp://proxy:21'], '--proxy-url: unsupported proxy scheme "ftp" (http, https or socks5)'],
      [['agent', '--url', 'https://fleet-server:8220', '--enrollment-token', 'x', '--proxy-url', 'http://proxy:8888', '--proxy-header', 'X-Team'],
        'invalid argument "X-Team" for "--proxy-header" flag: X-Team must be formatted as key=value'],
      [['agent', '--url', 'https://fleet-server:8220', '--enrollment-token', 'x', '--proxy-header', 'X-Team=a'], '--proxy-header needs --proxy-url'],
    ];
    for (const [argv, line] of cases) {
      const result = await cliInProcess(argv, dir);
      expect({ argv, status: result.status, err: result.err }).toEqual({ argv, status: 2, err: `fleet-tls: FTH_USAGE: ${line}\n` });
    }
  });

  it('names --forward-proxy when its port is taken, with exit 2', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as net.AddressInfo).port;
    const result = await inProcess(['proxy', '--forward-proxy', String(port)]);
    holder.close();
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`^fleet-tls: FTH_PORT_IN_USE: --forward-proxy: .*${port}.*$`));
    expect(result.stderr.split('\n')).toHaveLength(1);
  });

  it('tunnels curl to Fleet Server with CONNECT and logs it in tinyproxy\'s words; healthcheck finds it listening', async () => {
    const status = await execa(curl, ['-sS', '--max-time', '10', '--proxy', forwardUrl, '--cacert', pki.certPath('fleet-ca'), `${fleetLocal}/api/status`], { reject: false });
    expect(status.stdout).toBe('{"name":"fleet-server","status":"HEALTHY"}');
    const target = new URL(fleetLocal).host;
    await forward.waitFor('no CONNECT line', () => forward.output().includes(`[forward-proxy] CONNECT Request (file descriptor 5): CONNECT ${target} HTTP/1.1`) || undefined);
    expect(forward.output()).toContain(`[forward-proxy] CONNECT Established connection to host "localhost" using file descriptor 6.`);
    const health = await inProcess(['healthcheck', '--state-file', path.join(dir, 'forward.json')]);
    expect({ code: health.exitCode, out: health.stdout }).toEqual({ code: 0, out: `ready: proxy takes connections at ${forwardUrl}` });
  });

  it('carries the agent command\'s enroll and checkin, and the merged report shows the proxy hop\'s legs', async () => {
    const result = await inProcess(agentArgs(fleetLocal, '--proxy-url', forwardUrl, '--proxy-header', 'X-Team=fleet', '--result', 'through-forward.json'));
    expect(result.stdout).toContain('[agent] enrolled, checked in and shipped');
    const written = JSON.parse(await readFile(path.join(dir, 'through-forward.json'), 'utf8')) as { legs: Array<{ from: string; to: string; via?: string; ok: boolean; http?: { method: string; path: string; status: number } }> };
    const target = new URL(fleetLocal).host;
    expect(written.legs.map((l) => [l.from, l.to, l.via ?? null, l.ok])).toEqual([['agent', 'proxy', null, true], ['agent', 'fleet-server', 'proxy', true], ['agent', 'elasticsearch', null, true]]);
    expect(written.legs[0]!.http).toEqual({ method: 'CONNECT', path: target, status: 200 });
    const merged = await inProcess(['results', 'through-forward.json']);
    expect(merged.stdout.split('\n').slice(0, 3)).toEqual([
      'agents            1 of 1 enrolled, checked in and shipped',
      `legs              agent → proxy                    1 of 1 ok  (CONNECT ${target} answered 200)`,
      expect.stringMatching(/^ {18}agent → fleet-server via proxy {3}1 of 1 ok {2}\(TLS 1\.3, CN=fleet-server,O=fleet-tls-harness\)$/),
    ]);
  });

  it('goes direct with --proxy-disabled, whatever --proxy-url names', async () => {
    const result = await inProcess(agentArgs(fleetLocal, '--proxy-url', `http://127.0.0.1:${await freePort()}`, '--proxy-disabled', '--result', 'disabled.json'));
    expect(result.stdout).toContain('[agent] enrolled, checked in and shipped');
    const written = JSON.parse(await readFile(path.join(dir, 'disabled.json'), 'utf8')) as { legs: Array<{ to: string; via?: string }> };
    expect(written.legs.map((l) => `${l.to}${l.via ? ` via ${l.via}` : ''}`)).toEqual(['fleet-server', 'elasticsearch']);
  });

  it('keeps retrying while its proxy is not listening yet, in the agent\'s words, then enrolls through it', { timeout: 120_000 }, async () => {
    const port = await freePort();
    const agent = run(agentArgs(fleetLocal, '--proxy-url', `http://127.0.0.1:${port}`, '--result', 'late-proxy.json'));
    let seen = '';
    agent.stdout!.on('data', (c: Buffer) => { seen += c.toString(); });
    // A loaded machine may take long to start the agent's process: the wait is generous, never asserted.
    await forward.waitFor('the agent did not retry', () => seen.includes('will retry in a moment.') || undefined, 90_000);
    const late = start(['proxy', '--forward-proxy', String(port)]);
    const result = await agent;
    await late.stop();
    expect(result.stdout).toContain(`[agent] warn  Error detected: fail to execute request to fleet-server: proxyconnect tcp: dial tcp 127.0.0.1:${port}: connect: connection refused, will retry in a moment.`);
    expect(result.stdout).toContain('[agent] enrolled, checked in and shipped');
  });

  it('retries a CONNECT the proxy answers with 500 (Fleet Server not reachable from it) until --enroll-timeout, then fails in Go\'s words', async () => {
    const nobody = `https://127.0.0.1:${await freePort()}`;
    const result = await inProcess(['agent', '--url', nobody, '--enrollment-token', fleet.enrollmentToken!, '--proxy-url', forwardUrl, '--enroll-timeout', '1s', '--result', 'unreachable.json']);
    expect(result.exitCode).toBe(1);
    const lines = result.stdout.trim().split('\n');
    expect(lines.filter((l) => l === '[agent] warn  Error detected: fail to execute request to fleet-server: Unable to connect, will retry in a moment.').length).toBeGreaterThan(1);
    expect(lines.slice(-2)).toEqual(['[agent] error fail to enroll: fail to execute request to fleet-server: Unable to connect', expect.stringMatching(/^\[agent\] failed; result in /)]);
  });

  it('terminates TLS in front of Fleet Server as nginx does: curl and the agent with agent-cert get through, one without a certificate gets its 400', async () => {
    const local = secureUrl.replace('127.0.0.1', 'localhost');
    const withCert = ['--cacert', pki.certPath('fleet-ca'), '--cert', pki.certPath('agent-cert'), '--key', pki.keyPath('agent-cert'), '--pass', await readFile(pki.passphrasePath, 'utf8')];
    const ok = await execa(curl, ['-sS', '-v', '--max-time', '10', ...withCert, `${local}/api/status`], { reject: false });
    expect(ok.stdout).toBe('{"name":"fleet-server","status":"HEALTHY"}');
    // nginx 1.22's default ssl_protocols: TLS 1.2 unless --tls says otherwise.
    expect(ok.stderr).toMatch(/SSL connection using TLSv1\.2 /);
    const without = await execa(curl, ['-sS', '--max-time', '10', '--cacert', pki.certPath('fleet-ca'), `${local}/api/status`], { reject: false });
    expect(without.stdout).toContain('<title>400 No required SSL certificate was sent</title>');
    const agent = await inProcess(agentArgs(local, '--elastic-agent-cert', pki.certPath('agent-cert'), '--elastic-agent-cert-key', pki.keyPath('agent-cert'),
      '--elastic-agent-cert-key-passphrase', pki.passphrasePath, '--result', 'through-secure.json'));
    expect(agent.stdout).toContain('[agent] enrolled, checked in and shipped');
    expect(secure.output()).toMatch(/\[secure-proxy\] info {4}\*\d+ client sent no required SSL certificate while reading client request headers, client: 127\.0\.0\.1, server: [^,]*, request: "GET \/api\/status HTTP\/1\.1", host: "localhost:\d+"/);
  });
});
