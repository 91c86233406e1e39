import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { buildProgram } from '../../src/cli/main.js';
import { parseInstallFlags } from '../../src/flows/install-flags.js';
import { loadCatalog, BUILTIN_HARNESS } from '../../src/scenarios/catalog.js';
import { cliInProcess, fleetTls } from '../helpers/cli.js';
import { freePort } from '../helpers/net.js';
import { scratchDir } from '../helpers/pki.js';
import { serve, type Served } from '../helpers/serve.js';

/*
 * Every command in a fenced block of README.md and every YAML example of harness/README.md, each
 * with its check: run as written (ports the README fixes become free ones), or, where it needs a
 * customer's files or measures for minutes, parsed by the CLI itself so a renamed or dropped flag
 * fails here. A command added to a README without a row below fails the first test.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface Example { readonly file: string; readonly lang: string; readonly text: string }

async function examples(file: string): Promise<Example[]> {
  const text = await readFile(path.join(ROOT, file), 'utf8');
  return [...text.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => ({ file, lang: m[1]!, text: m[2]! }));
}

/** The commands of a shell block: continuations joined, comments and `$ ` prompts dropped. */
function commands(block: string): string[] {
  return block.replace(/\\\n\s*/g, ' ').split('\n')
    .map((l) => l.replace(/^\$ /, '').replace(/\s+#.*$/, '').replace(/\s+/g, ' ').trim())
    .filter((l) => /^(node dist\/cli\/bin\.js|npm|curl|openssl) /.test(l));
}

const PROXY_INSTALL = 'node dist/cli/bin.js install --url=https://localhost:8220 --certificate-authorities=/path/to/fleet-ca '
  + '--fleet-server-cert=/path/to/fleet-cert --fleet-server-cert-key=/path/to/fleet-cert-key --fleet-server-es-ca=/path/to/es-ca '
  + '--fleet-server-port=8220 --proxy-url=http://agent:proxy-secret@127.0.0.1:3128';

/** How each README command is held to what it says. */
const CHECKS: Record<string, 'script' | 'serve' | 'explain' | 'install' | 'proxy-install' | 'parse'> = {
  'npm ci && npm start': 'script',
  'npm test': 'script',
  'node dist/cli/bin.js serve --fleet-server-client-auth required &': 'serve',
  'curl --cacert certs/fleet-ca.crt https://localhost:8220/api/status': 'serve',
  'curl --cacert certs/fleet-ca.crt --cert certs/agent-cert.crt --key certs/agent-cert.key --pass "$(cat certs/agent-cert-key-passphrase)" https://localhost:8220/api/status': 'serve',
  'openssl s_client -connect localhost:8220 -CAfile certs/fleet-ca.crt -verify_return_error </dev/null': 'serve',
  "node dist/cli/bin.js explain 'Error: fail to enroll: fail to execute request to fleet-server: x509: certificate signed by unknown authority'": 'explain',
  // A customer's files under /etc/pki: parsed only.
  'node dist/cli/bin.js doctor --url=https://fleet.example.com:8220 --certificate-authorities=/etc/pki/root.crt --fleet-server-es=https://localhost:9200 --fleet-server-es-ca=/etc/pki/root.crt --fleet-server-cert=/etc/pki/fleet.crt --fleet-server-cert-key=/etc/pki/fleet.key --fleet-server-cert-key-passphrase=/etc/pki/passphrase --fleet-server-service-token=TOKEN --es-keystore=elastic-certificates.p12 --es-keystore-password=PW': 'parse',
  // A server of the reader's own (fleet.crt, int.crt, root.crt): probe is run against openssl in probe-vs-openssl-server.test.ts.
  'openssl s_server -accept 8443 -www -cert fleet.crt -key fleet.key -cert_chain int.crt -Verify 1 -CAfile root.crt &': 'parse',
  'node dist/cli/bin.js probe https://localhost:8443/ -a root.crt': 'parse',
  // Measurements of seconds to minutes: load-cli.test.ts runs load itself.
  'node dist/cli/bin.js load --agents 200 --concurrency 32 --duration 10s': 'parse',
  'node dist/cli/bin.js load --sessions resume --json': 'parse',
  'node dist/cli/bin.js load --hold --agents 10000 --concurrency 200 --sessions resume': 'parse',
  'node dist/cli/bin.js load --url https://fleet.example:8220 --enrollment-token TOKEN --certs certs': 'parse',
  // The whole catalog with its pictures: capture-tshark and report-browser tests write and read these files.
  'npm start -- --html report.html --keylog keys.log --pcap legs.pcapng': 'parse',
  // Run below on free ports, its report held to the block after it.
  [PROXY_INSTALL]: 'proxy-install',
  // serve's proxies and probe through them: proxy-commands.test.ts runs both against tinyproxy and dante.
  'node dist/cli/bin.js serve --forward-proxy 3128 --forward-proxy-auth agent:proxy-secret --socks-proxy 1080 &': 'parse',
  'node dist/cli/bin.js probe https://localhost:8220/api/status -a certs/fleet-ca.crt --proxy-url socks5://127.0.0.1:1080': 'parse',
  // Basic authentication against the fake Elasticsearch: elasticsearch-rest.test.ts and both official clients use it.
  'curl --cacert certs/es-ca.crt -u "elastic:$PASSWORD" https://localhost:9200/_cluster/health': 'parse',
};

let readme: Example[];
let dir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  readme = await examples('README.md');
  ({ dir, cleanup } = await scratchDir('fth-readme-'));
  expect((await cliInProcess(['certs', '--out', path.join(dir, 'certs')])).status).toBe(0);
}, 60_000);
afterAll(() => cleanup());

