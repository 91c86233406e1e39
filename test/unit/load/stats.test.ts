import { describe, expect, it } from 'vitest';
import { errorKind, mergeStats, percentile, report } from '../../../src/load/stats.js';
import { parseDuration } from '../../../src/cli/commands/load.js';
import { shares } from '../../../src/load/workers.js';

describe('load statistics', () => {
  it('takes the nearest-rank percentile of sorted samples, and 0 for none', () => {
    const sorted = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(sorted, 50), percentile(sorted, 95), percentile(sorted, 99), percentile(sorted, 100)]).toEqual([50, 95, 99, 100]);
    expect(percentile(Float64Array.from([7]), 99)).toBe(7);
    expect(percentile(new Float64Array(0), 50)).toBe(0);
  });

  it('merges workers\' counts, latencies and errors by kind', () => {
    const merged = mergeStats([
      { handshakes: 3, resumed: 1, latencies: [1, 2, 3], errors: { ECONNRESET: 1 } },
      { handshakes: 2, resumed: 0, latencies: [4, 5], errors: { ECONNRESET: 2, 'http:401': 1 } },
    ]);
    expect(merged).toEqual({ handshakes: 5, resumed: 1, latencies: [1, 2, 3, 4, 5], errors: { ECONNRESET: 3, 'http:401': 1 } });
  });

  it('reports the rate over the seconds given and percentiles of unsorted latencies', () => {
    const r = report({ handshakes: 10, resumed: 0, latencies: [9, 1, 5, 3, 7], errors: {} }, 4, { client: 12, server: 34 });
    expect(r).toEqual({ handshakes: 10, handshakesPerSecond: 2.5, latencyMs: { p50: 5, p95: 9, p99: 9 }, errors: {}, resumed: 0, seconds: 4, cpuMs: { client: 12, server: 34 } });
  });

  it('counts system errors by their code and TLS errors as tls:<code>', () => {
    expect(errorKind(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe('ECONNREFUSED');
    expect(errorKind(Object.assign(new Error('x'), { code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' }))).toBe('tls:ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
    expect(errorKind(new Error('socket hang up'))).toBe('error:socket hang up');
  });

  it('reads --duration as seconds, or with ms, s or m, and refuses zero, negatives and words', () => {
    expect([parseDuration('10'), parseDuration('1.5s'), parseDuration('250ms'), parseDuration('2m')]).toEqual([10_000, 1_500, 250, 120_000]);
    for (const bad of ['0', '-1', '0s', 'ten', '5h', '']) expect(() => parseDuration(bad)).toThrow(`--duration: '${bad}' is not a positive duration`);
  });

  it('splits agents and concurrency between workers in near-equal shares that add up', () => {
    expect(shares(10, 2)).toEqual([5, 5]);
    expect(shares(7, 2)).toEqual([4, 3]);
    expect(shares(10_000, 3)).toEqual([3334, 3333, 3333]);
    expect(shares(1, 1)).toEqual([1]);
  });
});
