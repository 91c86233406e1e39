import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { execa } from 'execa';

export const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/cli/bin.js');
const env = { NO_COLOR: '1' };

/** The built CLI as a user runs it: a child process, never rejecting on a non-zero exit. */
export function fleetTls(args: readonly string[], options: { cwd?: string } = {}) {
  return execa(process.execPath, [BIN, ...args], { reject: false, env, ...options });
}

/** The same, for a long-running command whose output is read as it streams (serve). */
export function fleetTlsProcess(args: readonly string[]) {
  return execa(process.execPath, [BIN, ...args], { reject: false, env, buffer: false });
}
