import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cliInProcess, fleetTls } from '../helpers/cli.js';
import { freePort } from '../helpers/net.js';
import { scratchDir } from '../helpers/pki.js';
import { serve, type Served } from '../helpers/serve.js';

// Real peers on a shared 2-core machine: a handshake, a JVM or a child CLI can wait seconds for a
// core. The bounds below only stop a hang; every wait for a peer's report ends on an event.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 180_000 });

let certs: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  let dir: string;
  ({ dir, cleanup } = await scratchDir());
  certs = `${dir}/pki`;
  expect((await fleetTls(['certs', '--out', certs])).exitCode).toBe(0);
});
afterAll(() => cleanup());

interface LoadJson {
  handshakes: number;
  handshakesPerSecond: number;
  latencyMs: { p50: number; p95: number; p99: number };
  errors: Record<string, number>;
  resumed: number;
  seconds: number;
  cpuMs: { client: number; server: number | null };
  hold?: { connections: number; serverRssBeforeBytes: number | null; serverRssPreparedBytes: number | null; serverRssAfterBytes: number | null; bytesPerConnection: number | null; clientRssBytes: number };
}

const load = async (args: readonly string[]) => {
  const result = await fleetTls(['load', '--certs', certs, '--json', ...args]);
  return { ...result, json: result.stdout ? (JSON.parse(result.stdout) as LoadJson) : undefined };
};

describe('fleet-tls load against the fake Fleet Server', () => {
  it('prints handshakes, handshakes per second, latency percentiles and no errors as JSON, exit 0', async () => {
    const { exitCode, json, stderr } = await load(['--agents', '4', '--concurrency', '4', '--duration', '1s']);
    expect(stderr).toBe('');
    expect(exitCode).toBe(0);
    expect(Object.keys(json!)).toEqual(['handshakes', 'handshakesPerSecond', 'latencyMs', 'errors', 'resumed', 'seconds', 'cpuMs']);
    // Four enrolments, then checkins for the rest of the second.
    expect(json!.handshakes).toBeGreaterThan(4);
    // seconds is rounded to 10 ms, so the rate agrees with the count to within 1 %.
    expect(Math.abs(json!.handshakesPerSecond * json!.seconds - json!.handshakes) / json!.handshakes).toBeLessThan(0.01);
    expect(json!.latencyMs.p50).toBeGreaterThan(0);
    expect(json!.latencyMs.p50).toBeLessThanOrEqual(json!.latencyMs.p95);
    expect(json!.latencyMs.p95).toBeLessThanOrEqual(json!.latencyMs.p99);
    expect(json!.errors).toEqual({});
    expect(json!.resumed).toBe(0);
    expect(json!.cpuMs.client).toBeGreaterThan(0);
    expect(json!.cpuMs.server).toBeGreaterThan(0);
  });

  it('resumes each agent\'s last session with --sessions resume: only the first handshake per agent is full', async () => {
    const { exitCode, json } = await load(['--agents', '3', '--concurrency', '3', '--duration', '1s', '--sessions', 'resume', '--tls', '1.2']);
    expect(exitCode).toBe(0);
    expect(json!.errors).toEqual({});
    expect(json!.handshakes - json!.resumed).toBe(3);
  });

  it('holds every agent\'s long-poll checkin open at once and reports the server\'s memory per connection', async () => {
    const { exitCode, json } = await load(['--agents', '40', '--concurrency', '8', '--hold']);
    expect(exitCode).toBe(0);
    expect(json!.errors).toEqual({});
    // Each agent enrolled and took its policy (two handshakes) before its poll was held.
    expect(json!.handshakes).toBe(80);
    expect(json!.hold!.connections).toBe(40);
    expect(json!.hold!.serverRssAfterBytes!).toBeGreaterThan(json!.hold!.serverRssBeforeBytes!);
    expect(json!.hold!.bytesPerConnection).toBe(Math.round((json!.hold!.serverRssAfterBytes! - json!.hold!.serverRssBeforeBytes!) / 40));
  });
});

