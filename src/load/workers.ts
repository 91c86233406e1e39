import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { WorkerInput } from './client-worker.js';
import { mergeStats, type LoadStats } from './stats.js';

interface WorkerMessage {
  progress?: Progress;
  prepared?: true;
  sent?: number;
  done?: LoadStats;
  seconds?: number;
}

export interface Progress { handshakes: number; errors: number; held: number }

/** Splits `total` into `parts` near-equal whole shares, none below 1. */
export function shares(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.max(1, Math.floor(total / parts) + (i < total % parts ? 1 : 0)));
}

/** Collects one message of a kind from each worker. */
class Gather {
  readonly promise: Promise<WorkerMessage[]>;
  private readonly values: WorkerMessage[] = [];
  private resolve!: (values: WorkerMessage[]) => void;

  constructor(private readonly expected: number) {
    this.promise = new Promise((resolve) => { this.resolve = resolve; });
  }

  add(message: WorkerMessage): void {
    this.values.push(message);
    if (this.values.length === this.expected) this.resolve(this.values);
  }
}

/**
 * The load generator's worker threads, driven as one: agents and concurrency are split between
 * them, progress is summed, and hold mode's phases wait for every worker.
 */
export class ClientWorkers {
  private readonly workers: Worker[];
  private readonly progress: Progress[];
  private readonly gathered: Record<'prepared' | 'sent' | 'done', Gather>;
  private readonly failure: Promise<never>;

  constructor(inputs: readonly WorkerInput[], onProgress: (progress: Progress) => void) {
    let fail!: (error: Error) => void;
    this.failure = new Promise((_, reject) => { fail = reject; });
    this.failure.catch(() => {});
    this.gathered = { prepared: new Gather(inputs.length), sent: new Gather(inputs.length), done: new Gather(inputs.length) };
    this.progress = inputs.map(() => ({ handshakes: 0, errors: 0, held: 0 }));
    this.workers = inputs.map((input, i) => {
      const worker = new Worker(fileURLToPath(new URL('./client-worker.js', import.meta.url)), { workerData: input });
      worker.on('error', fail);
      worker.on('message', (message: WorkerMessage) => {
        if (message.progress) {
          this.progress[i] = message.progress;
          onProgress(this.progress.reduce((a, p) => ({ handshakes: a.handshakes + p.handshakes, errors: a.errors + p.errors, held: a.held + p.held })));
        }
        for (const key of ['prepared', 'sent', 'done'] as const) if (message[key] !== undefined) this.gathered[key].add(message);
      });
      return worker;
    });
  }

  /** Hold mode: every worker's agents have enrolled and taken their policy. */
  async prepared(): Promise<void> {
    await this.all('prepared');
  }

  /** Hold mode: tells every worker to hold; resolves with how many long polls they connected. */
  async hold(): Promise<number> {
    for (const worker of this.workers) worker.postMessage({ hold: true });
    return (await this.all('sent')).reduce((n, m) => n + (m.sent ?? 0), 0);
  }

  /** Hold mode: ends the held checkins. */
  stop(): void {
    for (const worker of this.workers) worker.postMessage({ stop: true });
  }

  /** Every worker's counts, merged; seconds is the longest worker's. */
  async done(): Promise<{ stats: LoadStats; seconds: number }> {
    const messages = await this.all('done');
    await Promise.all(this.workers.map((w) => w.terminate()));
    return { stats: mergeStats(messages.map((m) => m.done!)), seconds: Math.max(...messages.map((m) => m.seconds ?? 0)) };
  }

  private all(key: keyof ClientWorkers['gathered']): Promise<WorkerMessage[]> {
    return Promise.race([this.gathered[key].promise, this.failure]);
  }
}
