import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cliInProcess, fleetTls } from '../helpers/cli.js';
import { scratchDir } from '../helpers/pki.js';

/* What a newcomer meets in the first hour: pipes, colours, a readable end of a run, progress. */
let dir: string;
let cleanup: () => Promise<void>;
let certs: string;
beforeAll(async () => {
  ({ dir, cleanup } = await scratchDir('fth-first-hour-'));
  certs = path.join(dir, 'certs');
  expect((await cliInProcess(['certs', '--out', certs, '--key-type', 'ecdsa'])).status).toBe(0);
}, 60_000);
afterAll(() => cleanup());

describe('pipes', () => {
  it('exits 0 quietly when the reader of its output goes away (`| head -1`, `| true`)', async () => {
    for (const reader of ['head -1', 'true']) {
      // `true` is gone before the CLI writes its first byte, so the write meets EPIPE every time.
      const result = await execa('bash', ['-c', `set -o pipefail; "${process.execPath}" "${BIN}" scenarios --json | ${reader}`], { reject: false, env: { NO_COLOR: '1' } });
      expect([result.exitCode, result.stderr]).toEqual([0, '']);
    }
  }, 90_000);
});

describe('the end of a run', () => {
  const ids = ['flow.one-way', 'flow.mutual'];

  it('--quiet prints the summary only: counts, then the time', async () => {
    const result = await cliInProcess(['run', ...ids, '--tls', '1.3', '--quiet', '--certs', certs]);
    expect(result.status).toBe(0);
    expect(result.out).toMatch(/^2 scenarios under TLS 1\.3: every one behaved as its file expects\n2 passed, 0 failed\nin \d+\.\d\d s\n$/);
  }, 90_000);

  it('--failures-only leaves out the scenarios that behaved, and keeps the summary', async () => {
    const result = await cliInProcess(['run', 'flow.one-way', 'flow.mutual', '--tls', '1.3', '--failures-only', '--certs', certs]);
    expect(result.status).toBe(0);
    expect(result.out).not.toMatch(/^✓ /m);
    expect(result.out).toContain('\n2 passed, 0 failed\n');
  }, 90_000);

  it('draws progress on a terminal\'s stderr and clears it, never on stdout', async () => {
    const result = await cliInProcess(['run', ...ids, '--tls', '1.3', '--quiet', '--certs', certs], dir, { progress: true });
    expect(result.err).toMatch(/^\r\u001b\[K\[1\/2\] 0 failed {2}flow\.\S+ TLS 1\.3\r\u001b\[K\[2\/2\] 0 failed {2}flow\.\S+ TLS 1\.3\r\u001b\[K$/);
    expect(result.out).not.toContain('\r');
  }, 90_000);

  it('colours a pipe under FORCE_COLOR, and not under NO_COLOR alone', async () => {
    const args = ['run', 'flow.one-way', '--tls', '1.3', '--quiet', '--certs', certs];
    const [forced, plain] = await Promise.all([fleetTls(args, { env: { FORCE_COLOR: '1' } }), fleetTls(args)]);
    expect(forced.stdout).toContain('\u001b[32mevery one behaved as its file expects');
    expect(plain.stdout).not.toContain('\u001b[');
    expect([forced.stderr, plain.stderr]).toEqual(['', '']);
  }, 90_000);
});
