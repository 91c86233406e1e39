import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPki } from '../../src/api.js';
import type { Leg } from '../../src/report/leg.js';
import { cliInProcess, fleetTls } from '../helpers/cli.js';
import { customerPki, P12_PASSWORD, type CustomerPki } from '../helpers/customer-pki.js';
import { freePort } from '../helpers/net.js';
import { scratchDir } from '../helpers/pki.js';

/*
 * `fleet-tls install` with the two commands of Elastic's page, run on the customer's own files:
 * made with the openssl CLI (chain files, encrypted PKCS#8, `-traditional` legacy keys) and
 * an elasticsearch-certutil-shaped PKCS#12 for Elasticsearch, not the harness's own PKI.
 */
let c: CustomerPki;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const scratch = await scratchDir('fth-install-customer-');
  cleanup = scratch.cleanup;
  // The harness's own PKI is made once here (the CLI would make it on first use); ECDSA is quick.
  [c] = await Promise.all([customerPki(scratch.dir, { certutilTrust: true }), createPki({ dir: path.join(scratch.dir, 'certs'), keyType: 'ecdsa' })]);
}, 30_000);
afterAll(() => cleanup());

/** The CLI in-process (the first test runs the built binary, as a user does). */
async function install(args: readonly string[]) {
  const { status: exitCode, out: stdout, err: stderr } = await cliInProcess(['install', ...args, '--certs', path.join(c.dir, 'certs'), '--json'], c.dir);
  return { exitCode, stdout, stderr, report: stdout ? (JSON.parse(stdout) as { ok: boolean; legs: Leg[] }) : undefined };
}
const legOf = (legs: readonly Leg[], from: string) => legs.find((l) => l.from === from)!;

/** The page's one-way command; Elasticsearch's certificate comes from the harness flags given. */
async function oneWay(elasticsearch: readonly string[]): Promise<string[]> {
  const [fleet, es] = [await freePort(), await freePort()];
  return [
    `--url=https://localhost:${fleet}`,
    `--certificate-authorities=${c.file('root.crt')}`,
    `--fleet-server-es=https://localhost:${es}`,
    `--fleet-server-es-ca=${c.file('root.crt')}`,
    `--fleet-server-cert=${c.file('fleet-chain.crt')}`,
    `--fleet-server-cert-key=${c.file('fleet-pkcs8-enc.key')}`,
    `--fleet-server-cert-key-passphrase=${c.file('passphrase')}`,
    '--fleet-server-service-token=FLEET-SERVER-SERVICE-TOKEN',
    '--fleet-server-policy=FLEET-SERVER-POLICY-ID',
    `--fleet-server-port=${fleet}`,
    ...elasticsearch,
  ];
}

/** The page's mutual command: the agent on a `-traditional` legacy encrypted key, Fleet Server on its own client certificate to Elasticsearch. */
async function mutual(elasticsearch: readonly string[]): Promise<string[]> {
  return [
    ...(await oneWay(elasticsearch)),
    `--elastic-agent-cert=${c.file('rsa-agent.crt')}`,
    `--elastic-agent-cert-key=${c.file('rsa-agent-legacy.key')}`,
    `--elastic-agent-cert-key-passphrase=${c.file('passphrase')}`,
    `--fleet-server-es-cert=${c.file('fleet-es.crt')}`,
    `--fleet-server-es-cert-key=${c.file('fleet-es.key')}`,
    '--fleet-server-client-auth=required',
    '--es-client-auth=required',
  ];
}

const opensslEs = () => [`--es-cert=${c.file('es.crt')}`, `--es-cert-key=${c.file('es.key')}`, `--es-client-ca=${c.file('root.crt')}`];
const certutilEs = () => [`--es-keystore=${c.file('elastic-certificates.p12')}`, `--es-keystore-password=${P12_PASSWORD}`, `--es-client-ca=${c.file('elastic-certificates.p12')}`];

