import path from 'node:path';
import type { Command } from 'commander';
import { HarnessError } from '../../errors.js';
import { mergeLoad, readResults, type AgentResultSummary, type LoadFigures } from '../../load/results.js';
import type { Io } from '../io.js';
import type { Leg } from '../../report/leg.js';
import { tallyLegs } from './results-legs.js';

/**
 * `fleet-tls results <dir|file>...`: the combined report of what agent and load containers wrote
 * into a shared volume. Load figures are merged by histogram, so the percentiles are those of
 * all the samples together.
 */
export function registerResults(program: Command, io: Io): void {
  program
    .command('results')
    .description('merge the JSON results agent containers (`fleet-tls agent`) and load containers (`fleet-tls load --figures`) wrote into one report')
    .argument('<paths...>', 'result files, or directories holding them (*.json)')
    .option('--json', 'print the combined report as JSON')
    .action(async (paths: string[], options: { json?: boolean }) => {
      const results = await readResults(paths.map((p) => path.resolve(io.cwd, p)));
      if (results.length === 0) throw new HarnessError('FTH_FILE_UNREADABLE', `${paths.join(', ')}: no result files (*.json) there`);
      const agents = results.filter((r): r is { file: string; value: AgentResultSummary } => r.value.kind === 'agent');
      const loads = results.filter((r): r is { file: string; value: LoadFigures } => r.value.kind === 'load');
      const failed = agents.filter((a) => !a.value.ok);
      const enrollMs = agents.flatMap((a) => a.value.enrolledAt ? [Date.parse(a.value.enrolledAt) - Date.parse(a.value.startedAt)] : []);
      const load = loads.length ? mergeLoad(loads) : undefined;
      const legs = tallyLegs(agents.map((a) => a.value as { legs?: readonly Leg[] }));
      const report = {
        agents: {
          total: agents.length,
          ok: agents.length - failed.length,
          failed: failed.map((a) => ({ agent: a.value.agent, file: path.relative(io.cwd, a.file) || a.file, lastLine: a.value.logs.at(-1) ?? '' })),
          ...(enrollMs.length ? { slowestEnrollmentMs: Math.max(...enrollMs) } : {}),
          legs,
        },
        ...(load ? { load } : {}),
      };
      if (options.json) {
        io.out(`${JSON.stringify(report, null, 2)}\n`);
      } else {
        const lines: string[] = [];
        if (agents.length) {
          lines.push(`agents            ${report.agents.ok} of ${agents.length} enrolled, checked in and shipped`);
          for (const f of report.agents.failed) lines.push(`  failed ${f.agent}: ${f.lastLine}`);
          // Each hop the agents crossed, in the order they cross them (the proxy first when there is one).
          legs.forEach((l, i) => lines.push(`${i === 0 ? 'legs' : ''}`.padEnd(18) + `${l.hop.padEnd(32)} ${l.ok} of ${l.total} ok${l.seen.length ? `  (${l.seen.slice(0, 2).join('; ')})` : ''}`));
        }
        if (load) {
          lines.push(
            `load containers   ${load.sources}`,
            `handshakes        ${load.handshakes} in ${load.seconds} s (${load.resumed} resumed), ${load.handshakesPerSecond}/s together`,
            `latency ms        p50 ${load.latencyMs.p50}  p95 ${load.latencyMs.p95}  p99 ${load.latencyMs.p99}  max ${load.latencyMs.max} (merged histograms)`,
            `errors            ${Object.entries(load.errors).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`,
          );
        }
        io.out(`${lines.join('\n')}\n`);
      }
      io.exitCode = failed.length === 0 && (!load || Object.keys(load.errors).length === 0) ? 0 : 1;
    });
}
