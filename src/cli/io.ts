/** Where a command writes, so tests can run the CLI in-process. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Whether standard output is a terminal (colours, progress). */
  readonly isTty: boolean;
  readonly cwd: string;
  /** Set by a command that finished but did not behave as expected (1) or was refused (2). */
  exitCode?: number;
  /** Resolves when the user asks to stop (SIGINT/SIGTERM); `serve` waits on it. */
  untilStopped(): Promise<string>;
}

export function processIo(): Io {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    isTty: process.stdout.isTTY === true && !process.env.NO_COLOR,
    cwd: process.cwd(),
    untilStopped: () => new Promise((resolve) => {
      const stop = (signal: string) => resolve(signal);
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    }),
  };
}
