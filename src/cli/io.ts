/** Where a command writes, so tests can run the CLI in-process. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Whether standard output gets colours (a terminal, or FORCE_COLOR; never with NO_COLOR). */
  readonly isTty: boolean;
  /** Whether standard error is a terminal, where progress lines go (never a pipe or a file). */
  readonly progress?: boolean;
  readonly cwd: string;
  /** Set by a command that finished but did not behave as expected (1) or was refused (2). */
  exitCode?: number;
  /** Resolves when the user asks to stop (SIGINT/SIGTERM); `serve` waits on it. */
  untilStopped(): Promise<string>;
}

/**
 * Colour on a terminal. FORCE_COLOR (any value but `0` or `false`) forces it, for CI logs that
 * render ANSI, and wins over NO_COLOR as in Node itself; NO_COLOR (non-empty, no-color.org)
 * turns it off; FORCE_COLOR=0 turns it off too.
 */
export function colorWanted(env: NodeJS.ProcessEnv, isTerminal: boolean): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force.toLowerCase() !== 'false';
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return isTerminal && env.TERM !== 'dumb';
}

export function processIo(): Io {
  quietPipes();
  return {
    out: (text) => { process.stdout.write(text); },
    err: (text) => { process.stderr.write(text); },
    isTty: colorWanted(process.env, process.stdout.isTTY === true),
    progress: process.stderr.isTTY === true && process.env.TERM !== 'dumb',
    cwd: process.cwd(),
    untilStopped: () => new Promise((resolve) => {
      const stop = (signal: string) => resolve(signal);
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    }),
  };
}

/**
 * `fleet-tls run | head`: once the reader is gone there is nobody to tell anything, so the
 * command ends quietly with 0, as Unix filters do, instead of dying on EPIPE with a stack. The
 * exit hooks still run, so temporary keys are removed.
 */
function quietPipes(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    process.stderr.write(`fleet-tls: FTH_FILE_UNWRITABLE: standard output: ${error.message}\n`);
    process.exit(2);
  });
  // Nowhere left to report a failing standard error: the exit status still tells.
  process.stderr.on('error', () => {});
}
