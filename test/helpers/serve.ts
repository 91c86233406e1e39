import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { execa, type Result, type ResultPromise } from 'execa';
import type { ComponentState } from '../../src/cli/commands/component-shared.js';
import { BIN } from './cli.js';

/**
 * The lifecycle of a long-running command (`serve`, `proxy`, `elasticsearch`, `fleet-server`,
 * `container`) in a child process of its own, as the suite runs them: start it, wait until it
 * says where it listens (its ready line or its state file), read what it printed, stop it with a
 * signal and wait for it to exit.
 */
export interface RunningCommand {
  readonly process: ResultPromise;
  /** Everything it printed so far, standard output and error together. */
  output(): string;
  /** Polls `probe` until it gives a value; fails with the command's output once it exits or `withinMs` pass. */
  waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, withinMs?: number): Promise<T>;
  /** Its state file (`--state-file` or $HARNESS_STATE_FILE, relative to its directory) once written and `ready`. */
  waitForState(file: string, ready?: (state: ComponentState) => boolean): Promise<ComponentState>;
  /**
   * Sends `signal` (default SIGTERM) and resolves once it exited; one that has not exited 10 s
   * later is killed and the call fails naming it, so a command that hangs on its signal is a
   * failure, not a process left behind.
   */
  stop(signal?: NodeJS.Signals): Promise<Result>;
}

export interface CommandOptions {
  /** Its working directory (default this process's). */
  readonly cwd?: string;
  /**
   * Its whole environment besides PATH, NO_COLOR and the runner's TMPDIR: nothing else of the
   * machine's (a proxy variable, a HARNESS_ setting) leaks in.
   */
  readonly env?: Record<string, string>;
}

const STOP_WITHIN_MS = 10_000;

/** `fleet-tls ARGS` started in the background, never rejecting on its exit status. */
export function startCommand(args: readonly string[], options: CommandOptions = {}): RunningCommand {
  const cwd = options.cwd ?? process.cwd();
  const child = execa(process.execPath, [BIN, ...args], {
    reject: false, buffer: false, extendEnv: false, cwd,
    env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}), ...options.env },
  });
  let text = '';
  for (const stream of [child.stdout!, child.stderr!]) stream.on('data', (chunk: Buffer) => { text += chunk.toString(); });
  const running: RunningCommand = {
    process: child,
    output: () => text,
    async waitFor(what, probe, withinMs = 20_000) {
      const deadline = Date.now() + withinMs;
      for (;;) {
        const value = await Promise.resolve().then(probe).catch(() => undefined);
        if (value !== undefined) return value;
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${what}: ${text}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    waitForState(file, ready = () => true) {
      return running.waitFor(`${args[0]} wrote no ready state to ${file}`, async () => {
        const state = JSON.parse(await readFile(path.resolve(cwd, file), 'utf8')) as ComponentState;
        return ready(state) ? state : undefined;
      });
    },
    async stop(signal = 'SIGTERM') {
      child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const hung = new Promise<'hung'>((resolve) => { timer = setTimeout(() => resolve('hung'), STOP_WITHIN_MS); });
      const ended = await Promise.race([child, hung]).finally(() => clearTimeout(timer));
      if (ended !== 'hung') return ended;
      child.kill('SIGKILL');
      await child;
      throw new Error(`fleet-tls ${args.join(' ')} did not exit within ${STOP_WITHIN_MS / 1000} s of ${signal}: ${text}`);
    },
  };
  return running;
}

export interface Served {
  readonly fleetServerPort: number;
  readonly esPort: number;
  readonly ready: { elasticsearch: string; fleetServer: string; fleetServerStatus: string; serviceToken: string; enrollmentToken: string | null };
  /** The components' log lines so far, as `serve --json` streams them. */
  logs(): Array<{ component: string; level: string; message: string }>;
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  readonly process: ResultPromise;
  /** Stops it (SIGTERM unless given) and resolves once it exited. */
  stop(signal?: NodeJS.Signals): Promise<Result>;
}

/**
 * `fleet-tls serve --json` as a child process on ports the kernel picks (port 0, read back from
 * the ready line: nothing can take them in between); resolves when it prints its endpoints.
 */
export async function serve(certs: string, extra: readonly string[] = []): Promise<Served> {
  const child = startCommand(['serve', '--json', '--certs', certs, '--fleet-server-port', '0', '--es-port', '0', ...extra]);
  // The last piece may be a line still being written.
  const lines = () => child.output().split('\n').slice(0, -1).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  // Bounded only against a hang: a loaded machine may take seconds to start node and make keys.
  // A serve that never gets ready is killed here: its handle never reaches the caller's afterAll.
  const ready = await child.waitFor('serve did not start', () => lines().find((l) => 'ready' in l)?.ready as Served['ready'] | undefined, 90_000)
    .catch(async (error: unknown) => {
      child.process.kill('SIGKILL');
      await child.process;
      throw error;
    });
  const [fleetServerPort, esPort] = [Number(new URL(ready.fleetServer).port), Number(new URL(ready.elasticsearch).port)];
  const logs = () => lines().filter((l) => 'message' in l) as Array<{ component: string; level: string; message: string }>;
  return {
    fleetServerPort, esPort, ready, logs, process: child.process, stop: child.stop,
    async waitForLog(pattern, timeoutMs = 3_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const hit = logs().find((l) => pattern.test(l.message));
        if (hit) return hit.message;
        if (Date.now() > until) throw new Error(`no log line matches ${pattern}: ${JSON.stringify(logs())}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}
