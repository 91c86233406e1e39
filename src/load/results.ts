import { lstat, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { HarnessError, systemErrorCode } from '../errors.js';
import { LatencyHistogram, type HistogramJson } from './histogram.js';
import type { LoadReport } from './stats.js';

/**
 * The files agent and load containers leave in a shared volume, and their merge into one
 * report. Every file carries a `kind` so the merge reads only what the harness wrote.
 */

/** What `fleet-tls load --figures` writes: its report plus the histogram the percentiles came from. */
export interface LoadFigures {
  readonly kind: 'load';
  readonly source: string;
  readonly report: LoadReport;
  readonly latencyHistogram: HistogramJson;
}

/** The part of an agent's result the merge reads (the whole shape: cli/commands/agent.ts). */
export interface AgentResultSummary {
  readonly kind: 'agent';
  readonly agent: string;
  readonly ok: boolean;
  readonly startedAt: string;
  readonly enrolledAt: string | null;
  readonly logs: readonly string[];
}

export interface MergedLoad {
  readonly sources: number;
  readonly handshakes: number;
  /** Containers run side by side: the total over the longest run. */
  readonly handshakesPerSecond: number;
  readonly seconds: number;
  readonly latencyMs: { readonly p50: number; readonly p95: number; readonly p99: number; readonly max: number };
  readonly errors: Readonly<Record<string, number>>;
  readonly resumed: number;
}

/**
 * Writes a result file: a temporary file renamed over the target, so a symlink at the target is
 * replaced rather than followed; an existing file that is not one of ours is left alone.
 */
export async function writeFileOwned(file: string, text: string): Promise<void> {
  const existing = await lstat(file).catch(() => undefined);
  if (existing) {
    const ours = existing.isFile() && await readFile(file, 'utf8').then((t) => ['agent', 'load'].includes((JSON.parse(t) as { kind?: string }).kind ?? ''), () => false);
    if (!ours) throw new HarnessError('FTH_FILE_UNWRITABLE', `${file}: exists and was not written by fleet-tls; refusing to replace it`);
  }
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, text, { mode: 0o644, flag: 'wx' });
    await rename(temporary, file);
  } catch (error) {
    throw new HarnessError('FTH_FILE_UNWRITABLE', `${file}: cannot write it (${systemErrorCode(error) ?? (error as Error).message})`);
  }
}

/** The result files under `paths` (files, or directories read one level deep for *.json), parsed. */
export async function readResults(paths: readonly string[]): Promise<Array<{ file: string; value: LoadFigures | AgentResultSummary }>> {
  const files: string[] = [];
  for (const p of paths) {
    const stat = await lstat(p).catch((error: unknown) => {
      throw new HarnessError('FTH_FILE_UNREADABLE', `${p}: ${systemErrorCode(error) ?? (error as Error).message}`);
    });
    if (stat.isDirectory()) {
      const names = (await readdir(p)).filter((n) => n.endsWith('.json')).sort();
      files.push(...names.map((n) => path.join(p, n)));
    } else {
      files.push(p);
    }
  }
  const results = [];
  for (const file of files) {
    let value: unknown;
    try {
      value = JSON.parse(await readFile(file, 'utf8'));
    } catch (error) {
      throw new HarnessError('FTH_FILE_MALFORMED', `${file}: not a JSON result (${systemErrorCode(error) ?? (error as Error).message})`);
    }
    const kind = (value as { kind?: unknown } | null)?.kind;
    if (kind !== 'agent' && kind !== 'load') throw new HarnessError('FTH_FILE_MALFORMED', `${file}: not a fleet-tls agent result or load figures (no "kind")`);
    results.push({ file, value: value as LoadFigures | AgentResultSummary });
  }
  return results;
}

/** Merges load figures: counts add, histograms merge bucket by bucket, percentiles come from the merge. */
export function mergeLoad(parts: ReadonlyArray<{ file: string; value: LoadFigures }>): MergedLoad {
  const histogram = new LatencyHistogram();
  const errors: Record<string, number> = {};
  let handshakes = 0;
  let resumed = 0;
  let seconds = 0;
  for (const { file, value } of parts) {
    histogram.merge(LatencyHistogram.fromJSON(value.latencyHistogram, file));
    handshakes += value.report.handshakes;
    resumed += value.report.resumed;
    seconds = Math.max(seconds, value.report.seconds);
    for (const [kind, n] of Object.entries(value.report.errors)) errors[kind] = (errors[kind] ?? 0) + n;
  }
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    sources: parts.length,
    handshakes,
    handshakesPerSecond: round(seconds > 0 ? handshakes / seconds : 0),
    seconds,
    latencyMs: {
      p50: round(histogram.percentileMs(50)), p95: round(histogram.percentileMs(95)),
      p99: round(histogram.percentileMs(99)), max: round(histogram.maxMs ?? 0),
    },
    errors,
    resumed,
  };
}
