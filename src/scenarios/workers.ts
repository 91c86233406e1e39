import { Worker } from 'node:worker_threads';
import { HarnessError, type ErrorCode } from '../errors.js';
import type { Pki } from '../pki/store.js';
import { TLS_VERSIONS } from '../tls/settings.js';
import type { Catalog } from './catalog.js';
import type { RunOptions, ScenarioResult } from './run.js';
import type { ScenarioData } from './schema.js';

/** What a worker thread needs: everything plain, the PKI's keys as cloned KeyObjects. */
export interface WorkerJob {
  readonly catalog: Catalog;
  readonly scenarios: readonly ScenarioData[];
  readonly pki: Omit<Pki, 'certPath' | 'keyPath'>;
  readonly options: Omit<RunOptions, 'onResult'>;
}

export type WorkerMessage =
  | { readonly type: 'result'; readonly result: ScenarioResult }
  | { readonly type: 'error'; readonly code: ErrorCode | undefined; readonly message: string };

/**
 * The catalog spread over worker threads: a flow's cost is mostly handshake crypto on the main
 * thread, so one thread per core runs that many flows truly at once. Results come back in the
 * order runScenarios gives them.
 */
export async function runScenariosInWorkers(
  catalog: Catalog, scenarios: readonly ScenarioData[], pki: Pki, options: RunOptions & { readonly workers: number },
): Promise<ScenarioResult[]> {
  const { workers, onResult, ...rest } = options;
  const groups = Array.from({ length: Math.min(workers, scenarios.length) }, (_, i) => scenarios.filter((_, j) => j % workers === i));
  const { certPath: _c, keyPath: _k, ...material } = pki;
  const results = new Map<string, ScenarioResult>();
  await Promise.all(groups.map((group) => new Promise<void>((resolve, reject) => {
    const job: WorkerJob = { catalog, scenarios: group, pki: material, options: rest };
    const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: job });
    let failure: Error | undefined;
    worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'error') {
        failure = message.code ? new HarnessError(message.code, message.message) : new Error(message.message);
        return;
      }
      results.set(`${message.result.id}@${message.result.tls}`, message.result);
      onResult?.(message.result);
    });
    worker.on('error', (error) => { failure ??= error; });
    worker.on('exit', () => (failure ? reject(failure) : resolve()));
  })));
  const versions = rest.versions ?? TLS_VERSIONS;
  return scenarios.flatMap((s) => versions.filter((v) => !s.tls || s.tls.includes(v)).map((v) => results.get(`${s.id}@${v}`)!));
}
