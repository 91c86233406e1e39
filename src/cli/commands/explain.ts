import type { Command } from 'commander';
import { HarnessError } from '../../errors.js';
import { Explainer } from '../../explain/match.js';
import { explainDocument, renderExplanation } from '../../explain/report.js';
import type { Io } from '../io.js';
import { catalogFor } from './shared.js';

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
    .option('--catalog <dir...>', 'more catalog directories (each with flows/ and scenarios/)')
    .action((words: string[], options: ExplainOptions) => {
      const line = words.join(' ');
      if (line.trim() === '') throw new HarnessError('FTH_USAGE', 'explain: the log line is empty (paste it in quotes: fleet-tls explain "LINE")');
      const catalog = catalogFor(io, options.catalog);
      const document = explainDocument(catalog, new Explainer(catalog).explain(line), { catalogArgs: options.catalog ?? [] });
      io.out(options.json ? `${JSON.stringify(document, null, 2)}\n` : renderExplanation(document));
      io.exitCode = document.matches.length > 0 ? 0 : 1;
    });
}
