import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPki } from '../../src/api.js';
import type { Pki } from '../../src/pki/store.js';
import { BIN } from '../helpers/cli.js';
import { scratchDir } from '../helpers/pki.js';
import { startCommand, type RunningCommand } from '../helpers/serve.js';

/*
 * The components started one by one, in processes of their own, configured the way Elastic's
 * images are (environment variables), as docker/compose.yaml wires them: Elasticsearch, then Fleet
 * Server bootstrapping against its URL, then agents enrolling with Fleet Server's URL and the
 * enrollment token both were given. Ports are 0; each process says where it listens in its state file.
 */
const ENROLLMENT_TOKEN = Buffer.from('test-enroll:test-enrollment-secret').toString('base64');
const SERVICE_TOKEN = Buffer.concat([Buffer.from([0, 1, 0, 1]), Buffer.from('elastic/fleet-server/test:secret-value')]).toString('base64').replace(/=+$/, '');

let pki: Pki;
let dir: string;
let cleanup: () => Promise<void>;
const children: RunningCommand[] = [];

/** A clean environment: only what the test gives, so the machine's variables change nothing. */
const run = (args: string[], env: Record<string, string>) =>
  execa(process.execPath, [BIN, ...args], { reject: false, extendEnv: false, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...env }, cwd: dir });

function start(args: string[], env: Record<string, string>): RunningCommand {
  const child = startCommand(args, { cwd: dir, env });
  children.push(child);
  return child;
}

let fleetUrl: string;
let fleet: RunningCommand;

beforeAll(async () => {
  ({ dir, cleanup } = await scratchDir());
  pki = await createPki({ dir: path.join(dir, 'certs') });
  const es = start(['container', '--port', '0'], {
    'xpack.security.http.ssl.certificate': pki.certPath('es-cert'), 'xpack.security.http.ssl.key': pki.keyPath('es-cert'),
    'xpack.security.http.ssl.certificate_authorities': pki.certPath('es-ca'), 'xpack.security.http.ssl.client_authentication': 'optional',
    FLEET_SERVER_SERVICE_TOKEN: SERVICE_TOKEN, FLEET_ENROLLMENT_TOKEN: ENROLLMENT_TOKEN, HARNESS_STATE_FILE: path.join(dir, 'es.json'),
  });
  const esUrl = (await es.waitForState('es.json')).url!;
  fleet = start(['container', '--certs', 'certs'], {
    FLEET_SERVER_ENABLE: '1', FLEET_SERVER_ELASTICSEARCH_HOST: esUrl, FLEET_SERVER_ELASTICSEARCH_CA: pki.certPath('es-ca'),
    FLEET_SERVER_ES_CERT: pki.certPath('fleet-es-cert'), FLEET_SERVER_ES_CERT_KEY: pki.keyPath('fleet-es-cert'),
    FLEET_SERVER_SERVICE_TOKEN: SERVICE_TOKEN, FLEET_ENROLLMENT_TOKEN: ENROLLMENT_TOKEN, FLEET_SERVER_PORT: '0',
    FLEET_SERVER_CERT: pki.certPath('fleet-cert'), FLEET_SERVER_CERT_KEY: pki.keyPath('fleet-cert'), FLEET_SERVER_CLIENT_AUTH: 'required',
    FLEET_CA: `${pki.certPath('fleet-ca')},${pki.certPath('agent-ca')}`, HARNESS_STATE_FILE: path.join(dir, 'fleet.json'),
  });
  fleetUrl = (await fleet.waitForState('fleet.json', (s) => s.state === 'HEALTHY')).url!;
}, 60_000);

afterAll(async () => {
  await Promise.all(children.map((child) => child.stop()));
  await cleanup();
});

const agentEnv = (extra: Record<string, string> = {}) => ({
  FLEET_ENROLL: '1', FLEET_URL: fleetUrl, FLEET_ENROLLMENT_TOKEN: ENROLLMENT_TOKEN, FLEET_CA: pki.certPath('fleet-ca'),
  ELASTIC_AGENT_CERT: pki.certPath('agent-cert'), ELASTIC_AGENT_CERT_KEY: pki.keyPath('agent-cert'),
  ELASTIC_AGENT_CERT_KEY_PASSPHRASE: pki.passphrasePath, HARNESS_RESULT_DIR: path.join(dir, 'results'), ...extra,
});

