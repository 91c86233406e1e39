import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harnessVersion } from '../../../src/cli/main.js';
import { colorWanted } from '../../../src/cli/io.js';
import { unread } from '../../../src/cli/commands/explain.js';
import { BUILTIN_HARNESS, findScenarios, loadCatalog } from '../../../src/scenarios/catalog.js';
import { cliInProcess } from '../../helpers/cli.js';

/*
 * Each of these once gave a silent wrong answer (exit 0 after doing nothing, or doing something
 * else); each is now exit 2 with one line naming the flag or file, decided before any PKI is
 * touched (the directory stays empty).
 */
let cwd: string;
const cli = (...argv: string[]) => cliInProcess(argv, cwd);
const oneLine = (err: string) => err.split('\n').filter(Boolean);

beforeAll(async () => { cwd = await mkdtemp(path.join(tmpdir(), 'fth-unit-silent-')); });
afterAll(() => rm(cwd, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 }));

describe('--catalog', () => {
  it('refuses a directory that does not exist, naming it', async () => {
    expect(await cli('run', '--catalog', 'nowhere', 'flow.one-way')).toEqual({ status: 2, out: '', err: 'fleet-tls: FTH_FILE_UNREADABLE: --catalog nowhere: no such directory\n' });
  });

  it('refuses a file, and a directory with neither flows/ nor scenarios/', async () => {
    await writeFile(path.join(cwd, 'a-file'), 'x');
    expect((await cli('scenarios', '--catalog', 'a-file')).err).toBe('fleet-tls: FTH_FILE_UNREADABLE: --catalog a-file: not a directory (a catalog is a directory with flows/ and scenarios/)\n');
    await mkdir(path.join(cwd, 'empty'), { recursive: true });
    expect(await cli('explain', '--catalog', 'empty', 'x509: certificate signed by unknown authority')).toEqual({ status: 2, out: '', err: 'fleet-tls: FTH_FILE_UNREADABLE: --catalog empty: holds neither flows/ nor scenarios/\n' });
  });

  it('takes one directory per --catalog, so `run --catalog DIR ID` runs ID, not a second catalog', async () => {
    await mkdir(path.join(cwd, 'cat', 'scenarios'), { recursive: true });
    // An unknown id proves the id was read as an id: it is refused by name, nothing ran.
    expect(await cli('run', '--catalog', 'cat', 'not-a-scenario')).toEqual({
      status: 2, out: '', err: "fleet-tls: FTH_SCENARIO_UNKNOWN: no scenario 'not-a-scenario'; `fleet-tls scenarios` lists them\n",
    });
    expect(await readdir(cwd)).not.toContain('certs');
  });
});

describe('run --tls and scenario selection', () => {
  it('refuses --tls 1.3 for a scenario that exists only under TLS 1.2, naming both', async () => {
    expect(await cli('run', 'protocol.agent-tls13-fleet-tls12', '--tls', '1.3')).toEqual({
      status: 2, out: '', err: "fleet-tls: FTH_USAGE: --tls 1.3: scenario 'protocol.agent-tls13-fleet-tls12' runs only under TLS 1.2 (its file's tls:)\n",
    });
  });

  it('selects by pattern in catalog order, and refuses a pattern that matches nothing, naming it', async () => {
    const catalog = loadCatalog([BUILTIN_HARNESS]);
    const mutual = findScenarios(catalog, ['agent-fleet.mutual.*']).map((s) => s.id);
    expect(mutual.length).toBeGreaterThan(3);
    expect(mutual).toEqual(catalog.scenarios.map((s) => s.id).filter((id) => id.startsWith('agent-fleet.mutual.')));
    expect(findScenarios(catalog, ['flow.*', 'flow.one-way']).map((s) => s.id)).toEqual(['flow.one-way', 'flow.mutual', 'flow.es-secure-proxy', 'flow.forward-proxy-output', 'flow.forward-proxy', 'flow.intercepting-proxy', 'flow.secure-proxy']);
    expect(await cli('run', 'agent-fleet.mutual.*', 'nothing.like.this.*')).toEqual({
      status: 2, out: '', err: "fleet-tls: FTH_SCENARIO_UNKNOWN: no scenario matches 'nothing.like.this.*'; `fleet-tls scenarios` lists them\n",
    });
  });

  it('refuses --json with --quiet or --failures-only', async () => {
    expect(oneLine((await cli('run', '--json', '--quiet')).err)).toEqual(['fleet-tls: FTH_USAGE: --json prints the whole report; it does not go with --quiet']);
  });
});