describe('fleet-tls load --url against `fleet-tls serve` (record tap, mutual TLS required)', () => {
  let served: Served;
  beforeAll(async () => { served = await serve(certs, ['--fleet-server-client-auth', 'required', '--quiet']); });
  afterAll(() => served.stop());

  it('enrolls and checks in with the enrollment token serve printed', async () => {
    const { exitCode, json } = await load(['--url', served.ready.fleetServer, '--enrollment-token', served.ready.enrollmentToken!, '--agents', '2', '--concurrency', '2', '--duration', '500ms']);
    expect(json!.errors).toEqual({});
    expect(json!.handshakes).toBeGreaterThan(2);
    expect(exitCode).toBe(0);
  });

  it('refuses a Fleet Server whose certificate its --certs CAs do not verify, counting each as a TLS error', async () => {
    const { dir, cleanup: remove } = await scratchDir();
    try {
      const { exitCode, json } = await fleetTls(['load', '--json', '--certs', `${dir}/other`, '--url', served.ready.fleetServer, '--enrollment-token', served.ready.enrollmentToken!, '--agents', '2', '--concurrency', '2', '--duration', '300ms'])
        .then((r) => ({ exitCode: r.exitCode, json: JSON.parse(r.stdout) as LoadJson }));
      expect(Object.keys(json.errors)).toEqual(['tls:UNABLE_TO_VERIFY_LEAF_SIGNATURE']);
      expect(json.handshakes).toBe(0);
      expect(exitCode).toBe(1);
    } finally {
      await remove();
    }
  });

  it('counts every refused enrolment as http:401 and exits 1 for an enrollment token Elasticsearch does not know', async () => {
    const bogus = Buffer.from('nobody:nothing').toString('base64');
    const { exitCode, json } = await load(['--url', served.ready.fleetServer, '--enrollment-token', bogus, '--agents', '2', '--concurrency', '2', '--duration', '300ms']);
    expect(Object.keys(json!.errors)).toEqual(['http:401']);
    expect(json!.errors['http:401']).toBe(json!.handshakes);
    expect(exitCode).toBe(1);
  });
});

describe('fleet-tls load refuses bad input with exit 2 and one line', () => {
  it('names an unreachable --url and the reason, before any load', async () => {
    const port = await freePort();
    const { exitCode, stdout, stderr } = await load(['--url', `https://127.0.0.1:${port}`, '--enrollment-token', 'x']);
    expect(exitCode).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(`fleet-tls: FTH_TARGET_UNREACHABLE: --url https://127.0.0.1:${port}/: cannot connect to 127.0.0.1:${port} (ECONNREFUSED)`);
  });

  it.each([
    [['--agents', '0'], "--agents: '0' is not a positive whole number"],
    [['--agents', '-5'], "--agents: '-5' is not a positive whole number"],
    [['--concurrency', '0'], "--concurrency: '0' is not a positive whole number"],
    [['--concurrency', '-1'], "--concurrency: '-1' is not a positive whole number"],
    [['--duration', '0'], "--duration: '0' is not a positive duration (seconds, or with ms, s or m)"],
    [['--duration', '-2s'], "--duration: '-2s' is not a positive duration (seconds, or with ms, s or m)"],
    [['--sessions', 'reuse'], "--sessions: 'reuse' is not one of new, resume"],
    [['--tls', 'both'], "--tls: 'both' is not one of 1.2, 1.3"],
    [['--url', 'http://127.0.0.1:8220'], "--url: 'http://127.0.0.1:8220' is not an https URL"],
    [['--url', 'https://127.0.0.1:8220'], '--url needs --enrollment-token (the fake Fleet Server makes its own)'],
    [['--bare', '--tap'], '--tap: the bare node:tls server (--bare) has no record tap'],
    [['--url', 'https://127.0.0.1:8220', '--enrollment-token', 'x', '--tap'], '--tap: with --url there is no fake Fleet Server to run through the record tap'],
  ])('%j', async (args, message) => {
    // In process: a refusal starts nothing, and fourteen node start-ups cost a loaded machine most of a minute.
    const { status, out, err } = await cliInProcess(['load', '--certs', certs, '--json', ...args]);
    expect(status).toBe(2);
    expect(out).toBe('');
    expect(err).toBe(`fleet-tls: FTH_USAGE: ${message}\n`);
  });
});
