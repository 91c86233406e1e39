/**
 * The load generator's worker thread: the simulated agents run here so that the main thread
 * only counts and draws progress. Messages to the parent:
 *   { progress: { handshakes, errors } }   every 200 ms
 *   { prepared: true }                     hold: every agent enrolled and has its policy
 *   { sent: n }                            hold (after { hold }): n long polls are connected
 *   { done: LoadStats, seconds }           at the end (after { stop } in hold mode)
 */
import { parentPort, workerData } from 'node:worker_threads';
import { AgentFleet, type AgentsSpec } from './agents.js';
import { targetFor, type Material } from './exchange.js';
import type { TlsVersion } from '../tls/settings.js';

export interface WorkerInput {
  readonly url: string;
  readonly material: Material;
  readonly tls: TlsVersion;
  readonly spec: AgentsSpec;
  /** Prepare the agents, then hold their checkins when told (see run.ts). */
  readonly hold?: boolean;
}

if (parentPort) {
  const port = parentPort;
  const input = workerData as WorkerInput;
  const fleet = new AgentFleet(targetFor(new URL(input.url), input.material, input.tls), input.spec);
  const errors = () => Object.values(fleet.stats.errors).reduce((a, b) => a + b, 0);
  const ticker = setInterval(() => port.postMessage({ progress: { handshakes: fleet.stats.handshakes, errors: errors(), held: fleet.held } }), 200);
  const started = performance.now();
  let seconds = 0;
  const finish = () => {
    clearInterval(ticker);
    port.postMessage({ done: fleet.stats, seconds });
  };
  port.on('message', (message: { hold?: boolean; stop?: boolean }) => {
    if (message.hold) {
      void fleet.hold().then(() => {
        seconds = (performance.now() - started) / 1000;
        port.postMessage({ sent: fleet.held });
      });
    }
    if (message.stop) {
      fleet.stop();
      finish();
    }
  });
  if (input.hold) void fleet.prepare().then(() => port.postMessage({ prepared: true }));
  else void fleet.run().then(() => {
    seconds = (performance.now() - started) / 1000;
    finish();
  });
}
