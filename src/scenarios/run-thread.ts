/**
 * The catalog on both cores: a helper worker thread runs part of a batch beside the main thread.
 * The handshakes' native work (signatures, key exchange) is most of a run's CPU and holds the
 * thread that drives it, so a second thread is the one way to use the second core.
 *
 * Jobs are indexes into the batch's job list, which both threads build the same way: the main
 * thread takes them from the front, the helper from the back (each keeps neighbouring scenarios,
 * which share stacks, to itself), until they meet. The helper sends each result back as data;
 * the results keep their catalog order whichever thread ran them.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { HarnessError, type ErrorCode } from '../errors.js';
import type { PkiMaterial } from '../pki/generate.js';
import type { Pki } from '../pki/store.js';
import { makeTempDir, type TempDir } from '../temp-dirs.js';
import type { TlsVersion } from '../tls/settings.js';
import type { Catalog } from './catalog.js';
import type { ScenarioResult } from './run.js';
import type { ScenarioData } from './schema.js';

/** Below this many runs the helper's start (it loads the modules again) costs more than it saves. */
export const HELPER_MIN_JOBS = 24;

/** Both ends of one job list. */
export class JobQueue {
  private next = 0;
  private end: number;

  constructor(length: number) {
    this.end = length;
  }

  /** The next job from the front, or -1 when none is left. */
  front(): number {
    return this.next < this.end ? this.next++ : -1;
  }

  /** The next job from the back, or -1 when none is left. */
  back(): number {
    return this.next < this.end ? --this.end : -1;
  }
}

/** What the helper is given once: enough to build the same job list and run any of its jobs. */
export interface HelperBatch {
  readonly catalog: Catalog;
  readonly scenarios: readonly ScenarioData[];
  readonly versions: readonly TlsVersion[] | undefined;
  readonly pki: Pki;
  readonly share: boolean;
  readonly concurrency: number;
}

/** Messages between the threads (run-thread-worker.ts is the other end). */
export type ToHelper =
  | { readonly batch: Omit<HelperBatch, 'pki'> & { readonly pki: PkiMaterial & { readonly dir: string }; readonly work: string } }
  | { readonly job: number }
  | { readonly close: true };
export type FromHelper =
  | { readonly want: true }
  | { readonly index: number; readonly result: ScenarioResult }
  | { readonly index: number; readonly failure: { readonly message: string; readonly code?: string } }
  | { readonly closed: true };

const WORKER = fileURLToPath(new URL('./run-thread-worker.js', import.meta.url));

/** A worker started ahead of its batch (see {@link HelperThread.prewarm}), not yet taken. */
let warm: Worker | undefined;

/** Whether a helper can run here: two cores, and built JavaScript (the test runner loads src/*.ts, which a worker cannot import). */
const helperPossible = () => availableParallelism() >= 2 && existsSync(WORKER);

export class HelperThread {
  private closed?: Promise<void>;

  private constructor(private readonly worker: Worker, private readonly scratch: TempDir) {}

  /**
   * Starts the helper's thread now, so that it loads its modules while this thread loads the
   * catalog and the PKI; the next {@link HelperThread.start} takes it. Until then it does not keep
   * the process alive (a run that stops at bad input exits as before).
   */
  static prewarm(): void {
    if (warm || !helperPossible()) return;
    warm = new Worker(WORKER);
    warm.unref();
  }

  /** A helper, or undefined where none can run. */
  static async start(): Promise<HelperThread | undefined> {
    if (!warm && !helperPossible()) return undefined;
    const worker = warm ?? new Worker(WORKER);
    warm = undefined;
    worker.ref();
    // Its scenario keys go in a directory of its own, removed by this thread however the run ends.
    const scratch = await makeTempDir('run').catch(async (error: unknown) => {
      await worker.terminate();
      throw error;
    });
    return new HelperThread(worker, scratch);
  }

  /** Runs jobs from the back of `queue` until none is left; `done` gets each result. */
  run(batch: HelperBatch, queue: JobQueue, done: (index: number, result: ScenarioResult) => void): Promise<void> {
    const { pki, ...rest } = batch;
    const material = { keyType: pki.keyType, cas: pki.cas, leaves: pki.leaves, passphrase: pki.passphrase, dir: pki.dir };
    return new Promise<void>((resolve, reject) => {
      let running = 0;
      let exhausted = false;
      let over = false;
      const end = (error?: Error) => {
        if (over) return;
        over = true;
        if (error) reject(error);
        else resolve();
      };
      this.worker.on('error', (error) => end(error));
      this.worker.on('exit', (code) => end(new Error(`the helper thread exited (${code}) before its jobs were done`)));
      this.worker.on('message', (message: FromHelper) => {
        if ('want' in message) {
          const job = over ? -1 : queue.back();
          if (job >= 0) running += 1;
          else exhausted = true;
          this.worker.postMessage({ job } satisfies ToHelper);
        } else if ('result' in message) {
          running -= 1;
          if (!over) done(message.index, message.result);
        } else if ('failure' in message) {
          running -= 1;
          const { message: text, code } = message.failure;
          end(code?.startsWith('FTH_') ? new HarnessError(code as ErrorCode, text) : new Error(text));
        }
        if (exhausted && running === 0) end();
      });
      this.worker.postMessage({ batch: { ...rest, pki: material, work: this.scratch.dir } } satisfies ToHelper);
    });
  }

  /** Closes the helper's stacks, ends the thread and removes its directory. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      try {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 2_000);
          this.worker.on('message', (message: FromHelper) => {
            if ('closed' in message) {
              clearTimeout(timer);
              resolve();
            }
          });
          this.worker.on('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          this.worker.postMessage({ close: true } satisfies ToHelper);
        });
        await this.worker.terminate();
      } finally {
        await this.scratch.remove();
      }
    })();
    return this.closed;
  }
}