const all = () => readme.filter((e) => e.lang === 'sh' || e.lang === '').flatMap((e) => commands(e.text));
const install = () => readme.filter((e) => e.lang === 'sh').flatMap((e) => commands(e.text)).find((c) => c.startsWith('node dist/cli/bin.js install '))!;

describe('README.md', () => {
  it('has a check for every command in its examples, and no check for a command it dropped', () => {
    const found = all().filter((c) => c !== install());
    expect(new Set(found)).toEqual(new Set(Object.keys(CHECKS)));
  });

  it('names npm scripts that exist: start runs the catalog, test installs or names its peers first', async () => {
    const scripts = (JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.start).toBe('node dist/cli/bin.js run');
    expect(scripts.pretest).toMatch(/^bash scripts\/test-peers\.sh && /);
    expect(scripts.test).toBe('vitest run');
  });

  it('every command it only shows parses: each flag exists', () => {
    for (const [command, check] of Object.entries(CHECKS)) {
      // `npm start -- FLAGS` is `run FLAGS` (package.json's start script, checked above).
      const cli = command.replace(/^npm start -- /, 'node dist/cli/bin.js run ');
      if (check !== 'parse' || !cli.startsWith('node dist/cli/bin.js ')) continue;
      const [name, ...args] = cli.replace('node dist/cli/bin.js ', '').split(/\s+/);
      const sub = buildProgram({ out() {}, err() {}, isTty: false, cwd: dir, untilStopped: () => new Promise(() => {}) }).commands.find((c) => c.name() === name)!;
      const { unknown } = sub.parseOptions(args);
      // doctor takes the install flags: those are checked as install reads them.
      if (name === 'doctor') expect(() => parseInstallFlags(unknown)).not.toThrow();
      else expect([command, unknown]).toEqual([command, []]);
    }
  });

  it('explain prints what the README shows (a line ending in … is a prefix)', async () => {
    const block = readme.find((e) => e.text.includes('$ node dist/cli/bin.js explain'))!;
    const [prompt, ...shown] = block.text.trimEnd().split('\n');
    const line = /explain '(.*)'$/.exec(prompt!)![1]!;
    const { status, out } = await cliInProcess(['explain', line], dir);
    expect(status).toBe(0);
    const printed = out.split('\n');
    shown.forEach((expected, i) => {
      if (expected.endsWith('…')) expect(printed[i]!.startsWith(expected.slice(0, -1).trimEnd())).toBe(true);
      else expect(printed[i]).toBe(expected);
    });
  });

  it('install runs Elastic\'s mutual command as written, on free ports', async () => {
    const [fleet, es] = [String(await freePort()), String(await freePort())];
    const args = install().replace('node dist/cli/bin.js ', '').replaceAll('8220', fleet).replaceAll('9200', es).split(/\s+/);
    const result = await fleetTls([...args, '--certs', 'certs'], { cwd: dir });
    expect([result.exitCode, result.stderr]).toEqual([0, '']);
  }, 60_000);

  it('install through a forward proxy prints the report the README shows, line for line', async () => {
    const index = readme.findIndex((e) => e.lang === 'sh' && commands(e.text).includes(PROXY_INSTALL));
    const shown = readme[index + 1]!;
    expect(shown.lang).toBe('text');
    const [fleet, proxy] = [String(await freePort()), String(await freePort())];
    const args = PROXY_INSTALL.replace('node dist/cli/bin.js ', '').replaceAll('8220', fleet).replaceAll('3128', proxy).split(' ');
    const result = await fleetTls([...args, '--certs', 'certs'], { cwd: dir });
    expect([result.exitCode, result.stderr]).toEqual([0, '']);
    // The free ports stand where the README has the fixed ones.
    expect(result.stdout.replaceAll(`:${fleet}`, ':8220').replaceAll(`:${proxy}`, ':3128')).toBe(shown.text.trimEnd());
  }, 60_000);

  describe('serve with curl and openssl', () => {
    let served: Served;
    beforeAll(async () => { served = await serve(path.join(dir, 'certs'), ['--fleet-server-client-auth', 'required']); }, 60_000);
    afterAll(() => served.stop('SIGINT'));
    const run = (command: string) => execa('bash', ['-c', command.replaceAll(':8220', `:${served.fleetServerPort}`)], { cwd: dir, reject: false });

    it('curl without a client certificate is refused with TLS 1.3\'s certificate_required, as the comment says', async () => {
      const result = await run(Object.keys(CHECKS)[3]!);
      expect(result.exitCode).not.toBe(0);
      expect(result.stderr).toMatch(/alert certificate required/);
    });

    it('curl with agent-cert gets Fleet Server\'s HEALTHY status', async () => {
      const result = await run(Object.keys(CHECKS)[4]!);
      expect([result.exitCode, JSON.parse(result.stdout)]).toEqual([0, expect.objectContaining({ name: 'fleet-server', status: 'HEALTHY' })]);
    });

    it('openssl s_client verifies Fleet Server\'s chain against fleet-ca', async () => {
      const result = await run(Object.keys(CHECKS)[5]!);
      expect(result.stdout).toContain('Verify return code: 0 (ok)');
    });
  });
});

