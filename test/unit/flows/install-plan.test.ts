import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HarnessError } from '../../../src/errors.js';
import { parseInstallFlags } from '../../../src/flows/install-flags.js';
import { planInstall, type InstallPlan, type PlanContext } from '../../../src/flows/install-plan.js';
import { ensurePki, type Pki } from '../../../src/pki/store.js';
import type { PkiObjectName } from '../../../src/pki/profiles.js';
import { identityFromPem } from '../../../src/tls/material.js';

let root: string;
let pki: Pki;
let context: PlanContext;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'fth-unit-plan-'));
  ({ pki } = await ensurePki({ dir: path.join(root, 'certs'), keyType: 'ecdsa' }));
  const selfSigned = identityFromPem(pki.leaves['es-cert'].pem, pki.leaves['es-cert'].key);
  context = { pki, makeSelfSigned: () => selfSigned };
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
});

/** The page's mutual command (with the passphrase flag spelled right), as flag → value. */
const MUTUAL: Readonly<Record<string, string>> = {
  url: 'https://localhost:8220',
  'certificate-authorities': '/path/to/fleet-ca,/path/to/agent-ca',
  'elastic-agent-cert': '/path/to/agent-cert',
  'elastic-agent-cert-key': '/path/to/agent-cert-key',
  'elastic-agent-cert-key-passphrase': '/path/to/agent-cert-key-passphrase',
  'fleet-server-es': 'https://localhost:9200',
  'fleet-server-es-ca': '/path/to/es-ca',
  'fleet-server-es-cert': '/path/to/fleet-es-cert',
  'fleet-server-es-cert-key': '/path/to/fleet-es-cert-key',
  'fleet-server-cert': '/path/to/fleet-cert',
  'fleet-server-cert-key': '/path/to/fleet-cert-key',
  'fleet-server-client-auth': 'required',
  'fleet-server-service-token': 'FLEET-SERVER-SERVICE-TOKEN',
  'fleet-server-policy': 'FLEET-SERVER-POLICY-ID',
  'fleet-server-port': '8220',
};

const argv = (flags: Readonly<Record<string, string | true>>) =>
  Object.entries(flags).map(([name, value]) => (value === true ? `--${name}` : `--${name}=${value}`));
const plan = (args: readonly string[], ctx: PlanContext = context): InstallPlan => planInstall(parseInstallFlags(args), ctx);

function planError(args: readonly string[], ctx: PlanContext = context): { code: string; message: string } {
  try {
    plan(args, ctx);
  } catch (error) {
    expect(error).toBeInstanceOf(HarnessError);
    return { code: (error as HarnessError).code, message: (error as HarnessError).message };
  }
  throw new Error(`planned without an error: ${args.join(' ')}`);
}

/** Certificates compared by their DER bytes. */
const fingerprints = (certs: readonly { der: Buffer }[] | undefined) => certs?.map((c) => c.der.toString('base64'));
const pkiCerts = (...names: PkiObjectName[]) =>
  fingerprints(names.map((name) => (name in pki.cas ? pki.cas[name as 'fleet-ca'] : pki.leaves[name as 'fleet-cert'])));

