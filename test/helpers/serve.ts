import type { ResultPromise } from 'execa';
import { fleetTlsProcess } from './cli.js';

export interface Served {
  readonly fleetServerPort: number;
  readonly esPort: number;
  readonly ready: { elasticsearch: string; fleetServer: string; fleetServerStatus: string; serviceToken: string; enrollmentToken: string | null };
  /** The components' log lines so far, as `serve --json` streams them. */
  logs(): Array<{ component: string; level: string; message: string }>;
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  readonly process: ResultPromise;
}

/**
 * `fleet-tls serve --json` as a child process on ports the kernel picks (port 0, read back from
 * the ready line: nothing can take them in between); resolves when it prints its endpoints.
 */
export async function serve(certs: string, extra: readonly string[] = []): Promise<Served> {
  const child = fleetTlsProcess(['serve', '--json', '--certs', certs, '--fleet-server-port', '0', '--es-port', '0', ...extra]);
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => { text += chunk.toString(); });
  child.stderr!.on('data', (chunk: Buffer) => { text += chunk.toString(); });
  const lines = () => text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  // Bounded only against a hang: a loaded machine may take seconds to start node and make keys.
  const deadline = Date.now() + 90_000;
  let ready: Served['ready'] | undefined;
  while (!ready) {
    ready = lines().find((l) => 'ready' in l)?.ready as Served['ready'] | undefined;
    if (!ready && (Date.now() > deadline || child.exitCode !== null)) throw new Error(`serve did not start: ${text}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  const [fleetServerPort, esPort] = [Number(new URL(ready.fleetServer).port), Number(new URL(ready.elasticsearch).port)];
  const logs = () => lines().filter((l) => 'message' in l) as Array<{ component: string; level: string; message: string }>;
  return {
    fleetServerPort, esPort, ready, logs, process: child,
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