describe('install on files made with the openssl CLI', () => {
  it('runs the one-way command with a chain file and an encrypted PKCS#8 key', async () => {
    const { exitCode, stdout, stderr } = await fleetTls(['install', ...(await oneWay(opensslEs())), '--certs', path.join(c.dir, 'certs'), '--json'], { cwd: c.dir });
    const report = JSON.parse(stdout) as { ok: boolean; legs: Leg[] };
    expect({ exitCode, stderr }).toEqual({ exitCode: 0, stderr: '' });
    expect(legOf(report!.legs, 'agent')).toMatchObject({ ok: true, serverCertificate: { subject: 'CN=fleet-server', issuer: 'CN=Customer Intermediate CA' } });
    expect(legOf(report!.legs, 'fleet-server')).toMatchObject({ ok: true, serverCertificate: { subject: 'CN=elasticsearch' } });
  });

  it('runs the mutual command with a -traditional legacy agent key: both legs present their certificates', async () => {
    const { exitCode, report } = await install(await mutual(opensslEs()));
    expect(exitCode).toBe(0);
    expect(legOf(report!.legs, 'agent').clientCertificate).toMatchObject({ presented: true, subject: 'CN=rsa agent' });
    expect(legOf(report!.legs, 'fleet-server').clientCertificate).toMatchObject({ presented: true, subject: 'CN=fleet-server-es-client' });
  });
});

describe('install with Elasticsearch on a certutil-shaped elastic-certificates.p12', () => {
  it('runs the one-way command: Elasticsearch sends the key entry\'s chain, the CA included', async () => {
    const { exitCode, report } = await install(await oneWay(certutilEs()));
    expect(exitCode).toBe(0);
    expect(legOf(report!.legs, 'fleet-server')).toMatchObject({ ok: true, serverCertificate: { subject: 'CN=elasticsearch', issuer: 'CN=Customer root CA' } });
  });

  it('runs the mutual command, trusting the keystore\'s `ca` entry for Fleet Server\'s client certificate', async () => {
    const { exitCode, report } = await install(await mutual(certutilEs()));
    expect(exitCode).toBe(0);
    expect(report!.legs.every((l) => l.ok && l.clientCertificate?.presented)).toBe(true);
  });

  it('runs with agent files converted from a PKCS#12 by the commands the doctor suggests', async () => {
    const p12 = c.file('fleet-nopass.p12');
    await execa('openssl', ['pkcs12', '-in', p12, '-passin', 'pass:', '-clcerts', '-nokeys', '-out', c.file('from-p12.crt')]);
    await execa('openssl', ['pkcs12', '-in', p12, '-passin', 'pass:', '-nocerts', '-nodes', '-out', c.file('from-p12.key')]);
    await execa('openssl', ['pkcs12', '-in', p12, '-passin', 'pass:', '-cacerts', '-nokeys', '-out', c.file('from-p12-ca.crt')]);
    const args = (await oneWay(certutilEs())).map((a) => a
      .replace(/^--fleet-server-cert=.*/, `--fleet-server-cert=${c.file('from-p12.crt')}`)
      .replace(/^--fleet-server-cert-key=.*/, `--fleet-server-cert-key=${c.file('from-p12.key')}`)
      .replace(/^--certificate-authorities=.*/, `--certificate-authorities=${c.file('from-p12-ca.crt')},${c.file('root.crt')}`))
      .filter((a) => !a.startsWith('--fleet-server-cert-key-passphrase='));
    const { exitCode, report } = await install(args);
    // -clcerts gives the leaf alone; -cacerts gives the intermediate, which the agent then trusts as a root.
    expect(exitCode).toBe(0);
    expect(legOf(report!.legs, 'agent').ok).toBe(true);
  });

  it('refuses a wrong keystore password with exit 2 and one line naming the flag and the file', async () => {
    const { exitCode, stderr, stdout } = await install([...(await oneWay(certutilEs())), '--es-keystore-password=wrong']);
    expect({ exitCode, stdout }).toEqual({ exitCode: 2, stdout: '' });
    expect(stderr).toBe(`fleet-tls: FTH_KEY_PASSPHRASE: --es-keystore ${c.file('elastic-certificates.p12')}: the PKCS#12 password is wrong (keystore password was incorrect)\n`);
  });
});