describe('planInstall validation, in the agent\'s words', () => {
  const URL = '--url=https://localhost:8220';
  it.each([
    ['no --url', [], '--url is required: the URL the agent enrolls through (e.g. https://localhost:8220)'],
    ['a --url that is not a URL', ['--url=not a url'], "--url: 'not a url' is not a URL"],
    ['an http --url without --insecure', ['--url=http://localhost:8220'],
      'connection to fleet-server is insecure, strongly recommended to use a secure connection (override with --insecure)'],
    ['a relative --certificate-authorities', [URL, '--certificate-authorities=certs/fleet-ca.crt'], '--certificate-authorities must be provided as an absolute path'],
    ['a relative --elastic-agent-cert', [URL, '--elastic-agent-cert=agent.crt'], '--elastic-agent-cert must be provided as an absolute path'],
    ['a relative --elastic-agent-cert-key', [URL, '--elastic-agent-cert-key=agent.key'], '--elastic-agent-cert-key must be provided as an absolute path'],
    ['a relative --elastic-agent-cert-key-passphrase', [URL, '--elastic-agent-cert-key-passphrase=pass'],
      '--elastic-agent-cert-key-passphrase must be provided as an absolute path'],
    ['a relative --fleet-server-cert-key-passphrase', [URL, '--fleet-server-cert-key-passphrase=./pass'],
      '--fleet-server-cert-key-passphrase must be provided as an absolute path'],
    ['a passphrase without --elastic-agent-cert', [URL, '--elastic-agent-cert-key=/path/to/agent-cert-key', '--elastic-agent-cert-key-passphrase=/path/to/agent-cert-key-passphrase'],
      '--elastic-agent-cert and --elastic-agent-cert-key must be provided when using --elastic-agent-cert-key-passphrase'],
    ['a passphrase without --elastic-agent-cert-key', [URL, '--elastic-agent-cert=/path/to/agent-cert', '--elastic-agent-cert-key-passphrase=/path/to/agent-cert-key-passphrase'],
      '--elastic-agent-cert and --elastic-agent-cert-key must be provided when using --elastic-agent-cert-key-passphrase'],
    ['--fleet-server-cert without its key', [URL, '--fleet-server-cert=/path/to/fleet-cert'], 'certificate private key is required when certificate provided'],
    ['--fleet-server-cert-key without its certificate', [URL, '--fleet-server-cert-key=/path/to/fleet-cert-key'], 'certificate is required when certificate private key is provided'],
    ['both a service token and a service token path', [URL, '--fleet-server-service-token=T', '--fleet-server-service-token-path=/t'],
      '--fleet-server-service-token and --fleet-server-service-token-path are mutually exclusive'],
    ['an unknown --fleet-server-client-auth', [URL, '--fleet-server-client-auth=sometimes'], '--fleet-server-client-auth must be one of [none, optional, required]'],
    ['an unknown --es-client-auth', [URL, '--es-client-auth=always'], '--es-client-auth must be one of [none, optional, required]'],
    ['an unknown --tls', [URL, '--tls=1.4'], '--tls must be one of 1.2, 1.3, both'],
    ['a --fleet-server-es that is not a URL', [URL, '--fleet-server-es=nope nope', '--fleet-server-service-token=T'], "--fleet-server-es: 'nope nope' is not a URL"],
    ['a --fleet-server-es with another scheme', [URL, '--fleet-server-es=ftp://localhost:9200', '--fleet-server-service-token=T'],
      'invalid connection string: scheme must be http or https'],
    ['--fleet-server-es without a service token', [URL, '--fleet-server-es=https://localhost:9200'], 'invalid connection string: must include a service token'],
    ['--fleet-server-es-cert without its key', [URL, '--fleet-server-es-cert=/path/to/fleet-es-cert'], '--fleet-server-es-cert and --fleet-server-es-cert-key go together'],
    ['--fleet-server-es-cert-key without its certificate', [URL, '--fleet-server-es-cert-key=/path/to/fleet-es-cert-key'],
      '--fleet-server-es-cert and --fleet-server-es-cert-key go together'],
    ['a port above 65535', [URL, '--fleet-server-port=65536'], "--fleet-server-port: '65536' is not a port number"],
    ['a port that is not a number', [URL, '--fleet-server-port=eighty'], "--fleet-server-port: 'eighty' is not a port number"],
  ])('refuses %s with FTH_USAGE', (_, args, message) => {
    expect(planError(args)).toEqual({ code: 'FTH_USAGE', message });
  });

  it('accepts an http --url with --insecure, and the agent then verifies nothing', () => {
    expect(plan(['--url=http://localhost:8220', '--insecure']).agent.tls.verificationMode).toBe('none');
  });
});

