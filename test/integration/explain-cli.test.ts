import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetTls } from '../helpers/cli.js';
import { cliInProcess } from '../helpers/cli.js';
import { scratchDir } from '../helpers/pki.js';

const C1 = 'Error: fail to enroll: fail to execute request to fleet-server: x509: certificate signed by unknown authority';
/** A client that reset the connection mid-handshake: Fleet Server logs it, no scenario writes it. */
const RESET = 'http: TLS handshake error from 10.3.0.179:18013: read tcp 10.3.2.43:8220->10.3.0.179:18013: read: connection reset by peer';

describe('fleet-tls explain --json', () => {
  it('prints { matches, closest } with scenario, score, cause, fix and reproduce, best first, and exits 0', async () => {
    const result = await fleetTls(['explain', '--json', C1]);
    expect([result.exitCode, result.stderr]).toEqual([0, '']);
    const document = JSON.parse(result.stdout) as { matches: Array<Record<string, unknown>>; closest: unknown[] };
    expect(Object.keys(document)).toEqual(['matches', 'closest']);
    expect(document.closest).toEqual([]);
    expect(document.matches[0]).toEqual({
      scenario: 'agent-fleet.one-way.agent-lacks-fleet-ca',
      score: 1,
      cause: expect.stringMatching(/^\S.*\S$/),
      fix: expect.stringContaining('--certificate-authorities'),
      reproduce: 'fleet-tls run agent-fleet.one-way.agent-lacks-fleet-ca',
      title: 'The agent does not trust fleet-ca',
      match: 'exact',
      olderWording: false,
      component: 'agent',
      leg: 'agent->fleet-server',
      tls: null,
      template: 'fail to enroll: fail to execute request to fleet-server: x509: certificate signed by unknown authority',
      install: expect.stringMatching(/^elastic-agent install --url=https:\/\/localhost:8220 /),
      note: null,
    });
    expect(document.matches[0]!.install).not.toContain('--certificate-authorities');
    const scores = document.matches.map((m) => m.score as number);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
  });

  it('for a line nothing writes: no matches, the closest scenarios, exit 1', async () => {
    const result = await fleetTls(['explain', '--json', RESET]);
    expect([result.exitCode, result.stderr]).toEqual([1, '']);
    const document = JSON.parse(result.stdout) as { matches: unknown[]; closest: Array<{ scenario: string; score: number }> };
    expect(document.matches).toEqual([]);
    expect(document.closest.length).toBeGreaterThan(0);
    expect(document.closest.length).toBeLessThanOrEqual(3);
    expect(document.closest.every((m) => m.score > 0 && m.score < 0.5)).toBe(true);
  });
});

describe('fleet-tls explain as text', () => {
  it('prints each match with its cause, fix, the command that reproduces it and the install command the scenario emulates', async () => {
    const { status, out, err } = await cliInProcess(['explain', C1]);
    expect([status, err]).toEqual([0, '']);
    const lines = out.split('\n');
    expect(lines[0]).toBe('1. agent-fleet.one-way.agent-lacks-fleet-ca  1.00 the same line (agent, agent → fleet-server)');
    expect(lines[1]).toBe('   The agent does not trust fleet-ca');
    expect(lines[2]).toMatch(/^ {3}cause {6}\S/);
    expect(lines[3]).toMatch(/^ {3}fix {8}.*--certificate-authorities/);
    expect(lines[4]).toBe('   reproduce  fleet-tls run agent-fleet.one-way.agent-lacks-fleet-ca');
    expect(lines[5]).toMatch(/^ {3}install {4}elastic-agent install --url=https:\/\/localhost:8220 /);
  });

  it('says so when nothing matches and suggests the closest scenarios, with a command to compare', async () => {
    const { status, out, err } = await cliInProcess(['explain', RESET]);
    expect([status, err]).toEqual([1, '']);
    const lines = out.trimEnd().split('\n');
    expect(lines.slice(0, 2)).toEqual(['No scenario writes this line.', 'Closest:']);
    expect(lines.slice(2, -1).every((l) => /^ {2}[a-z0-9.-]+ +0\.\d\d {2}\S/.test(l))).toBe(true);
    expect(lines.at(-1)).toMatch(/^Compare with: fleet-tls run [a-z0-9.-]+$/);
  });

  it('says when nothing in the catalog is close at all', async () => {
    const { status, out } = await cliInProcess(['explain', 'cp: cannot create regular file \'/etc/pki/ca-trust/source/anchors/ca.crt\': Permission denied']);
    expect(status).toBe(1);
    expect(out).toBe('No scenario writes this line.\nNothing in the catalog is close; `fleet-tls scenarios` lists it.\n');
  });

  it('reads a line that starts with a dash after --, and joins unquoted words', async () => {
    const dashed = await cliInProcess(['explain', '--json', '--', '--fleet-server-client-auth must be one of [none, optional, required]']);
    expect([dashed.status, dashed.err]).toEqual([1, '']);
    const words = await cliInProcess(['explain', '--json', ...C1.split(' ')]);
    expect((JSON.parse(words.out) as { matches: Array<{ scenario: string }> }).matches[0]!.scenario).toBe('agent-fleet.one-way.agent-lacks-fleet-ca');
  });
});

describe('fleet-tls explain refusing bad input with exit status 2 and one line', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => { ({ dir, cleanup } = await scratchDir('fth-explain-cli-')); });
  afterAll(() => cleanup());

  it('refuses no line at all', async () => {
    const result = await fleetTls(['explain']);
    expect([result.exitCode, result.stdout, result.stderr]).toEqual([2, '', "fleet-tls: FTH_USAGE: missing required argument 'line'"]);
  });

  it.each([[''], ['   '], ['\n\t']])('refuses an empty line (%j)', async (line) => {
    expect(await cliInProcess(['explain', line])).toEqual({
      status: 2, out: '', err: 'fleet-tls: FTH_USAGE: explain: the log line is empty (paste it in quotes: fleet-tls explain "LINE")\n',
    });
  });

  it('refuses a catalog with a malformed alsoSeenAs, naming the file and the key', async () => {
    await mkdir(path.join(dir, 'scenarios'), { recursive: true });
    const file = path.join(dir, 'scenarios', 'x.yaml');
    await writeFile(file, 'id: x\ntitle: X\nflow: one-way\nalsoSeenAs: not a list\nexpect:\n  agent->fleet-server: { ok: true }\n  fleet-server->elasticsearch: { ok: true }\n');
    const { status, out, err } = await cliInProcess(['explain', C1, '--catalog', dir]);
    expect([status, out]).toEqual([2, '']);
    expect(err).toBe(`fleet-tls: FTH_SCENARIO_SCHEMA: ${file}: alsoSeenAs: Invalid input: expected array, received string\n`);
  });
});
