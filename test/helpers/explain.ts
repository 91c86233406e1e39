import { runCli } from '../../src/cli/main.js';
import type { Io } from '../../src/cli/io.js';

/** The CLI in-process, as `fleet-tls ...` would run it: status and what it printed. */
export async function cliInProcess(argv: readonly string[], cwd = process.cwd()): Promise<{ status: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = {
    out: (text) => { out += text; },
    err: (text) => { err += text; },
    isTty: false,
    cwd,
    untilStopped: () => new Promise<string>(() => {}),
  };
  const status = await runCli(argv, io);
  return { status, out, err };
}
