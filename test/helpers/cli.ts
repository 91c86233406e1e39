import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { runCli } from '../../src/cli/main.js';
import type { Io } from '../../src/cli/io.js';
import { execa } from 'execa';

export const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/cli/bin.js');
const env = { NO_COLOR: '1' };

/** The built CLI as a user runs it: a child process, never rejecting on a non-zero exit. */
export function fleetTls(args: readonly string[], options: { cwd?: string; env?: Record<string, string> } = {}) {
  return execa(process.execPath, [BIN, ...args], { reject: false, ...options, env: { ...env, ...options.env } });
}

/** The same, for a long-running command whose output is read as it streams (serve). */
export function fleetTlsProcess(args: readonly string[]) {
  return execa(process.execPath, [BIN, ...args], { reject: false, env, buffer: false });
}

/** The CLI in-process, as `fleet-tls ...` would run it: status and what it printed. */
export async function cliInProcess(argv: readonly string[], cwd = process.cwd(), tty: { color?: boolean; progress?: boolean } = {}): Promise<{ status: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = {
    out: (text) => { out += text; },
    err: (text) => { err += text; },
    isTty: tty.color ?? false,
    progress: tty.progress ?? false,
    cwd,
    untilStopped: () => new Promise<string>(() => {}),
  };
  const status = await runCli(argv, io);
  return { status, out, err };
}