describe('service tokens', () => {
  it('refuses a --service-token with a line break before starting anything', async () => {
    expect(await cli('serve', '--service-token', 'AAEAAWVsYXN0aWM\nx')).toEqual({
      status: 2, out: '', err: 'fleet-tls: FTH_USAGE: --service-token holds a line break: a service token is one line of printable ASCII\n',
    });
  });

  it('refuses a binary --fleet-server-service-token-path file as the file, not as Elasticsearch\'s handshake', async () => {
    const file = path.join(cwd, 'token.bin');
    await writeFile(file, Buffer.from([0x41, 0x00, 0xff, 0x10, 0x42]));
    const result = await cli('install', '--url=https://127.0.0.1:8220', '--fleet-server-es=https://127.0.0.1:9200', `--fleet-server-service-token-path=${file}`, '--certs', path.join(cwd, 'pki'));
    expect(result).toEqual({
      status: 2, out: '', err: `fleet-tls: FTH_FILE_MALFORMED: --fleet-server-service-token-path ${file} holds a control character (binary data?): a service token is one line of printable ASCII\n`,
    });
  });
});

describe('load', () => {
  it('refuses --bare with --tap, and --tap with --url', async () => {
    expect(oneLine((await cli('load', '--bare', '--tap')).err)).toEqual(['fleet-tls: FTH_USAGE: --tap: the bare node:tls server (--bare) has no record tap']);
    expect((await cli('load', '--tap', '--url', 'https://127.0.0.1:1', '--enrollment-token', 'x')).status).toBe(2);
  });
});

describe('a scenario setting', () => {
  it('refuses server.timeouts.read longer than a Node timer holds (it would fire after 1 ms), with the file and key', async () => {
    const source = await readFile(path.join(BUILTIN_HARNESS, 'scenarios', 'flow.one-way.yaml'), 'utf8');
    const dir = path.join(cwd, 'slow', 'scenarios');
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, 'local.slow-read.yaml');
    await writeFile(file, `${source.replace(/^id: .*$/m, 'id: local.slow-read').replace(/^settings:.*$/m, '')}\nsettings:\n  fleet-server:\n    server.timeouts.read: 3000000s\n`);
    expect(await cli('run', '--catalog', path.join(cwd, 'slow'), 'local.slow-read')).toEqual({
      status: 2, out: '', err: `fleet-tls: FTH_SCENARIO_SCHEMA: ${file}: settings.fleet-server.server.timeouts.read: '3000000s' is longer than the harness can wait (at most 2147483647 ms, about 24 days)\n`,
    });
  });
});

describe('explain on a long paste', () => {
  it('says how much it read instead of dropping the rest silently', async () => {
    const lines = Array.from({ length: 60 }, () => 'x509: certificate signed by unknown authority').join('\n');
    expect(unread(lines)).toBe('read the first 50 of 60 lines (paste the lines that matter)');
    expect(unread(`tls: ${'a'.repeat(9000)}`)).toBe('read the first 8000 characters of a line longer than that (paste the lines that matter)');
    expect(unread('x509: certificate signed by unknown authority')).toBeUndefined();
    expect((await cli('explain', lines)).err).toBe('fleet-tls: note: read the first 50 of 60 lines (paste the lines that matter)\n');
  });
});

describe('--version and colours', () => {
  it('prints the package version', async () => {
    const pkg = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(harnessVersion()).toBe(pkg.version);
    expect(await cli('--version')).toEqual({ status: 0, out: `${pkg.version}\n`, err: '' });
  });

  it('colours a terminal, honours NO_COLOR, and lets FORCE_COLOR win either way', () => {
    expect(colorWanted({}, true)).toBe(true);
    expect(colorWanted({}, false)).toBe(false);
    expect(colorWanted({ NO_COLOR: '1' }, true)).toBe(false);
    expect(colorWanted({ NO_COLOR: '' }, true)).toBe(true);
    expect(colorWanted({ FORCE_COLOR: '1' }, false)).toBe(true);
    expect(colorWanted({ FORCE_COLOR: '1', NO_COLOR: '1' }, false)).toBe(true);
    expect(colorWanted({ FORCE_COLOR: '0' }, true)).toBe(false);
    expect(colorWanted({ TERM: 'dumb' }, true)).toBe(false);
  });
});
