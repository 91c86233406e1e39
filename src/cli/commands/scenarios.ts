import type { Command } from 'commander';
import { CATALOG_FLAG, catalogFor, collect } from './shared.js';
import type { Io } from '../io.js';

export function registerScenarios(program: Command, io: Io): void {
  program
    .command('scenarios')
    .description('list the scenario catalog')
    .option('--json', 'print it as JSON')
    .option(...CATALOG_FLAG, collect)
    .action((options: { json?: boolean; catalog?: string[] }) => {
      const catalog = catalogFor(io, options.catalog);
      const rows = catalog.scenarios.map((s) => ({ id: s.id, title: s.title, flow: s.flow, tls: s.tls ?? ['1.2', '1.3'] }));
      if (options.json) {
        io.out(`${JSON.stringify({ scenarios: rows }, null, 2)}\n`);
        return;
      }
      const width = Math.max(...rows.map((r) => r.id.length));
      for (const row of rows) io.out(`${row.id.padEnd(width)}  ${row.flow.padEnd(8)} ${row.title}\n`);
      io.out(`${rows.length} scenarios\n`);
    });
}
