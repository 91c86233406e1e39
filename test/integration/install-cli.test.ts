import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { createPki } from '../../src/api.js';
import type { Leg } from '../../src/report/leg.js';
import type { Pki } from '../../src/pki/store.js';
import { cliInProcess, fleetTls } from '../helpers/cli.js';
import { freePort } from '../helpers/net.js';
import { scratchDir } from '../helpers/pki.js';

let dir: string;
let certs: string;
let pki: Pki;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ dir, cleanup } = await scratchDir());
  certs = path.join(dir, 'certs');
  pki = await createPki({ dir: certs });
});
afterAll(() => cleanup());

/** Elastic's one-way command, hosts at localhost on free ports, paths into the PKI. */
async function oneWay(paths: (name: string) => string): Promise<string[]> {
  const [fleet, es] = [await freePort(), await freePort()];
  return [
    `--url=https://localhost:${fleet}`,
    `--certificate-authorities=${paths('fleet-ca')}`,
    `--fleet-server-es=https://localhost:${es}`,
    `--fleet-server-es-ca=${paths('es-ca')}`,
    `--fleet-server-cert=${paths('fleet-cert')}`,
    `--fleet-server-cert-key=${paths('fleet-cert-key')}`,
    '--fleet-server-service-token=FLEET-SERVER-SERVICE-TOKEN',
    '--fleet-server-policy=FLEET-SERVER-POLICY-ID',
    `--fleet-server-port=${fleet}`,
  ];
}

/** Elastic's mutual command; `typo` keeps the page's repeated --elastic-agent-cert-key. */
async function mutual(paths: (name: string) => string, typo = false): Promise<string[]> {
  const [fleet, es] = [await freePort(), await freePort()];
  return [
    `--url=https://localhost:${fleet}`,
    `--certificate-authorities=${paths('fleet-ca')},${paths('agent-ca')}`,
    `--elastic-agent-cert=${paths('agent-cert')}`,
    `--elastic-agent-cert-key=${paths('agent-cert-key')}`,
    `--elastic-agent-cert-key${typo ? '' : '-passphrase'}=${paths('agent-cert-key-passphrase')}`,
    `--fleet-server-es=https://localhost:${es}`,
    `--fleet-server-es-ca=${paths('es-ca')}`,
    `--fleet-server-es-cert=${paths('fleet-es-cert')}`,
    `--fleet-server-es-cert-key=${paths('fleet-es-cert-key')}`,
    `--fleet-server-cert=${paths('fleet-cert')}`,
    `--fleet-server-cert-key=${paths('fleet-cert-key')}`,
    '--fleet-server-client-auth=required',
    '--fleet-server-service-token=FLEET-SERVER-SERVICE-TOKEN',
    '--fleet-server-policy=FLEET-SERVER-POLICY-ID',
    `--fleet-server-port=${fleet}`,
  ];
}

/** The generated file behind each name of Elastic's page. */
const real = (name: string) =>
  name.endsWith('-key-passphrase') ? pki.passphrasePath : name.endsWith('-key') ? pki.keyPath(name.slice(0, -4) as never) : pki.certPath(name as never);
const placeholder = (name: string) => `/path/to/${name}`;

async function install(args: readonly string[]) {
  const result = await fleetTls(['install', ...args, '--certs', certs, '--json'], { cwd: dir });
  return { ...result, report: result.stdout ? (JSON.parse(result.stdout) as { ok: boolean; legs: Leg[]; hints?: string[] }) : undefined };
}

const legOf = (legs: readonly Leg[], from: string) => legs.find((l) => l.from === from)!;

