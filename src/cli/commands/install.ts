import type { Command } from 'commander';
import { AGENT_FLAGS, HARNESS_FLAGS } from '../../flows/install-flags.js';
import { checkInstallFlags, install } from '../../flows/install.js';
import { legsDocument } from '../../report/json.js';
import { renderLegs } from '../../report/terminal.js';
import type { Io } from '../io.js';
import { pkiFor } from './shared.js';
import { checkOutputPaths, takeOutputFlags } from '../../capture/files.js';
import { writeOutputs } from '../../capture/outputs.js';
import { flowView, reportHtml } from '../../report/html/index.js';
import { outputPaths } from './run.js';

export function registerInstall(program: Command, io: Io): void {
  program
    .command('install')
    .description('run an `elastic-agent install` command line through the fakes and report each leg')
    .argument('[flags...]', 'the install flags, as you would give them to elastic-agent')
    .allowUnknownOption()
    .helpOption(false)
    .action(async (all: string[]) => {
      if (all.includes('--help') || all.includes('-h')) {
        io.out(installHelp());
        return;
      }
      const { rest: args, outputs } = takeOutputFlags(all);
      await checkOutputPaths(outputPaths(io.cwd, outputs));
      const certsFlag = args.map((a, i) => (a.startsWith('--certs=') ? a.slice(8) : a === '--certs' ? args[i + 1] : undefined)).find(Boolean);
      // Bad flags are refused before the default PKI is written (a refused install leaves no ./certs).
      const { pki } = await pkiFor(io, certsFlag ?? 'certs', (candidate) => checkInstallFlags(args, candidate));
      const result = await install(args, pki);
      await writeOutputs(outputPaths(io.cwd, outputs), result.legs, () => reportHtml(flowView('fleet-tls install', result.ok, result.legs, args)));
      if (args.includes('--json')) {
        io.out(`${JSON.stringify(legsDocument(result.ok, result.legs, result.hints.length ? { hints: result.hints } : {}), null, 2)}\n`);
      } else {
        for (const note of result.notes) io.out(`note: ${note}\n`);
        io.out(`${result.ok ? 'the flow works' : 'the flow fails'}:\n`);
        io.out(renderLegs(result.legs, { color: io.isTty }));
      }
      for (const hint of result.hints) io.err(`hint: ${hint}\n`);
      io.exitCode = result.ok ? 0 : 1;
    });
}

function installHelp(): string {
  const line = (f: { name: string; short?: string; kind: string; description: string }) =>
    `  ${`${f.short ? `-${f.short}, ` : '    '}--${f.name}${f.kind === 'string' ? ' <value>' : ''}`.padEnd(52)}${f.description}\n`;
  return 'Usage: fleet-tls install [elastic-agent install flags] [harness flags]\n\n' +
    'Runs the enrollment an `elastic-agent install` command line describes through a fake Elasticsearch,\n' +
    'a fake Fleet Server configured from its --fleet-server-* flags, and a fake agent enrolling through --url.\n' +
    'Paths may be Elastic\'s `/path/to/<name>` placeholders: they are read from the --certs directory.\n\n' +
    'elastic-agent install flags:\n' + AGENT_FLAGS.map(line).join('') +
    '\nharness flags (Elastic\'s command does not configure Elasticsearch):\n' + HARNESS_FLAGS.map(line).join('') +
    '\nreport files:\n' + OUTPUT_HELP;
}

export const OUTPUT_HELP = [
  '  --html <file>     also write a self-contained HTML report: topology and a ladder per leg',
  '  --keylog <file>   also write the TLS secrets of every leg (NSS key log, SSLKEYLOGFILE format)',
  '  --pcap <file>     also write every leg\'s bytes as pcapng, with its secrets, for Wireshark',
  '',
].join('\n');
