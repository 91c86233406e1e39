import { fork, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { HarnessError } from '../errors.js';
import { ensurePki } from '../pki/store.js';
import { identity } from '../api.js';
import type { TlsVersion } from '../tls/settings.js';
import type { ServerReady, ServerSpec } from './server-process.js';
import { LatencyHistogram, type HistogramJson } from './histogram.js';
import { report, type HoldReport, type LoadReport } from './stats.js';
import { ClientWorkers, shares } from './workers.js';
import type { WorkerInput } from './client-worker.js';

export interface LoadOptions {
  /** A Fleet Server to load; absent, a fake one (with its fake Elasticsearch) in a child process. */
  readonly url?: string;
  readonly enrollmentToken?: string;
  /** PKI directory: agent-cert is presented, fleet-ca verifies the server. */
  readonly certs: string;
  readonly agents: number;
  readonly concurrency: number;
  readonly durationMs: number;
  readonly sessions: 'new' | 'resume';
  readonly tls: TlsVersion;
  readonly hold?: boolean;
  /** The fake Fleet Server runs agents' TLS through the record tap (off: node:tls directly). */
  readonly tap?: boolean;
  /** The bare node:tls pair instead of Fleet Server (the bench's baseline). */
  readonly bare?: boolean;
  /** Also return the latency histogram, for `--figures` files that merge across containers. */
  readonly histogram?: boolean;
  readonly onProgress?: (progress: { handshakes: number; errors: number; held: number; seconds: number }) => void;
}

const HERE = (file: string) => fileURLToPath(new URL(file, import.meta.url));

/** Runs the load and returns its report; the fake server, if any, is stopped before it returns. */
export async function runLoad(options: LoadOptions): Promise<LoadReport & { latencyHistogram?: HistogramJson }> {
  if (options.url) await reachable(new URL(options.url));
  const { pki } = await ensurePki({ dir: options.certs });
  const agent = identity(pki, 'agent-cert');
  const material = { certPem: agent.certPem, keyPem: agent.keyPem, caPem: pki.cas['fleet-ca'].pem };
  const server = options.url ? undefined : await LoadServer.start({
    kind: options.bare ? 'bare' : 'fleet-server', certs: pki.dir, tls: options.tls, ...(options.tap ? { tap: true } : {}),
  });
  try {
    const url = options.url ?? server!.ready.url;
    // Our server has a core of its own; another server may be anywhere, so use every core.
    const count = Math.max(1, Math.min(server ? 1 : availableParallelism(), options.agents, options.concurrency));
    const agents = shares(options.agents, count);
    const concurrency = shares(options.concurrency, count);
    const inputs = agents.map((n, i): WorkerInput => ({
      url, material, tls: options.tls, ...(options.hold ? { hold: true } : {}),
      spec: {
        kind: options.bare ? 'bare' : 'fleet-server', agents: n, concurrency: concurrency[i]!, durationMs: options.durationMs,
        sessions: options.sessions, enrollmentToken: options.enrollmentToken ?? server?.ready.enrollmentToken ?? '',
      },
    }));
    const serverCpuStart = server ? await server.ask<number>('cpu') : 0;
    const rssFresh = options.hold && server ? await server.ask<number>('rss') : null;
    const cpuStart = process.cpuUsage();
    const started = performance.now();
    const workers = new ClientWorkers(inputs, (p) => options.onProgress?.({ ...p, seconds: (performance.now() - started) / 1000 }));
    let holdReport: HoldReport | undefined;
    if (options.hold) {
      await workers.prepared();
      // Memory the agents' enrolment left behind, for comparison with what holding adds.
      const rssPrepared = server ? await server.ask<number>('rss') : null;
      const sent = await workers.hold();
      const held = await heldByServer(server, sent);
      const clientRss = process.memoryUsage().rss;
      workers.stop();
      // From the fresh server: each agent's enrolment state counts too, and memory freed after
      // enrolment and reused by the held connections cannot hide any of them.
      const grown = held.rss !== null && rssFresh !== null ? held.rss - rssFresh : null;
      holdReport = {
        connections: held.connections, serverRssBeforeBytes: rssFresh, serverRssPreparedBytes: rssPrepared, serverRssAfterBytes: held.rss,
        bytesPerConnection: grown !== null && held.connections > 0 ? Math.round(grown / held.connections) : null,
        clientRssBytes: clientRss,
      };
    }
    const done = await workers.done();
    const cpu = process.cpuUsage(cpuStart);
    const cpuMs = {
      client: Math.round((cpu.user + cpu.system) / 1000),
      server: server ? Math.round((await server.ask<number>('cpu')) - serverCpuStart) : null,
    };
    const result = report(done.stats, done.seconds, cpuMs, holdReport);
    return options.histogram ? { ...result, latencyHistogram: LatencyHistogram.of(done.stats.latencies).toJSON() } : result;
  } finally {
    await server?.close();
  }
}

/**
 * Once the client has `sent` long polls connected: waits until our server holds them all (or
 * its count stops growing), then reads its resident memory. Another server: the client's count.
 */
async function heldByServer(server: LoadServer | undefined, sent: number): Promise<{ connections: number; rss: number | null }> {
  if (!server) return { connections: sent, rss: null };
  let last = -1;
  for (;;) {
    const held = await server.ask<number>('held');
    if (held >= sent || held === last) break;
    last = held;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { connections: await server.ask<number>('held'), rss: await server.ask<number>('rss') };
}

/** One TCP connect before the load starts: an unreachable --url is the user's input, not a load result. */
async function reachable(url: URL): Promise<void> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 443);
  const problem = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(5_000, () => socket.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    socket.once('connect', () => { socket.destroy(); resolve(null); });
    socket.once('error', resolve);
  });
  if (problem) throw new HarnessError('FTH_TARGET_UNREACHABLE', `--url ${url.href}: cannot connect to ${host}:${port} (${problem.code ?? problem.message})`);
}

/** The server child process: the fake Fleet Server or the bare pair's server, on a core of its own. */
class LoadServer {
  private constructor(private readonly child: ChildProcess, readonly ready: ServerReady) {}

  static async start(spec: ServerSpec): Promise<LoadServer> {
    const child = fork(HERE('./server-process.js'), ['--load-server'], { execArgv: [...process.execArgv, '--expose-gc'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const ready = await new Promise<ServerReady>((resolve, reject) => {
      child.once('exit', (code) => reject(new HarnessError('FTH_INTERNAL', `the load server exited (${code}) before it was ready`)));
      child.on('message', (message: { ready?: ServerReady; failed?: string }) => {
        if (message.ready) resolve(message.ready);
        if (message.failed) reject(new HarnessError('FTH_INTERNAL', `the load server did not start: ${message.failed}`));
      });
      child.send({ start: spec });
    });
    child.removeAllListeners('exit');
    return new LoadServer(child, ready);
  }

  ask<T>(what: 'rss' | 'held' | 'cpu'): Promise<T> {
    return new Promise((resolve) => {
      const listener = (message: Record<string, unknown>) => {
        if (what in message) {
          this.child.off('message', listener);
          resolve(message[what] as T);
        }
      };
      this.child.on('message', listener);
      this.child.send({ [what]: true });
    });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.disconnect();
    await exited;
  }
}