describe('install with the commands of Elastic\'s page', () => {
  it('runs the one-way command: the agent presents no certificate, and exits 0', async () => {
    const { exitCode, report, stderr } = await install(await oneWay(real));
    expect(stderr).toBe('');
    expect(exitCode).toBe(0);
    expect(report!.ok).toBe(true);
    const agent = legOf(report!.legs, 'agent');
    expect(agent).toMatchObject({ to: 'fleet-server', ok: true, rejectedBy: null, phase: null, alert: null });
    expect(agent.clientCertificate).toMatchObject({ presented: false });
    expect(agent.serverCertificate).toMatchObject({ subject: 'CN=fleet-server,O=fleet-tls-harness', issuer: 'CN=fleet-ca,O=fleet-tls-harness' });
    expect(legOf(report!.legs, 'fleet-server')).toMatchObject({ to: 'elasticsearch', ok: true });
  });

  it('runs the mutual command: both legs mutual, and exits 0', async () => {
    const { exitCode, report } = await install(await mutual(real));
    expect(exitCode).toBe(0);
    expect(legOf(report!.legs, 'agent').clientCertificate).toMatchObject({ presented: true, subject: 'CN=elastic-agent,O=fleet-tls-harness' });
    expect(legOf(report!.legs, 'fleet-server').clientCertificate).toMatchObject({ presented: true, subject: 'CN=fleet-server,O=fleet-tls-harness' });
  });

  it('reads the page\'s /path/to/<name> placeholders from the --certs directory', async () => {
    const { exitCode, report } = await install(await mutual(placeholder));
    expect(exitCode).toBe(0);
    expect(report!.ok).toBe(true);
  });

  it('fails the mutual command as printed, with its repeated --elastic-agent-cert-key, as the agent would, with a hint', async () => {
    const { exitCode, report, stderr } = await install(await mutual(placeholder, true));
    expect(exitCode).toBe(1);
    expect(report!.ok).toBe(false);
    const agent = legOf(report!.legs, 'agent');
    expect(agent.skipped).toBe('the agent could not load its client certificate and key');
    expect(agent.logs.agent).toBe(`Failed reading key file: no pem file\nError: no pem file ${pki.passphrasePath}`);
    expect(stderr).toBe('hint: --elastic-agent-cert-key was given 2 times and the last value wins (/path/to/agent-cert-key-passphrase); ' +
      'Elastic\'s page repeats it where it means --elastic-agent-cert-key-passphrase');
    expect(report!.hints).toHaveLength(1);
  });

  it('starts Fleet Server with a key of another certificate, which then fails in Go\'s words: exit 1, not bad input', async () => {
    const args = (await oneWay(real)).map((a) => (a.startsWith('--fleet-server-cert-key=') ? `--fleet-server-cert-key=${real('es-cert-key')}` : a));
    const { exitCode, report, stderr } = await install(args);
    expect(stderr).toBe('');
    expect(exitCode).toBe(1);
    // fleet-server bootstraps against Elasticsearch before it loads its API listener's certificate.
    expect(legOf(report!.legs, 'fleet-server')).toMatchObject({ to: 'elasticsearch', ok: true });
    expect(legOf(report!.legs, 'agent')).toMatchObject({
      skipped: 'Fleet Server did not become healthy', logs: { agent: 'Fleet Server - Error - tls: private key does not match public key' },
    });
  });

  it('prints a readable report without --json', async () => {
    const result = await fleetTls(['install', ...(await oneWay(real)), '--certs', certs], { cwd: dir });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^the flow works:\n {4}agent → fleet-server +ok +TLS 1\.3 /);
    expect(result.stdout).toContain('fleet-server → elasticsearch');
  });
});

