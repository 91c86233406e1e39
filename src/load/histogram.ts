import { HarnessError } from '../errors.js';

/**
 * A log-bucketed latency histogram that merges exactly: merging the histograms of several load
 * containers gives the very histogram that recording all their samples into one would have
 * given, so percentiles of the merged report are right (averaging per-container percentiles is
 * not). Bucket i > 0 holds the values in (GROWTH^(i-1), GROWTH^i] microseconds; bucket 0 holds
 * everything up to 1 µs. A percentile is reported as its bucket's upper bound, at most 1 % above
 * the nearest-rank sample it stands for.
 */
export const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);

export interface HistogramJson {
  readonly unit: 'us';
  readonly growth: number;
  readonly count: number;
  /** Exact extremes in milliseconds (the buckets round them). */
  readonly minMs: number | null;
  readonly maxMs: number | null;
  /** Sparse: bucket index to count. */
  readonly buckets: Readonly<Record<string, number>>;
}

export class LatencyHistogram {
  private readonly counts = new Map<number, number>();
  count = 0;
  minMs: number | null = null;
  maxMs: number | null = null;

  static of(latenciesMs: Iterable<number>): LatencyHistogram {
    const histogram = new LatencyHistogram();
    for (const ms of latenciesMs) histogram.record(ms);
    return histogram;
  }

  /** Reads what `toJSON` wrote, refusing anything that is not one (the file named in `source`). */
  static fromJSON(value: unknown, source: string): LatencyHistogram {
    const bad = (why: string) => new HarnessError('FTH_FILE_MALFORMED', `${source}: not a latency histogram (${why})`);
    if (typeof value !== 'object' || value === null) throw bad('not an object');
    const json = value as Partial<HistogramJson>;
    if (json.unit !== 'us' || json.growth !== GROWTH) throw bad(`unit ${String(json.unit)} and growth ${String(json.growth)}, expected us and ${GROWTH}`);
    if (typeof json.buckets !== 'object' || json.buckets === null) throw bad('no buckets');
    const histogram = new LatencyHistogram();
    for (const [key, count] of Object.entries(json.buckets)) {
      const index = Number(key);
      if (!Number.isSafeInteger(index) || index < 0 || !Number.isSafeInteger(count) || count < 0) throw bad(`bucket ${key}: ${String(count)}`);
      if (count > 0) histogram.add(index, count);
    }
    if (histogram.count !== json.count) throw bad(`count ${String(json.count)} but the buckets hold ${histogram.count}`);
    histogram.minMs = typeof json.minMs === 'number' ? json.minMs : null;
    histogram.maxMs = typeof json.maxMs === 'number' ? json.maxMs : null;
    return histogram;
  }

  static bucketOf(ms: number): number {
    const us = ms * 1000;
    if (!(us > 1)) return 0;
    // The epsilon keeps exact powers of GROWTH in their own bucket despite floating-point logs.
    return Math.max(1, Math.ceil(Math.log(us) / LOG_GROWTH - 1e-9));
  }

  /** The upper bound of bucket `index`, in milliseconds. */
  static upperMs(index: number): number {
    return index === 0 ? 0.001 : GROWTH ** index / 1000;
  }

  record(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    this.add(LatencyHistogram.bucketOf(ms), 1);
    this.minMs = this.minMs === null ? ms : Math.min(this.minMs, ms);
    this.maxMs = this.maxMs === null ? ms : Math.max(this.maxMs, ms);
  }

  merge(other: LatencyHistogram): this {
    for (const [index, count] of other.counts) this.add(index, count);
    if (other.minMs !== null) this.minMs = this.minMs === null ? other.minMs : Math.min(this.minMs, other.minMs);
    if (other.maxMs !== null) this.maxMs = this.maxMs === null ? other.maxMs : Math.max(this.maxMs, other.maxMs);
    return this;
  }

  /** Nearest rank, as `stats.percentile` over raw samples: the bucket holding the ceil(p% * n)-th value. */
  percentileMs(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.min(this.count, Math.max(1, Math.ceil((p / 100) * this.count)));
    let seen = 0;
    for (const index of [...this.counts.keys()].sort((a, b) => a - b)) {
      seen += this.counts.get(index)!;
      if (seen >= rank) return Math.min(LatencyHistogram.upperMs(index), this.maxMs ?? Infinity);
    }
    return this.maxMs ?? 0;
  }

  toJSON(): HistogramJson {
    const buckets: Record<string, number> = {};
    for (const index of [...this.counts.keys()].sort((a, b) => a - b)) buckets[String(index)] = this.counts.get(index)!;
    return { unit: 'us', growth: GROWTH, count: this.count, minMs: this.minMs, maxMs: this.maxMs, buckets };
  }

  private add(index: number, count: number): void {
    this.counts.set(index, (this.counts.get(index) ?? 0) + count);
    this.count += count;
  }
}
