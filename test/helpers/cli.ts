import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { execa, type Options } from 'execa';

export const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/cli/bin.js');

/** The built CLI as a user runs it: a child process, never rejecting on a non-zero exit. */
export function fleetTls(args: readonly string[], options: Options = {}) {
  return execa(process.execPath, [BIN, ...args], { reject: false, env: { NO_COLOR: '1' }, ...options });
}
