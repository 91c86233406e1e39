import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../../src/cli/main.js';
import { cliInProcess } from '../../helpers/cli.js';

let cwd: string;
const cli = (...argv: string[]) => cliInProcess(argv, cwd);

beforeAll(async () => {
  cwd = await mkdtemp(path.join(tmpdir(), 'fth-unit-cli-'));
});

afterAll(async () => {
  await rm(cwd, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
});

describe('runCli refusing bad usage with exit status 2 and one line', () => {
  it('refuses an unknown command', async () => {
    expect(await cli('frobnicate')).toEqual({ status: EXIT.usage, out: '', err: "fleet-tls: FTH_USAGE: unknown command 'frobnicate'\n" });
  });

  it('keeps the suggestion for a misspelt command on the same line', async () => {
    expect(await cli('rn')).toEqual({ status: 2, out: '', err: "fleet-tls: FTH_USAGE: unknown command 'rn' (did you mean run?)\n" });
  });

  it('refuses an unknown option of a command', async () => {
    expect(await cli('run', '--frobnicate')).toEqual({ status: 2, out: '', err: "fleet-tls: FTH_USAGE: unknown option '--frobnicate'\n" });
    expect(await cli('run', '--jsn')).toEqual({ status: 2, out: '', err: "fleet-tls: FTH_USAGE: unknown option '--jsn' (did you mean --json?)\n" });
  });

  it('refuses run with an unknown scenario id with FTH_SCENARIO_UNKNOWN, before touching the PKI', async () => {
    expect(await cli('run', 'no-such-scenario')).toEqual({
      status: 2, out: '', err: "fleet-tls: FTH_SCENARIO_UNKNOWN: no scenario 'no-such-scenario'; `fleet-tls scenarios` lists them\n",
    });
    expect(await readdir(cwd)).toEqual([]);
  });

  it('refuses run --tls 1.4, naming --tls', async () => {
    expect(await cli('run', '--tls', '1.4')).toEqual({ status: 2, out: '', err: "fleet-tls: FTH_USAGE: --tls: '1.4' is not one of 1.2, 1.3, both\n" });
  });

  it('refuses run --concurrency 0, naming --concurrency', async () => {
    expect(await cli('run', '--concurrency', '0')).toEqual({ status: 2, out: '', err: "fleet-tls: FTH_USAGE: --concurrency: '0' is not a positive whole number\n" });
  });

  it('refuses an option with its value missing, naming it', async () => {
    expect(await cli('run', '--tls')).toEqual({ status: 2, out: '', err: "fleet-tls: FTH_USAGE: option '--tls <version>' argument missing\n" });
  });

  it('prints the help and exits 2 when no command is given, without a stray commander message', async () => {
    const { status, out, err } = await cli();
    expect(status).toBe(2);
    expect(out).toBe('');
    expect(err.startsWith('Usage: fleet-tls [options] [command]\n')).toBe(true);
    expect(err).not.toContain('(outputHelp)');
  });
});

describe('runCli help', () => {
  it('prints the help on standard output and exits 0 for --help', async () => {
    const { status, out, err } = await cli('--help');
    expect([status, err]).toEqual([EXIT.ok, '']);
    expect(out.startsWith('Usage: fleet-tls [options] [command]\n')).toBe(true);
    for (const command of ['run', 'certs', 'serve', 'install', 'scenarios']) expect(out).toContain(`\n  ${command} `);
  });
});
