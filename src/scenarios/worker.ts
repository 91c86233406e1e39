import { parentPort, workerData } from 'node:worker_threads';
import { HarnessError } from '../errors.js';
import { withPaths } from '../pki/store.js';
import { runScenarios } from './run.js';
import type { WorkerJob, WorkerMessage } from './workers.js';

// One slice of the catalog, run in this thread; see workers.ts.
const job = workerData as WorkerJob;
const post = (message: WorkerMessage) => parentPort!.postMessage(message);
try {
  await runScenarios(job.catalog, job.scenarios, withPaths(job.pki.dir, job.pki), {
    ...job.options,
    onResult: (result) => post({ type: 'result', result }),
  });
} catch (error) {
  post({ type: 'error', code: error instanceof HarnessError ? error.code : undefined, message: (error as Error).message });
}
