/**
 * The library's fixture time, for `npm run bench`: start a fake Elasticsearch and Fleet Server
 * with mutual TLS and enroll an agent through the public API, as a test author's beforeEach
 * would. Prints the samples (ms, start to enrolled) as JSON; the first runs warm the process up.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createPki, enrollAgent, startElasticsearch, startFleetServer } from '../src/index.js';

const WARMUP = 3;
const SAMPLES = Number(process.argv[2] ?? 15);

const dir = await mkdtemp(path.join(tmpdir(), 'fleet-tls-fixture-'));
try {
  const pki = await createPki({ dir: path.join(dir, 'pki') });
  const samples: number[] = [];
  for (let i = 0; i < WARMUP + SAMPLES; i++) {
    const started = performance.now();
    const es = await startElasticsearch({ pki, clientAuthentication: 'required' });
    const fleet = await startFleetServer({ pki, elasticsearch: es, clientAuthentication: 'required' });
    const enrolled = await enrollAgent({ pki, fleetServer: fleet });
    const ms = performance.now() - started;
    await fleet.close();
    await es.close();
    if (!enrolled.ok || fleet.state !== 'STOPPED') throw new Error(`the fixture did not enroll: ${JSON.stringify(enrolled.leg)}`);
    if (i >= WARMUP) samples.push(ms);
  }
  process.stdout.write(`${JSON.stringify(samples)}\n`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
