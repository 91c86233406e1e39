import type { Command } from 'commander';
import { doctor, type DoctorResult } from '../../doctor/doctor.js';
import { HarnessError } from '../../errors.js';
import { renderLegs } from '../../report/terminal.js';
import type { Io } from '../io.js';
import { pkiFor } from './shared.js';
import { checkOutputPaths, takeOutputFlags } from '../../capture/files.js';
import { writeOutputs } from '../../capture/outputs.js';
import { flowView, reportHtml } from '../../report/html/index.js';
import { OUTPUT_HELP } from './install.js';
import { outputPaths } from './run.js';

export function registerDoctor(program: Command, io: Io): void {
  program
    .command('doctor')
    .description('inspect the files of an `elastic-agent install` command line, predict each leg, then run the real handshakes beside the predictions')
    .argument('[flags...]', 'the install flags; plus --static (no handshake), --p12-password <pw> (PKCS#12 files), --json')
    .allowUnknownOption()
    .helpOption(false)
    .action(async (args: string[]) => {
      if (args.includes('--help') || args.includes('-h')) {
        io.out(DOCTOR_HELP);
        return;
      }
      const { rest: withoutOutputs, outputs } = takeOutputFlags(args);
      const { rest, isStatic, p12Password } = doctorFlags(withoutOutputs);
      await checkOutputPaths(outputPaths(io.cwd, outputs));
      const certsFlag = rest.map((a, i) => (a.startsWith('--certs=') ? a.slice(8) : a === '--certs' ? rest[i + 1] : undefined)).find(Boolean);
      const { pki } = await pkiFor(io, certsFlag ?? 'certs');
      const result = await doctor(rest, { pki, static: isStatic, ...(p12Password !== undefined ? { p12Password } : {}) });
      await writeOutputs(outputPaths(io.cwd, outputs), result.legs, () => reportHtml(flowView('fleet-tls doctor', result.ok, result.legs, rest)));
      if (rest.includes('--json')) {
        io.out(`${JSON.stringify({ ok: result.ok, findings: result.findings, legs: result.legs, predictions: result.predictions, ...(result.startError ? { startError: result.startError } : {}) }, null, 2)}\n`);
      } else {
        io.out(renderDoctor(result));
        if (result.legs.length) io.out(renderLegs(result.legs, { color: io.isTty }));
      }
      io.exitCode = result.ok ? 0 : 1;
    });
}

/** Takes out the doctor's own flags; the rest is an install command line. */
function doctorFlags(args: readonly string[]): { rest: string[]; isStatic: boolean; p12Password?: string } {
  const rest: string[] = [];
  let isStatic = false;
  let p12Password: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--static') isStatic = true;
    else if (arg.startsWith('--p12-password=')) p12Password = arg.slice('--p12-password='.length);
    else if (arg === '--p12-password') {
      if (i + 1 >= args.length) throw new HarnessError('FTH_USAGE', 'option \'--p12-password <value>\' argument missing');
      p12Password = args[++i];
    } else rest.push(arg);
  }
  return { rest, isStatic, ...(p12Password !== undefined ? { p12Password } : {}) };
}

const OUTCOME: Record<string, string> = {
  ok: 'works', 'rejected-by-client': 'rejected by the client', 'rejected-by-server': 'rejected by the server', 'not-attempted': 'not attempted',
};

export function renderDoctor(result: DoctorResult): string {
  const count = (s: string) => result.findings.filter((f) => f.severity === s).length;
  const lines = [`doctor: ${count('error')} error(s), ${count('warning')} warning(s), ${count('info')} note(s)`];
  for (const f of result.findings) {
    lines.push(`${f.severity.padEnd(7)} ${f.code} ${f.flag}${f.file ? ` ${f.file}` : ''}`, `        ${f.message}`);
    if (f.fix) lines.push(`        fix: ${f.fix}`);
  }
  if (result.startError) lines.push(`a component cannot start with these files: ${result.startError}`);
  lines.push('legs (prediction | handshake):');
  for (const p of result.predictions) {
    const verdict = p.actual === null ? '(static: not run)'
      : p.agrees === null ? `${OUTCOME[p.actual]} (no handshake ran)`
      : `${OUTCOME[p.actual]}${p.agrees ? ' (agrees)' : p.actual === p.outcome ? ' (DISAGREES: the leg shows another reason)' : ' (DISAGREES with the prediction)'}`;
    lines.push(`  ${p.from} -> ${p.to}${p.stage === 'policy' ? ' (policy)' : ''}: ${OUTCOME[p.outcome]} | ${verdict}`, `    predicted: ${p.message}`);
  }
  lines.push(result.ok ? 'verdict: nothing stands in the way' : 'verdict: this command fails as it stands');
  return `${lines.join('\n')}\n`;
}

const DOCTOR_HELP = `Usage: fleet-tls doctor [elastic-agent install flags] [--static] [--p12-password <pw>] [--json]

Inspects every certificate, key, CA and passphrase file the install flags name, as the agent,
Fleet Server and Elasticsearch read them, and predicts each leg: host name against SANs (full and
strict), validity, EKU, chain completeness, CA flags, key against certificate, passphrase,
fingerprints in both Elastic formats. Each finding has a severity, the flag and file, and the fix.
Then, unless --static, it runs the real handshakes with those files and shows each prediction
beside what happened. Exit status: 0 no error and every leg works, 1 otherwise, 2 bad input.
The harness flags of \`fleet-tls install --help\` (--es-cert, --es-keystore, ...) apply.

report files:
${OUTPUT_HELP}`;
