import { randomBytes } from 'node:crypto';
import { lstatSync, readdirSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * Temporary directories that hold private keys (a run's scenario material, `createPki()`'s PKI).
 *
 * They are removed on every way out: by their owner when it finishes, synchronously on process
 * exit, and on SIGINT/SIGTERM when nobody else handles the signal (the handler then re-raises it,
 * so the process dies of it as it would have). SIGKILL leaves no chance, so each name carries
 * its creator's pid and the next creator sweeps the directories of processes that are gone.
 */
const PREFIX = 'fleet-tls-';
const live = new Set<string>();
let hooked = false;

export interface TempDir {
  readonly dir: string;
  remove(): Promise<void>;
}

/** A new private (0700) directory in os.tmpdir(): `fleet-tls-<kind>-<pid>-<random>`. */
export async function makeTempDir(kind: string): Promise<TempDir> {
  sweepAbandoned();
  hook();
  const dir = path.join(tmpdir(), `${PREFIX}${kind}-${process.pid}-${randomBytes(8).toString('hex')}`);
  await mkdir(dir, { mode: 0o700 });
  live.add(dir);
  return {
    dir,
    remove: async () => {
      removeSync(dir);
    },
  };
}

/** Removes every directory still registered (tests, and the CLI before it exits on a signal). */
export function removeTempDirs(): void {
  for (const dir of [...live]) removeSync(dir);
}

function removeSync(dir: string): void {
  live.delete(dir);
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', removeTempDirs);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = () => {
      // Someone else handles it (serve, the CLI, the embedding program): they decide when to
      // exit, and the exit hook cleans up then.
      if (process.listenerCount(signal) > 1) return;
      removeTempDirs();
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

/** Removes `fleet-tls-*-<pid>-*` directories of this user whose process no longer exists. */
function sweepAbandoned(): void {
  let names: string[];
  try {
    names = readdirSync(tmpdir());
  } catch {
    return;
  }
  const uid = process.getuid?.();
  for (const name of names) {
    const match = /^fleet-tls-[a-z]+-(\d+)-[0-9a-f]{16}$/.exec(name);
    if (!match) continue;
    const pid = Number(match[1]);
    if (pid === process.pid || alive(pid)) continue;
    const dir = path.join(tmpdir(), name);
    try {
      const stat = lstatSync(dir);
      if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid)) continue;
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // gone already, or not ours to remove
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
