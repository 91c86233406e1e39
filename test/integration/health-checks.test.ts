import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HealthChecker, startElasticsearch, startFleetServer, type HealthCheckKind } from '../../src/index.js';
import type { FakeElasticsearch } from '../../src/components/elasticsearch.js';
import type { FakeFleetServer } from '../../src/components/fleet-server.js';
import type { Pki } from '../../src/pki/store.js';
import { buildGoPeer, goServers, type GoPeerServers } from '../helpers/go-peer.js';
import { scratchDir, sharedPki } from '../helpers/pki.js';
import { settledLines } from '../helpers/tools.js';

/**
 * A load balancer's health checks against a real Go 1.19 net/http TLS server (the peer's
 * ServeTLS, what ListenAndServeTLS runs once it has its listener) and against the fake Fleet
 * Server: the ErrorLog lines each writes for the same probes, byte for byte but for the port.
 */
let pki: Pki;
let es: FakeElasticsearch;
let fleet: FakeFleetServer;
let go: GoPeerServers;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  pki = await sharedPki();
  const scratch = await scratchDir();
  cleanup = scratch.cleanup;
  es = await startElasticsearch({ pki });
  const [binary] = await Promise.all([buildGoPeer(scratch.dir), startFleetServer({ pki, elasticsearch: es }).then((f) => { fleet = f; })]);
  go = await goServers(binary, [{ name: 'fleet', cert: pki.certPath('fleet-cert'), key: pki.keyPath('fleet-cert') }]);
}, 120_000);

afterAll(async () => {
  await go?.stop();
  await fleet?.close();
  await es?.close();
  await cleanup?.();
});

/** Two probes of `kind` against `port`, then every line the server wrote meanwhile, with the probes' ports. */
async function probe(kind: HealthCheckKind, port: number, read: () => string[]): Promise<{ lines: string[]; ports: number[]; up: boolean[] }> {
  const before = (await settledLines(read)).length;
  await using checker = new HealthChecker({ kind, target: { host: '127.0.0.1', port }, intervalMs: 20, serverName: 'localhost' });
  const probes = await checker.run(2);
  const lines = (await settledLines(read)).slice(before);
  return { lines, ports: probes.map((p) => p.localPort!), up: probes.map((p) => p.up) };
}

const fleetLines = () => fleet.log.entries.map((e) => e.message);

describe('load-balancer health checks against Go 1.19 net/http and the fake Fleet Server', () => {
  it('a TCP check (connect, close, no handshake) makes both log http: TLS handshake error from IP:PORT: EOF, byte for byte', async () => {
    const real = await probe('tcp', go.port('fleet'), () => go.lines('fleet'));
    const fake = await probe('tcp', fleet.port, fleetLines);
    expect(real.lines).toEqual(real.ports.map((p) => `http: TLS handshake error from 127.0.0.1:${p}: EOF`));
    expect(fake.lines).toEqual(fake.ports.map((p) => `http: TLS handshake error from 127.0.0.1:${p}: EOF`));
    expect([real.up, fake.up]).toEqual([[true, true], [true, true]]);
  });

  it('a TLS check (handshake, then close) and an HTTP check (GET /api/status) leave no line in either', async () => {
    for (const kind of ['tls', 'http'] as const) {
      const real = await probe(kind, go.port('fleet'), () => go.lines('fleet'));
      const fake = await probe(kind, fleet.port, fleetLines);
      expect({ kind, real: real.lines, fake: fake.lines }).toEqual({ kind, real: [], fake: [] });
      expect({ kind, up: [real.up, fake.up] }).toEqual({ kind, up: [[true, true], [true, true]] });
    }
  });

  it('logs each probe as HAProxy does, and a TCP check on Elasticsearch leaves nothing in its log (Netty ends the handshake quietly)', async () => {
    const before = es.log.entries.length;
    await using checker = new HealthChecker({ kind: 'tcp', target: es.endpoint, intervalMs: 10, server: 'elasticsearch/es-node-1' });
    await checker.run(2);
    await settledLines(() => es.log.entries.map((e) => e.message));
    expect(es.log.entries.slice(before)).toEqual([]);
    expect(checker.log.entries.map((e) => e.message.replace(/duration: \d+ms/, 'duration: Nms'))).toEqual([
      'Health check for server elasticsearch/es-node-1 succeeded, reason: Layer4 check passed, check duration: Nms, status: 1/3 UP.',
      'Health check for server elasticsearch/es-node-1 succeeded, reason: Layer4 check passed, check duration: Nms, status: 2/3 UP.',
    ]);
  });

  it('close() during the wait between probes ends the checker at once, a probe under way or not', async () => {
    const checker = new HealthChecker({ kind: 'tcp', target: es.endpoint, intervalMs: 3_600_000 });
    checker.start();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const closed = await Promise.race([checker.close().then(() => 'closed'), new Promise((resolve) => setTimeout(() => resolve('still waiting'), 2_000))]);
    expect(closed).toBe('closed');
  });

  it('marks a backend down when nothing listens, with HAProxy\'s Layer4 reason', async () => {
    const closed = await startFleetServer({ pki, elasticsearch: es });
    const port = closed.port;
    await closed.close();
    await using checker = new HealthChecker({ kind: 'tcp', target: { host: '127.0.0.1', port }, intervalMs: 10 });
    const [probeResult] = await checker.run(1);
    expect(probeResult).toEqual({ kind: 'tcp', up: false, reason: 'Layer4 connection problem, info: "Connection refused"' });
  });
});
