/**
 * The helper thread of run-thread.ts: builds the batch's job list as the main thread does, asks
 * for jobs (each of its slots one at a time) and sends each result back.
 */
import { parentPort } from 'node:worker_threads';
import type { KeyedCertificate, PkiMaterial } from '../pki/generate.js';
import { withPaths } from '../pki/store.js';
import type { FromHelper, ToHelper } from './run-thread.js';
import { JobRunner, scenarioJobs, type ScenarioJob } from './run.js';

const port = parentPort!;
const post = (message: FromHelper) => port.postMessage(message);
/** Slots waiting for the main thread's answer to their `want`, in the order they asked. */
const waiting: Array<(job: number) => void> = [];
let runner: JobRunner | undefined;

port.on('message', (message: ToHelper) => {
  if ('batch' in message) void start(message.batch);
  else if ('job' in message) waiting.shift()?.(message.job);
  else void (runner?.close() ?? Promise.resolve()).finally(() => post({ closed: true }));
});

/** A Buffer again: a structured clone makes Buffers plain Uint8Arrays. */
const keyed = (item: KeyedCertificate): KeyedCertificate => ({ der: Buffer.from(item.der), pem: item.pem, key: item.key });
const each = <T extends string>(items: Readonly<Record<T, KeyedCertificate>>) =>
  Object.fromEntries(Object.entries<KeyedCertificate>(items).map(([name, item]) => [name, keyed(item)])) as Record<T, KeyedCertificate>;

async function start(batch: Extract<ToHelper, { batch: unknown }>['batch']): Promise<void> {
  const { dir, ...material } = batch.pki;
  const pki = withPaths(dir, { ...material, cas: each(material.cas), leaves: each(material.leaves) } satisfies PkiMaterial);
  runner = new JobRunner(batch.catalog, pki, batch.work, batch.share);
  const jobs = scenarioJobs(batch.scenarios, batch.versions);
  const slot = async (): Promise<void> => {
    for (;;) {
      const index = await new Promise<number>((resolve) => {
        waiting.push(resolve);
        post({ want: true });
      });
      if (index < 0) return;
      try {
        post({ index, result: await runner!.run(jobs[index] as ScenarioJob) });
      } catch (error) {
        const { message, code } = error as { message?: string; code?: unknown };
        post({ index, failure: { message: String(message ?? error), ...(typeof code === 'string' ? { code } : {}) } });
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: batch.concurrency }, slot));
}
