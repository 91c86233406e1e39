import type { Command } from 'commander';
import { HarnessError } from '../../errors.js';
import { Explainer } from '../../explain/match.js';
import { explainDocument, renderExplanation } from '../../explain/report.js';
import { MAX_LINE_CHARS, MAX_LINES } from '../../explain/unwrap.js';
import type { Io } from '../io.js';
import { CATALOG_FLAG, catalogFor, collect } from './shared.js';

interface ExplainOptions {
  json?: boolean;
  catalog?: string[];
}

export function registerExplain(program: Command, io: Io): void {
  program
    .command('explain')
    .description('find the scenarios that write a pasted log line: the cause, the fix and the command that reproduces it')
    .argument('<line...>', 'the log line as logged or pasted, in quotes (after -- if it starts with -)')
    .option('--json', 'print { matches: [{ scenario, score, cause, fix, reproduce, ... }], closest } instead')
    .option(...CATALOG_FLAG, collect)
    .action((words: string[], options: ExplainOptions) => {
      const line = words.join(' ');
      if (line.trim() === '') throw new HarnessError('FTH_USAGE', 'explain: the log line is empty (paste it in quotes: fleet-tls explain "LINE")');
      const cut = unread(line);
      if (cut) io.err(`fleet-tls: note: ${cut}\n`);
      const catalog = catalogFor(io, options.catalog);
      const document = explainDocument(catalog, new Explainer(catalog).explain(line), { catalogArgs: options.catalog ?? [] });
      io.out(options.json ? `${JSON.stringify(document, null, 2)}\n` : renderExplanation(document));
      io.exitCode = document.matches.length > 0 ? 0 : 1;
    });
}

/** What explain leaves unread of a long paste (it reads bounded text), said rather than dropped. */
export function unread(text: string): string | undefined {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const parts: string[] = [];
  if (lines.length > MAX_LINES) parts.push(`read the first ${MAX_LINES} of ${lines.length} lines`);
  const long = lines.slice(0, MAX_LINES).filter((l) => l.trim().length > MAX_LINE_CHARS).length;
  if (long > 0) parts.push(`read the first ${MAX_LINE_CHARS} characters of ${long === 1 ? 'a line' : `${long} lines`} longer than that`);
  return parts.length ? `${parts.join('; ')} (paste the lines that matter)` : undefined;
}
