import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GROWTH, LatencyHistogram } from '../../../src/load/histogram.js';
import { mergeLoad, readResults, type LoadFigures } from '../../../src/load/results.js';
import type { LoadReport } from '../../../src/load/stats.js';

const upper = (ms: number) => LatencyHistogram.upperMs(LatencyHistogram.bucketOf(ms));

function figures(source: string, latencies: number[], seconds: number, errors: Record<string, number> = {}): LoadFigures {
  const report: LoadReport = {
    handshakes: latencies.length, handshakesPerSecond: latencies.length / seconds, latencyMs: { p50: 0, p95: 0, p99: 0 },
    errors, resumed: 0, seconds, cpuMs: { client: 0, server: null },
  };
  return { kind: 'load', source, report, latencyHistogram: LatencyHistogram.of(latencies).toJSON() };
}

describe('merging load histograms across containers', () => {
  // Container a: 90 fast handshakes at 2 ms; container b: 10 slow ones at 100 ms.
  const a = figures('a', Array(90).fill(2), 10, { ECONNRESET: 1 });
  const b = figures('b', Array(10).fill(100), 8, { ECONNRESET: 2, 'tls:ERR_SSL': 1 });

  it('gives the percentiles of all the samples together, not the average of each container\'s', () => {
    const merged = mergeLoad([{ file: 'a', value: a }, { file: 'b', value: b }]);
    // Nearest rank over 100 samples: p50 and p90 are the 50th and 90th (2 ms), p95 and p99 the slow ones.
    expect(merged.latencyMs).toEqual({ p50: Math.round(upper(2) * 100) / 100, p95: 100, p99: 100, max: 100 });
    expect(upper(2)).toBeGreaterThanOrEqual(2);
    expect(upper(2)).toBeLessThanOrEqual(2 * GROWTH);
    // Averaging the containers' p95 would say (2 + 100) / 2 = 51 ms, a latency no handshake had.
    expect(merged.latencyMs.p95).not.toBe(51);
    expect(merged).toMatchObject({ sources: 2, handshakes: 100, seconds: 10, handshakesPerSecond: 10, errors: { ECONNRESET: 3, 'tls:ERR_SSL': 1 } });
  });

  it('is exactly the histogram of every sample recorded in one place, in any order', () => {
    const samples = Array.from({ length: 2000 }, (_, i) => 0.05 + ((i * 7919) % 1000) / 7);
    const whole = LatencyHistogram.of(samples);
    const parts = [samples.slice(0, 700), samples.slice(700, 1300), samples.slice(1300)].map((s) => LatencyHistogram.of(s));
    const merged = new LatencyHistogram().merge(parts[2]!).merge(parts[0]!).merge(parts[1]!);
    expect(merged.toJSON()).toEqual(whole.toJSON());
    const sorted = [...samples].sort((x, y) => x - y);
    for (const p of [50, 90, 95, 99, 99.9]) {
      const exact = sorted[Math.ceil((p / 100) * sorted.length) - 1]!;
      expect(merged.percentileMs(p)).toBe(Math.min(upper(exact), merged.maxMs!));
      expect(merged.percentileMs(p) / exact).toBeLessThanOrEqual(GROWTH);
    }
  });

  it('keeps a value on a bucket edge in its own bucket', () => {
    expect(LatencyHistogram.bucketOf(GROWTH ** 100 / 1000)).toBe(100);
    expect(LatencyHistogram.bucketOf((GROWTH ** 100 / 1000) * 1.000001)).toBe(101);
    expect(LatencyHistogram.bucketOf(0.0005)).toBe(0);
  });

  it('reads results from a directory and refuses a file that is not one of them, naming it', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fleet-tls-results-'));
    try {
      await writeFile(path.join(dir, 'a.load.json'), JSON.stringify(a));
      await writeFile(path.join(dir, 'b.load.json'), JSON.stringify(b));
      await writeFile(path.join(dir, 'notes.txt'), 'not read');
      const results = await readResults([dir]);
      expect(results.map((r) => path.basename(r.file))).toEqual(['a.load.json', 'b.load.json']);
      expect(mergeLoad(results as Array<{ file: string; value: LoadFigures }>).handshakes).toBe(100);
      await writeFile(path.join(dir, 'c.json'), '{"hello":1}');
      await expect(readResults([dir])).rejects.toThrow(`${path.join(dir, 'c.json')}: not a fleet-tls agent result or load figures (no "kind")`);
      const tampered = { ...a, latencyHistogram: { ...a.latencyHistogram, count: 5 } };
      expect(() => mergeLoad([{ file: 'x.json', value: tampered }])).toThrow('x.json: not a latency histogram (count 5 but the buckets hold 90)');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
