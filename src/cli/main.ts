import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { HarnessError, oneLine } from '../errors.js';
import { registerCerts } from './commands/certs.js';
import { registerExplain } from './commands/explain.js';
import { registerInstall } from './commands/install.js';
import { registerDoctor } from './commands/doctor.js';
import { registerProbe } from './commands/probe.js';
import { registerLoad } from './commands/load.js';
import { registerRun } from './commands/run.js';
import { registerScenarios } from './commands/scenarios.js';
import { registerServe } from './commands/serve.js';
import { registerElasticsearch } from './commands/elasticsearch.js';
import { registerFleetServer } from './commands/fleet-server.js';
import { registerAgent } from './commands/agent.js';
import { registerProxy } from './commands/proxy.js';
import { registerResults } from './commands/results.js';
import { registerHealthcheck } from './commands/healthcheck.js';
import { registerContainer } from './commands/container.js';
import type { Io } from './io.js';

/** Exit statuses: 0 behaved as expected, 1 an expectation or the flow failed, 2 bad usage or input. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** The package's version, from the package.json beside dist/ (or src/). */
export function harnessVersion(): string {
  const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

export function buildProgram(io: Io): Command {
  const program = new Command('fleet-tls')
    .version(harnessVersion(), '-V, --version', 'print the version')
    .description('Fake Elasticsearch, Fleet Server and Elastic Agent with a generated PKI, driving real TLS handshakes through the one-way and mutual flows of Elastic\'s TLS page')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s), outputError: () => {} })
    .showSuggestionAfterError(true);
  registerRun(program, io);
  registerCerts(program, io);
  registerServe(program, io);
  registerInstall(program, io);
  registerScenarios(program, io);
  registerDoctor(program, io);
  registerProbe(program, io);
  registerExplain(program, io);
  registerLoad(program, io);
  // One component each, for containers (docker/): issue 12.
  registerElasticsearch(program, io);
  registerFleetServer(program, io);
  registerAgent(program, io);
  registerProxy(program, io);
  registerResults(program, io);
  registerHealthcheck(program, io);
  registerContainer(program, io, async (argv) => { await buildProgram(io).parseAsync(argv, { from: 'user' }); });
  return program;
}

/** Runs the CLI and returns the exit status; never throws, never prints a stack trace. */
export async function runCli(argv: readonly string[], io: Io): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return io.exitCode ?? EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return EXIT.ok;
      // No command at all: commander printed the help (to stderr); that is the whole answer.
      if (error.code === 'commander.help') return EXIT.usage;
      io.err(`fleet-tls: FTH_USAGE: ${oneLine(error.message)}\n`);
      return EXIT.usage;
    }
    if (error instanceof HarnessError) {
      io.err(`fleet-tls: ${error.shortMessage}\n`);
      return error.isInputError ? EXIT.usage : EXIT.failed;
    }
    io.err(`fleet-tls: FTH_INTERNAL: ${(error as Error)?.message ?? String(error)} (a harness bug; FLEET_TLS_DEBUG=1 shows the stack)\n`);
    if (process.env.FLEET_TLS_DEBUG) io.err(`${(error as Error)?.stack ?? ''}\n`);
    return EXIT.failed;
  }
}
