import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TSC = path.join(ROOT, 'node_modules/typescript/bin/tsc');

/** The runtime names of the public API; anything else the index exports is an internal leaking out. */
const PUBLIC_NAMES = [
  'BUILTIN_HARNESS', 'CA_NAMES', 'ERROR_CODES', 'Explainer', 'FakeElasticsearch', 'FakeFleetServer', 'FakeForwardProxy', 'FakeInterceptingProxy', 'FakeSocksProxy', 'GENERATED_ROOT_NAME', 'HarnessError', 'HealthChecker', 'LEAF_NAMES',
  'authorities', 'createPki', 'doctor', 'enrollAgent', 'explainDocument', 'explainLine', 'findScenarios', 'identity',
  'install', 'isHarnessError', 'legKey', 'loadCatalog', 'loadCertificateAuthorities', 'loadIdentity', 'probe', 'runFlow',
  'runScenario', 'runScenarios', 'startElasticsearch', 'startFleetServer', 'startForwardProxy', 'startInterceptingProxy', 'startSocksProxy',
];

// What a consumer writes: the README's fixture through the installed package, types checked by tsc.
const CONSUMER = `
import { createPki, enrollAgent, startElasticsearch, startFleetServer, isHarnessError, runScenario, type Leg } from 'fleet-tls-harness';
import * as api from 'fleet-tls-harness';

const pki = await createPki();
await using es = await startElasticsearch({ pki, clientAuthentication: 'required' });
await using fleet = await startFleetServer({ pki, elasticsearch: es, clientAuthentication: 'required' });
const enrolled = await enrollAgent({ pki, fleetServer: fleet });
const refused = await enrollAgent({ pki, fleetServer: fleet, clientCertificate: false });
const leg: Leg = refused.leg;
const unknown = await runScenario('no.such.scenario', { pki }).catch((error: unknown) => (isHarnessError(error) ? error.code : 'other'));
console.log(JSON.stringify({ names: Object.keys(api).sort(), state: fleet.state, ok: enrolled.ok, rejectedBy: leg.rejectedBy, alert: leg.alert, unknown }));
`;

describe('the packed package, installed into a project of its own', () => {
  let work: string;
  let tarball: string;
  let files: string[];
  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'fleet-tls-pack-'));
    // `npm test` built dist already (pretest); --ignore-scripts keeps pack from building it again.
    const packed = await execa('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: ROOT });
    const [info] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    tarball = path.join(work, info!.filename);
    files = info!.files.map((f) => f.path);
  }, 300_000);
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('ships dist with its declarations, the catalog, the API reference and the README, and no source maps or sources', () => {
    expect(files).toEqual(expect.arrayContaining(['dist/index.js', 'dist/index.d.ts', 'dist/cli/bin.js', 'docs/api/README.md', 'README.md', 'package.json', 'harness/flows/one-way.yaml']));
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(files.filter((f) => /^(src|test|scripts|node_modules)\//.test(f))).toEqual([]);
    expect(files.filter((f) => f.startsWith('dist/') && !/\.(js|d\.ts|json)$/.test(f))).toEqual([]);
  });

  it('imports only the public names, type-checks against its declarations, and runs the README fixture over mutual TLS', async () => {
    const project = path.join(work, 'consumer');
    await execa('mkdir', ['-p', project]);
    await writeFile(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    // Dependencies come from npm's cache when it has them (it does after `npm ci`).
    await execa('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball], { cwd: project });
    await writeFile(path.join(project, 'consumer.ts'), CONSUMER);
    await writeFile(path.join(project, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', lib: ['ES2023', 'ESNext.Disposable'], module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: false, types: [], typeRoots: [path.join(ROOT, 'node_modules/@types')], outDir: 'out' },
      files: ['consumer.ts'],
    }));
    const compiled = await execa(process.execPath, [TSC, '-p', project, '--types', 'node'], { cwd: project, reject: false });
    expect(compiled.stdout + compiled.stderr).toBe('');
    expect(compiled.exitCode).toBe(0);
    const run = await execa(process.execPath, [path.join(project, 'out/consumer.js')], { cwd: project, reject: false });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({
      names: PUBLIC_NAMES, state: 'HEALTHY', ok: true, rejectedBy: 'server', alert: 'certificate_required', unknown: 'FTH_SCENARIO_UNKNOWN',
    });
    // Deep imports of internals are closed by the exports map.
    const deep = await execa(process.execPath, ['--input-type=module', '-e', "await import('fleet-tls-harness/dist/components/go-client.js')"], { cwd: project, reject: false });
    expect(deep.stderr).toContain('ERR_PACKAGE_PATH_NOT_EXPORTED');
    expect(JSON.parse(await readFile(path.join(project, 'node_modules/fleet-tls-harness/package.json'), 'utf8'))).toMatchObject({ exports: { '.': { types: './dist/index.d.ts', import: './dist/index.js' } } });
    // Generous: npm, tsc and the fixture share two cores with the rest of the suite.
  }, 600_000);
});
