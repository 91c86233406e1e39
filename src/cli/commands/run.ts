import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { HarnessError } from '../../errors.js';
import { writeOutputs } from '../../capture/outputs.js';
import { checkOutputPaths } from '../../capture/files.js';
import { catalogView, reportHtml } from '../../report/html/index.js';
import { scenariosDocument } from '../../report/json.js';
import { junitReport } from '../../report/junit.js';
import { renderScenarios, renderSummary } from '../../report/terminal.js';
import { findScenarios } from '../../scenarios/catalog.js';
import { runScenarios, type ScenarioResult } from '../../scenarios/run.js';
import { HelperThread } from '../../scenarios/run-thread.js';
import type { ScenarioData } from '../../scenarios/schema.js';
import type { TlsVersion } from '../../tls/settings.js';
import type { Io } from '../io.js';
import { CATALOG_FLAG, catalogFor, collect, describePki, parseCount, parseVersions, pkiFor } from './shared.js';

interface RunOptions {
  json?: boolean;
  junit?: string;
  tls: string;
  certs: string;
  catalog?: string[];
  concurrency?: string;
  verbose?: boolean;
  failuresOnly?: boolean;
  quiet?: boolean;
  html?: string;
  keylog?: string;
  pcap?: string;
}

export function registerRun(program: Command, io: Io): void {
  program
    .command('run')
    .description('run the scenario catalog (default: all of it, both flows first) under TLS 1.2 and 1.3 and print the report')
    .argument('[scenario...]', 'scenario ids or patterns (`agent-fleet.mutual.*`; see `fleet-tls scenarios`)')
    .option('--json', 'print the report as one JSON document')
    .option('--junit <file>', 'also write JUnit XML: one test case per scenario and TLS version')
    .option('--tls <version>', '1.2, 1.3 or both', 'both')
    .option('--certs <dir>', 'where the PKI lives (generated if missing)', 'certs')
    .option(...CATALOG_FLAG, collect)
    .option('--concurrency <n>', 'scenario runs at once')
    .option('--verbose', 'show every leg\'s log lines, not only failures')
    .option('--failures-only', 'print only the scenarios that did not behave as expected, then the summary')
    .option('--quiet', 'print only the summary (counts, failed scenarios, time)')
    .option('--html <file>', 'also write a self-contained HTML report: topology and a ladder per leg')
    .option('--keylog <file>', 'also write the TLS secrets of every leg (NSS key log, SSLKEYLOGFILE format)')
    .option('--pcap <file>', 'also write every leg\'s bytes as pcapng, with its secrets, for Wireshark')
    .action(async (ids: string[], options: RunOptions) => {
      // A capture needs each leg's wire, which stays in the thread that ran it.
      const threads = options.keylog === undefined && options.pcap === undefined;
      // The whole catalog or a pattern: likely a batch for the helper, which loads meanwhile.
      if (threads && (ids.length === 0 || ids.some((id) => id.includes('*')))) HelperThread.prewarm();
      const versions = parseVersions(options.tls);
      const concurrency = options.concurrency === undefined ? undefined : parseCount(options.concurrency, '--concurrency');
      if (options.json && (options.quiet || options.failuresOnly)) {
        throw new HarnessError('FTH_USAGE', `--json prints the whole report; it does not go with ${options.quiet ? '--quiet' : '--failures-only'}`);
      }
      const catalog = catalogFor(io, options.catalog);
      const scenarios = findScenarios(catalog, ids);
      const total = checkVersions(scenarios, ids, versions, options.tls);
      await checkOutputPaths(outputPaths(io.cwd, options));
      const started = performance.now();
      const { pki, actions } = await pkiFor(io, options.certs);
      const progress = io.progress && !options.json ? progressLine(io, total) : undefined;
      let results: ScenarioResult[];
      try {
        results = await runScenarios(catalog, scenarios, pki, {
          versions, ...(concurrency ? { concurrency } : {}), ...(progress ? { onResult: progress.update } : {}),
          threads,
        });
      } finally {
        progress?.clear();
      }
      if (options.junit) {
        const file = path.resolve(io.cwd, options.junit);
        await writeFile(file, junitReport(results)).catch((error: Error) => {
          throw new HarnessError('FTH_FILE_UNWRITABLE', `--junit ${file}: ${error.message}`);
        });
      }
      const time = `in ${((performance.now() - started) / 1000).toFixed(2)} s\n`;
      await writeOutputs(outputPaths(io.cwd, options), results.flatMap((r) => r.legs), () => reportHtml(catalogView(results)));
      if (options.json) {
        io.out(`${JSON.stringify(scenariosDocument(results), null, 2)}\n`);
      } else if (options.quiet) {
        io.out(renderSummary(results, { color: io.isTty }) + time);
      } else {
        io.out(`${describePki(pki, actions, io)}\n\n`);
        io.out(renderScenarios(results, { color: io.isTty, verbose: options.verbose === true, failuresOnly: options.failuresOnly === true }));
        io.out(time);
      }
      io.exitCode = results.every((r) => r.pass) ? 0 : 1;
    });
}

/**
 * How many runs the selection makes under `--tls`. A scenario named by id that the file limits
 * to other versions, or a selection with nothing left, is a usage error: exit 0 after running
 * nothing would read as a pass.
 */
function checkVersions(scenarios: readonly ScenarioData[], ids: readonly string[], versions: readonly TlsVersion[], flag: string): number {
  const runs = (s: ScenarioData) => versions.filter((v) => !s.tls || s.tls.includes(v)).length;
  for (const scenario of scenarios) {
    if (ids.includes(scenario.id) && runs(scenario) === 0) {
      throw new HarnessError('FTH_USAGE', `--tls ${flag}: scenario '${scenario.id}' runs only under TLS ${scenario.tls!.join(' and ')} (its file's tls:)`);
    }
  }
  const total = scenarios.reduce((sum, s) => sum + runs(s), 0);
  if (total === 0) throw new HarnessError('FTH_USAGE', `--tls ${flag}: none of the ${scenarios.length} selected scenarios runs under TLS ${versions.join(' or ')}`);
  return total;
}

/** `[12/156] 1 failed  agent-fleet.mutual.x TLS 1.3` on one terminal line of stderr, redrawn. */
function progressLine(io: Io, total: number) {
  let done = 0;
  let failed = 0;
  const width = Math.max(40, (process.stderr.columns ?? 80) - 1);
  return {
    update: (result: ScenarioResult) => {
      done += 1;
      if (!result.pass) failed += 1;
      const text = `[${done}/${total}] ${failed} failed  ${result.id} TLS ${result.tls}`;
      io.err(`\r\u001b[K${text.slice(0, width)}`);
    },
    clear: () => io.err('\r\u001b[K'),
  };
}

/** The output flags, resolved against the working directory. */
export function outputPaths(cwd: string, options: { html?: string; keylog?: string; pcap?: string }): { html?: string; keylog?: string; pcap?: string } {
  return Object.fromEntries(Object.entries({ html: options.html, keylog: options.keylog, pcap: options.pcap })
    .filter(([, file]) => file !== undefined).map(([name, file]) => [name, path.resolve(cwd, file!)]));
}