describe('components started on their own from Elastic\'s variables (mutual TLS)', () => {
  it('reports Fleet Server ready through the image\'s healthcheck, though it asks the check for a certificate', async () => {
    const result = await run(['healthcheck', '--state-file', path.join(dir, 'fleet.json')], {});
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^ready: fleet-server requires a client certificate \(.+\); its recorded state is HEALTHY$/);
  });

  it('enrolls an agent that presents agent-cert, checks in, ships to the policy\'s output and writes its result', async () => {
    await execa('mkdir', ['-p', path.join(dir, 'results')]);
    const result = await run(['container'], agentEnv({ HOSTNAME: 'ignored' }));
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('[agent] info  Successfully enrolled the Elastic Agent.');
    const files = await execa('ls', [path.join(dir, 'results')]);
    const written = JSON.parse(await readFile(path.join(dir, 'results', files.stdout.trim()), 'utf8')) as { kind: string; ok: boolean; legs: Array<{ to: string; ok: boolean; clientCertificate: { presented: boolean } | null }> };
    expect(written.kind).toBe('agent');
    expect(written.ok).toBe(true);
    expect(written.legs.map((l) => [l.to, l.ok])).toEqual([['fleet-server', true], ['elasticsearch', true]]);
    expect(written.legs[0]!.clientCertificate?.presented).toBe(true);
  });

  it('fails an agent without FLEET_CA with Go\'s words in the agent\'s output and the TLS error in Fleet Server\'s', async () => {
    const result = await run(['agent', '--result', 'no-ca.json'], agentEnv({ FLEET_CA: '' }));
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain('[agent] error fail to enroll: fail to execute request to fleet-server: x509: certificate signed by unknown authority');
    await fleet.waitFor('no handshake error in the Fleet Server log', () =>
      /\[fleet-server\] error http: TLS handshake error from 127\.0\.0\.1:\d+: remote error: tls: bad certificate/.test(fleet.output()) || undefined);
    const merged = await run(['results', 'results', 'no-ca.json'], {});
    expect(merged.exitCode).toBe(1);
    expect(merged.stdout).toMatch(/^agents {12}1 of 2 enrolled, checked in and shipped\n {2}failed \S+: fail to enroll: fail to execute request to fleet-server: x509: certificate signed by unknown authority\n/);
    // Each hop, folded over the agents: the one without FLEET_CA failed its handshake, refused by itself (the client).
    expect(merged.stdout.split('\n').slice(2)).toEqual([
      expect.stringMatching(/^legs {14}agent → fleet-server {13}1 of 2 ok {2}\(.*failed at handshake \(rejected by the client\)\)$/),
      `${' '.repeat(18)}agent → elasticsearch            1 of 1 ok  (TLS 1.3, CN=elasticsearch,O=fleet-tls-harness)`,
    ]);
  });

  it('refuses a flag and a variable that disagree, and a misspelled TLS variable, with exit 2 and one line', async () => {
    const conflict = await run(['agent', '--url', 'https://elsewhere:8220'], agentEnv());
    expect(conflict.exitCode).toBe(2);
    expect(conflict.stderr).toBe(`fleet-tls: FTH_USAGE: --url 'https://elsewhere:8220' and FLEET_URL='${fleetUrl}' disagree; give one of them`);
    const typo = await run(['fleet-server'], { FLEET_SERVER_ELASTICSEARCH_CERT: '/x.crt' });
    expect(typo.exitCode).toBe(2);
    expect(typo.stderr).toBe('fleet-tls: FTH_USAGE: environment variable FLEET_SERVER_ELASTICSEARCH_CERT is not a TLS setting of Elastic\'s agent image that fleet-tls knows; remove it or use a flag');
    const nothing = await run(['container'], {});
    expect(nothing.exitCode).toBe(2);
    expect(nothing.stderr).toMatch(/^fleet-tls: FTH_USAGE: container: nothing to run; set FLEET_SERVER_ENABLE=1/);
  });
});
