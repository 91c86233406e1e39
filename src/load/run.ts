import { fork, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { HarnessError } from '../errors.js';
import { ensurePki } from '../pki/store.js';
import { identity } from '../api.js';
import type { TlsVersion } from '../tls/settings.js';
import type { AgentsSpec } from './agents.js';
import type { ServerReady, ServerSpec } from './server-process.js';
import { report, type HoldReport, type LoadReport, type LoadStats } from './stats.js';
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
  readonly onProgress?: (progress: { handshakes: number; errors: number; held: number; seconds: number }) => void;
}

const HERE = (file: string) => fileURLToPath(new URL(file, import.meta.url));

/** Runs the load and returns its report; the fake server, if any, is stopped before it returns. */
export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  if (options.url) await reachable(new URL(options.url));
  const { pki } = await ensurePki({ dir: options.certs });
  const agent = identity(pki, 'agent-cert');
  const material = { certPem: agent.certPem, keyPem: agent.keyPem, caPem: pki.cas['fleet-ca'].pem };
  const server = options.url ? undefined : await LoadServer.start({
    kind: options.bare ? 'bare' : 'fleet-server', certs: pki.dir, tls: options.tls, ...(options.tap ? { tap: true } : {}),
  });
  try {
    const url = options.url ?? server!.ready.url;
    const spec: AgentsSpec = {
      kind: options.bare ? 'bare' : 'fleet-server',
      agents: options.agents, concurrency: options.concurrency, durationMs: options.durationMs,
      sessions: options.sessions, enrollmentToken: options.enrollmentToken ?? server?.ready.enrollmentToken ?? '',
    };
    const input: WorkerInput = { url, material, tls: options.tls, spec, ...(options.hold ? { hold: true } : {}) };
    const serverCpuStart = server ? await server.ask<number>('cpu') : 0;
    const worker = new Worker(HERE('./client-worker.js'), { workerData: input });
    const started = performance.now();
    const rssFresh = options.hold && server ? await server.ask<number>('rss') : null;
    let rssPrepared: number | null = null;
    let hold: { connections: number; rss: number | null } | undefined;
    const done = await new Promise<{ stats: LoadStats; seconds: number; rss: number; cpuMs: number }>((resolve, reject) => {
      worker.on('error', reject);
      worker.on('message', (message: WorkerMessage) => {
        if (message.progress) options.onProgress?.({ ...message.progress, seconds: (performance.now() - started) / 1000 });
        if (message.prepared) {
          // Memory per connection is what holding adds: measured after enrolment's churn.
          void (server ? server.ask<number>('rss') : Promise.resolve(null)).then((rss) => {
            rssPrepared = rss;
            worker.postMessage({ hold: true });
          }, reject);
        }
        if (message.sent !== undefined) {
          void heldByServer(server, message.sent).then((figures) => {
            hold = figures;
            worker.postMessage({ stop: true });
          }, reject);
        }
        if (message.done) resolve({ stats: message.done, seconds: message.seconds ?? 0, rss: message.rss ?? 0, cpuMs: message.cpuMs ?? 0 });
      });
    });
    await worker.terminate();
    const cpuMs = { client: Math.round(done.cpuMs), server: server ? Math.round((await server.ask<number>('cpu')) - serverCpuStart) : null };
    let holdReport: HoldReport | undefined;
    if (hold) {
      // From the fresh server: each agent's enrolment state counts too, and memory freed after
      // enrolment and reused by the held connections cannot hide any of them.
      const grown = hold.rss !== null && rssFresh !== null ? hold.rss - rssFresh : null;
      holdReport = {
        connections: hold.connections, serverRssBeforeBytes: rssFresh, serverRssPreparedBytes: rssPrepared, serverRssAfterBytes: hold.rss,
        bytesPerConnection: grown !== null && hold.connections > 0 ? Math.round(grown / hold.connections) : null,
        clientRssBytes: done.rss,
      };
    }
    return report(done.stats, done.seconds, cpuMs, holdReport);
  } finally {
    await server?.close();
  }
}

interface WorkerMessage {
  progress?: { handshakes: number; errors: number; held: number };
  prepared?: true;
  sent?: number;
  done?: LoadStats;
  seconds?: number;
  rss?: number;
  cpuMs?: number;
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
