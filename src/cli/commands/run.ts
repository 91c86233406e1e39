import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { HarnessError } from '../../errors.js';
import { writeOutputs } from '../../capture/outputs.js';
import { checkOutputPaths } from '../../capture/files.js';
import { catalogView, reportHtml } from '../../report/html/index.js';
import { scenariosDocument } from '../../report/json.js';
import { junitReport } from '../../report/junit.js';
import { renderScenarios } from '../../report/terminal.js';
import { findScenarios } from '../../scenarios/catalog.js';
import { runScenarios } from '../../scenarios/run.js';
import type { Io } from '../io.js';
import { catalogFor, describePki, parseCount, parseVersions, pkiFor } from './shared.js';

interface RunOptions {
  json?: boolean;
  junit?: string;
  tls: string;
  certs: string;
  catalog?: string[];
  concurrency?: string;
  verbose?: boolean;
  html?: string;
  keylog?: string;
  pcap?: string;
}

export function registerRun(program: Command, io: Io): void {
  program
    .command('run')
    .description('run the scenario catalog (default: all of it, both flows first) under TLS 1.2 and 1.3 and print the report')
    .argument('[scenario...]', 'scenario ids (see `fleet-tls scenarios`)')
    .option('--json', 'print the report as one JSON document')
    .option('--junit <file>', 'also write JUnit XML: one test case per scenario and TLS version')
    .option('--tls <version>', '1.2, 1.3 or both', 'both')
    .option('--certs <dir>', 'where the PKI lives (generated if missing)', 'certs')
    .option('--catalog <dir...>', 'more catalog directories (each with flows/ and scenarios/)')
    .option('--concurrency <n>', 'scenario runs at once')
    .option('--verbose', 'show every leg\'s log lines, not only failures')
    .option('--html <file>', 'also write a self-contained HTML report: topology and a ladder per leg')
    .option('--keylog <file>', 'also write the TLS secrets of every leg (NSS key log, SSLKEYLOGFILE format)')
    .option('--pcap <file>', 'also write every leg\'s bytes as pcapng, with its secrets, for Wireshark')
    .action(async (ids: string[], options: RunOptions) => {
      const versions = parseVersions(options.tls);
      const concurrency = options.concurrency === undefined ? undefined : parseCount(options.concurrency, '--concurrency');
      const catalog = catalogFor(io, options.catalog);
      const scenarios = findScenarios(catalog, ids);
      await checkOutputPaths(outputPaths(io.cwd, options));
      const started = performance.now();
      const { pki, actions } = await pkiFor(io, options.certs);
      const results = await runScenarios(catalog, scenarios, pki, { versions, ...(concurrency ? { concurrency } : {}) });
      if (options.junit) {
        const file = path.resolve(io.cwd, options.junit);
        await writeFile(file, junitReport(results)).catch((error: Error) => {
          throw new HarnessError('FTH_FILE_UNWRITABLE', `--junit ${file}: ${error.message}`);
        });
      }
      await writeOutputs(outputPaths(io.cwd, options), results.flatMap((r) => r.legs), () => reportHtml(catalogView(results)));
      if (options.json) {
        io.out(`${JSON.stringify(scenariosDocument(results), null, 2)}\n`);
      } else {
        io.out(`${describePki(pki, actions, io)}\n\n`);
        io.out(renderScenarios(results, { color: io.isTty, verbose: options.verbose === true }));
        io.out(`in ${((performance.now() - started) / 1000).toFixed(2)} s\n`);
      }
      io.exitCode = results.every((r) => r.pass) ? 0 : 1;
    });
}

/** The output flags, resolved against the working directory. */
export function outputPaths(cwd: string, options: { html?: string; keylog?: string; pcap?: string }): { html?: string; keylog?: string; pcap?: string } {
  return Object.fromEntries(Object.entries({ html: options.html, keylog: options.keylog, pcap: options.pcap })
    .filter(([, file]) => file !== undefined).map(([name, file]) => [name, path.resolve(cwd, file!)]));
}