describe('planInstall defaults', () => {
  it('plans the page\'s mutual command: modes, versions, ports, token and policy', () => {
    const p = plan(argv(MUTUAL));
    expect(p.url).toBe('https://localhost:8220');
    expect(p.agent.tls.verificationMode).toBe('full');
    expect(p.agent.tls.versions).toEqual({ min: '1.2', max: '1.3' });
    expect(p.versions).toEqual({ min: '1.2', max: '1.3' });
    expect(p.fleetServer).toMatchObject({
      host: '127.0.0.1', port: 8220, selfSigned: false, clientAuthentication: 'required',
      elasticsearchUrl: 'https://localhost:9200', serviceToken: 'FLEET-SERVER-SERVICE-TOKEN', policyId: 'FLEET-SERVER-POLICY-ID',
    });
    expect(p.fleetServer.elasticsearchTls.verificationMode).toBe('full');
    expect(p.elasticsearch).toMatchObject({ port: 9200, clientAuthentication: 'optional' });
    expect(p.hints).toEqual([]);
    expect(p.agent.loadError).toBeUndefined();
  });

  it('restricts the versions with --tls and notes the inert flags', () => {
    const p = plan(['--url=https://localhost:8220', '--tls=1.3', '-f', '--tag=a', '--proxy-url=http://p:3128']);
    expect(p.versions).toEqual({ min: '1.3', max: '1.3' });
    expect(p.notes[0]).toBe('accepted but not emulated: --force, --tag');
    // --proxy-url is emulated: the agent dials through it (no --fleet-server-es, so nothing bypasses it).
    expect(p.agent.proxy).toMatchObject({ disabled: false, bypassed: false, route: { scheme: 'http', host: 'p', port: 3128 } });
  });

  it('gives Fleet Server the self-signed certificate without --fleet-server-cert, and Elasticsearch a free port', () => {
    const p = plan(['--url=https://localhost:8220']);
    expect(p.fleetServer.selfSigned).toBe(true);
    expect(p.fleetServer.identity).toBe(context.makeSelfSigned());
    expect(p.elasticsearch.port).toBe(0);
    expect(p.notes).toEqual([
      'no --fleet-server-cert: Fleet Server uses a self-signed certificate for this host, as the agent generates one',
      'no --fleet-server-es: the agent enrolls into a Fleet Server the harness sets up from --certs',
    ]);
  });

  it('maps a non-loopback --fleet-server-es host to a free port', () => {
    expect(plan(argv({ ...MUTUAL, 'fleet-server-es': 'https://es.example.com:9200' })).elasticsearch.port).toBe(0);
  });
});

describe('planInstall /path/to/<name> placeholders', () => {
  it('reads <name> as <certs>/<name>.crt, <name>-key as <name>.key and the passphrase file as itself', () => {
    const p = plan(argv(MUTUAL));
    expect(fingerprints(p.agent.tls.certificateAuthorities)).toEqual(pkiCerts('fleet-ca', 'agent-ca'));
    expect(fingerprints(p.fleetServer.certificateAuthorities)).toEqual(pkiCerts('fleet-ca', 'agent-ca'));
    expect(fingerprints(p.agent.tls.certificate?.chain)).toEqual(pkiCerts('agent-cert'));
    expect(p.agent.tls.certificate?.keyPem).toBe(pki.leaves['agent-cert'].key.export({ type: 'pkcs8', format: 'pem' }));
    expect(p.fleetServer.identity.certPem).toBe(pki.leaves['fleet-cert'].pem);
    expect(fingerprints(p.fleetServer.elasticsearchTls.certificateAuthorities)).toEqual(pkiCerts('es-ca'));
    expect(fingerprints(p.fleetServer.elasticsearchTls.certificate?.chain)).toEqual(pkiCerts('fleet-es-cert'));
    const shown = (file: string) => path.relative(process.cwd(), file);
    expect(p.notes).toContain(`/path/to/agent-cert-key read as ${shown(pki.keyPath('agent-cert'))}`);
    expect(p.notes).toContain(`/path/to/agent-cert-key-passphrase read as ${shown(pki.passphrasePath)}`);
    expect(p.notes).toContain(`/path/to/fleet-ca read as ${shown(pki.certPath('fleet-ca'))}`);
  });

  it('reads a placeholder from extraDir first when the file is there, and from the PKI otherwise', async () => {
    const extraDir = await mkdtemp(path.join(root, 'extra-'));
    await writeFile(path.join(extraDir, 'fleet-ca.crt'), pki.cas['es-ca'].pem);
    await cp(pki.certPath('es-cert'), path.join(extraDir, 'rogue.crt'));
    await cp(pki.keyPath('es-cert'), path.join(extraDir, 'rogue.key'));
    const p = plan(argv({ ...MUTUAL, 'fleet-server-cert': '/path/to/rogue', 'fleet-server-cert-key': '/path/to/rogue-key' }), { ...context, extraDir });
    expect(fingerprints(p.agent.tls.certificateAuthorities)).toEqual(pkiCerts('es-ca', 'agent-ca'));
    expect(p.fleetServer.identity.certPem).toBe(pki.leaves['es-cert'].pem);
    expect(fingerprints(p.fleetServer.elasticsearchTls.certificateAuthorities)).toEqual(pkiCerts('es-ca'));
  });

  it('reads an absolute path that is not a placeholder as it is', () => {
    const p = plan(argv({ ...MUTUAL, 'certificate-authorities': pki.certPath('es-ca') }));
    expect(fingerprints(p.agent.tls.certificateAuthorities)).toEqual(pkiCerts('es-ca'));
    expect(p.notes.some((n) => n.startsWith(pki.certPath('es-ca')))).toBe(false);
  });
});

