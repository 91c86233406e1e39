/** Counting for `fleet-tls load`: handshakes, latencies and errors by kind, mergeable across workers. */

export interface LoadStats {
  handshakes: number;
  /** How many of the handshakes resumed a session. */
  resumed: number;
  /** Milliseconds from TCP connect to the end of the response, one per completed exchange. */
  latencies: number[];
  errors: Record<string, number>;
}

export function emptyStats(): LoadStats {
  return { handshakes: 0, resumed: 0, latencies: [], errors: {} };
}

export function countError(stats: LoadStats, kind: string): void {
  stats.errors[kind] = (stats.errors[kind] ?? 0) + 1;
}

export function mergeStats(parts: readonly LoadStats[]): LoadStats {
  const merged = emptyStats();
  for (const part of parts) {
    merged.handshakes += part.handshakes;
    merged.resumed += part.resumed;
    for (const latency of part.latencies) merged.latencies.push(latency);
    for (const [kind, count] of Object.entries(part.errors)) merged.errors[kind] = (merged.errors[kind] ?? 0) + count;
  }
  return merged;
}

/** The nearest-rank percentile of `sorted` (ascending); 0 for no samples. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** What `--json` prints: the shape the issue fixes, plus the hold figures when asked for. */
export interface LoadReport {
  readonly handshakes: number;
  readonly handshakesPerSecond: number;
  readonly latencyMs: { readonly p50: number; readonly p95: number; readonly p99: number };
  readonly errors: Readonly<Record<string, number>>;
  readonly resumed: number;
  readonly seconds: number;
  /** CPU time the load generator and (when it is ours) the server used: robust to a busy machine. */
  readonly cpuMs: { readonly client: number; readonly server: number | null };
  readonly hold?: HoldReport;
}

export interface HoldReport {
  /** Checkins the server held open at once (counted by the server when it is ours, else connected). */
  readonly connections: number;
  /** (holding - before) / connections. */
  /** The server's resident memory before any agent, after every agent enrolled, and holding. */
  readonly serverRssBeforeBytes: number | null;
  readonly serverRssPreparedBytes: number | null;
  readonly serverRssAfterBytes: number | null;
  readonly bytesPerConnection: number | null;
  readonly clientRssBytes: number;
}

export function report(stats: LoadStats, seconds: number, cpuMs: LoadReport['cpuMs'], hold?: HoldReport): LoadReport {
  const sorted = Float64Array.from(stats.latencies).sort();
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    handshakes: stats.handshakes,
    handshakesPerSecond: round(seconds > 0 ? stats.handshakes / seconds : 0),
    latencyMs: { p50: round(percentile(sorted, 50)), p95: round(percentile(sorted, 95)), p99: round(percentile(sorted, 99)) },
    errors: stats.errors,
    resumed: stats.resumed,
    seconds: round(seconds),
    cpuMs,
    ...(hold ? { hold } : {}),
  };
}

/** The kind an error is counted under: a system or TLS code, `http:<status>`, or `timeout`. */
export function errorKind(error: unknown): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
  if (code === undefined) return `error:${(error as Error)?.message ?? String(error)}`;
  if (/^E[A-Z]+$/.test(code)) return code;
  return `tls:${code}`;
}