describe('install with bad input', () => {
  let before: Record<string, string>;
  beforeAll(async () => { before = await snapshot(certs); });
  afterAll(async () => { expect(await snapshot(certs)).toEqual(before); });

  const cases: Array<[string, () => Promise<string[]>, RegExp]> = [
    ['an unknown flag', async () => [...(await oneWay(real)), '--fleet-server-cert-keyy=x'],
      /^fleet-tls: FTH_USAGE: unknown option '--fleet-server-cert-keyy=x' \(did you mean --fleet-server-cert-key\?\)$/],
    ['a missing file', async () => (await oneWay(real)).map((a) => (a.startsWith('--fleet-server-es-ca=') ? '--fleet-server-es-ca=/nowhere/es-ca.crt' : a)),
      /^fleet-tls: FTH_FILE_UNREADABLE: --fleet-server-es-ca \/nowhere\/es-ca\.crt: no such file or directory$/],
    ['a certificate flag given a key', async () => (await oneWay(real)).map((a) => (a.startsWith('--fleet-server-cert=') ? `--fleet-server-cert=${real('fleet-cert-key')}` : a)),
      /^fleet-tls: FTH_FILE_MALFORMED: --fleet-server-cert \/.*\/fleet-cert\.key: no PEM certificate in it \(it holds a PEM private key \(.+\)\)$/],
    ['a relative path where the agent wants an absolute one', async () => (await oneWay(real)).map((a) => (a.startsWith('--certificate-authorities=') ? '--certificate-authorities=certs/fleet-ca.crt' : a)),
      /^fleet-tls: FTH_USAGE: --certificate-authorities must be provided as an absolute path$/],
    ['a misspelt client authentication mode', async () => [...(await oneWay(real)), '--fleet-server-client-auth=require'],
      /^fleet-tls: FTH_USAGE: --fleet-server-client-auth must be one of \[none, optional, required\]$/],
  ];

  it.each(cases)('exits 2 with one line for %s', async (_name, args, line) => {
    const { exitCode, stderr, stdout } = await install(await args());
    expect(exitCode).toBe(2);
    expect(stderr.split('\n')).toHaveLength(1);
    expect(stderr).toMatch(line);
    expect(stdout).toBe('');
  });

  it('exits 2 naming the key for a wrong passphrase', async () => {
    const wrong = path.join(dir, 'wrong-passphrase');
    await writeFile(wrong, 'not-the-passphrase');
    const args = (await mutual(real)).map((a) => (a.startsWith('--elastic-agent-cert-key-passphrase=') ? `--elastic-agent-cert-key-passphrase=${wrong}` : a));
    const { exitCode, stderr } = await install(args);
    expect(exitCode).toBe(2);
    expect(stderr).toBe(`fleet-tls: FTH_KEY_PASSPHRASE: --elastic-agent-cert-key ${pki.keyPath('agent-cert')}: failed to parse key: pkcs8: incorrect password`);
  });

  it('exits 2 when the Fleet Server port is taken', async () => {
    const args = await oneWay(real);
    const port = Number(args.find((a) => a.startsWith('--fleet-server-port='))!.split('=')[1]);
    const blocker = net.createServer().listen(port, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    try {
      const { exitCode, stderr } = await install(args);
      expect(exitCode).toBe(2);
      expect(stderr).toBe(`fleet-tls: FTH_PORT_IN_USE: fleet-server: port ${port} on 127.0.0.1 is already in use`);
    } finally {
      blocker.close();
    }
  });
});

describe('install refused for its flags writes nothing (issue 9: the default PKI was made first)', () => {
  // Each in a fresh working directory without ./certs: the refusal must leave it empty.
  const refused: Array<[string, string[], string]> = [
    ['an unsupported proxy scheme', ['--url=https://localhost:8220', '--proxy-url=ftp://x:1'],
      'fleet-tls: FTH_USAGE: --proxy-url: unsupported proxy scheme "ftp" (http, https or socks5)'],
    ['no --url', ['--certificate-authorities=/path/to/fleet-ca'],
      'fleet-tls: FTH_USAGE: --url is required: the URL the agent enrolls through (e.g. https://localhost:8220)'],
    ['a misspelt client authentication mode', ['--url=https://localhost:8220', '--fleet-server-client-auth=require'],
      'fleet-tls: FTH_USAGE: --fleet-server-client-auth must be one of [none, optional, required]'],
    ['a placeholder for a file the PKI does not have', ['--url=https://localhost:8220', '--certificate-authorities=/path/to/no-such-ca'],
      'fleet-tls: FTH_FILE_UNREADABLE: --certificate-authorities <cwd>/certs/no-such-ca.crt: no such file or directory'],
  ];

  it.each(refused)('exits 2 with one line and creates no file or directory for %s', async (_name, args, line) => {
    const cwd = path.join(dir, `refused-${createHash('sha256').update(args.join(' ')).digest('hex').slice(0, 8)}`);
    await mkdir(cwd);
    const { status, out, err } = await cliInProcess(['install', ...args], cwd);
    expect(status).toBe(2);
    expect(out).toBe('');
    expect(err.trimEnd().split('\n')).toEqual([line.replace('<cwd>', cwd)]);
    expect(await readdir(cwd)).toEqual([]);
  });
});

async function snapshot(folder: string): Promise<Record<string, string>> {
  const files = await readdir(folder);
  const entries = await Promise.all(files.map(async (f) => [f, createHash('sha256').update(await readFile(path.join(folder, f))).digest('hex')] as const));
  return Object.fromEntries(entries);
}