describe('planInstall with the page\'s repeated --elastic-agent-cert-key', () => {
  it('plans a failing agent, as the real one fails, with a hint naming --elastic-agent-cert-key-passphrase', () => {
    const { 'elastic-agent-cert-key-passphrase': _, ...withoutPassphrase } = MUTUAL;
    const args = [...argv(withoutPassphrase), '--elastic-agent-cert-key=/path/to/agent-cert-key-passphrase'];
    const p = plan(args);
    expect(p.agent.loadError).toBe(`Failed reading key file: no pem file\nError: no pem file ${pki.passphrasePath}`);
    expect(p.agent.tls.certificate).toBeUndefined();
    expect(p.hints).toEqual([
      '--elastic-agent-cert-key was given 2 times and the last value wins (/path/to/agent-cert-key-passphrase); ' +
      'Elastic\'s page repeats it where it means --elastic-agent-cert-key-passphrase',
    ]);
  });
});

describe('planInstall refusing unreadable material', () => {
  it('refuses a wrong passphrase file with FTH_KEY_PASSPHRASE naming --elastic-agent-cert-key', async () => {
    const wrong = path.join(root, 'wrong-passphrase');
    await writeFile(wrong, 'not the passphrase');
    expect(planError(argv({ ...MUTUAL, 'elastic-agent-cert-key-passphrase': wrong }))).toEqual({
      code: 'FTH_KEY_PASSPHRASE',
      message: `--elastic-agent-cert-key ${pki.keyPath('agent-cert')}: failed to parse key: pkcs8: incorrect password`,
    });
  });

  const missing = (flag: string) => path.join(tmpdir(), 'fth-unit-plan-missing', `${flag}.pem`);
  it.each([
    'certificate-authorities',
    'elastic-agent-cert',
    'elastic-agent-cert-key',
    'elastic-agent-cert-key-passphrase',
    'fleet-server-cert',
    'fleet-server-cert-key',
    'fleet-server-es-ca',
    'fleet-server-es-cert',
    'fleet-server-es-cert-key',
  ])('refuses a missing --%s file with FTH_FILE_UNREADABLE naming that flag', (flag) => {
    expect(planError(argv({ ...MUTUAL, [flag]: missing(flag) }))).toEqual({
      code: 'FTH_FILE_UNREADABLE',
      message: `--${flag} ${missing(flag)}: no such file or directory`,
    });
  });

  it.each([
    ['es-cert', { 'es-cert': missing('es-cert'), 'es-cert-key': '/path/to/es-cert-key' }],
    ['es-cert-key', { 'es-cert': '/path/to/es-cert', 'es-cert-key': missing('es-cert-key') }],
    ['es-client-ca', { 'es-client-ca': missing('es-client-ca') }],
  ])('refuses a missing --%s file with FTH_FILE_UNREADABLE naming that flag', (flag, extra) => {
    expect(planError(argv({ ...MUTUAL, ...extra }))).toEqual({
      code: 'FTH_FILE_UNREADABLE',
      message: `--${flag} ${missing(flag)}: no such file or directory`,
    });
  });

  it('refuses a missing --fleet-server-service-token-path file with FTH_FILE_UNREADABLE naming the flag', () => {
    const { 'fleet-server-service-token': _, ...withoutToken } = MUTUAL;
    const file = missing('token');
    expect(planError(argv({ ...withoutToken, 'fleet-server-service-token-path': file }))).toEqual({
      code: 'FTH_FILE_UNREADABLE',
      message: `--fleet-server-service-token-path ${file}: no such file or directory`,
    });
  });

  it('reads the service token from --fleet-server-service-token-path, trimmed', async () => {
    const { 'fleet-server-service-token': _, ...withoutToken } = MUTUAL;
    const file = path.join(root, 'token');
    await writeFile(file, 'AAEAAWVsYXN0aWMvZmxlZXQtc2VydmVyL3Rva2Vu\n');
    expect(plan(argv({ ...withoutToken, 'fleet-server-service-token-path': file })).fleetServer.serviceToken).toBe('AAEAAWVsYXN0aWMvZmxlZXQtc2VydmVyL3Rva2Vu');
  });
});