describe('harness/README.md', () => {
  it('its scenario example runs as written from a catalog of one\'s own, and passes', async () => {
    const full = (await examples('harness/README.md')).filter((e) => e.lang === 'yaml' && /^id: /m.test(e.text));
    expect(full.length).toBe(1);
    const id = /^id: (\S+)/m.exec(full[0]!.text)![1]!;
    const catalog = path.join(dir, 'my-catalog');
    await mkdir(path.join(catalog, 'scenarios'), { recursive: true });
    await writeFile(path.join(catalog, 'scenarios', `${id}.yaml`), full[0]!.text);
    const result = await cliInProcess(['run', '--catalog', catalog, id, '--quiet', '--certs', 'certs'], dir);
    expect([result.status, result.err]).toEqual([0, '']);
  }, 60_000);

  it('each scenario fragment is valid in that scenario, and the flow fragment is the one-way flow\'s start', async () => {
    const blocks = (await examples('harness/README.md')).filter((e) => e.lang === 'yaml');
    const base = parseYaml(blocks.find((e) => /^id: /m.test(e.text))!.text) as Record<string, unknown>;
    const fragments = blocks.filter((e) => !/^id: /m.test(e.text));
    expect(fragments.length).toBeGreaterThan(0);
    for (const [i, fragment] of fragments.entries()) {
      const data = parseYaml(fragment.text.replace(/^\s*- \.\.\.$/gm, '')) as Record<string, unknown>;
      if ('command' in data) {
        const flow = parseYaml(await readFile(path.join(BUILTIN_HARNESS, 'flows', 'one-way.yaml'), 'utf8')) as { title: string; command: string[] };
        expect(data.title).toBe(flow.title);
        expect(flow.command.slice(0, (data.command as string[]).length)).toEqual(data.command);
        continue;
      }
      const id = `readme.fragment-${i}`;
      const catalog = path.join(dir, `fragment-${i}`);
      await mkdir(path.join(catalog, 'scenarios'), { recursive: true });
      await writeFile(path.join(catalog, 'scenarios', `${id}.yaml`), stringify({ ...base, ...data, id }));
      expect(() => loadCatalog([BUILTIN_HARNESS, catalog])).not.toThrow();
    }
  });
});
