import { execa, type ResultPromise } from 'execa';

export interface OpensslServer {
  readonly port: number;
  /** Everything s_server printed so far (stdout and stderr). */
  output(): string;
  stop(): Promise<void>;
}

/**
 * `openssl s_server -www` on a free port: answers every request with a status page that says
 * whether a client certificate came. Resolves once it accepts connections.
 */
export async function opensslServer(args: readonly string[]): Promise<OpensslServer> {
  // Port 0: the kernel picks and s_server prints it (`ACCEPT [::]:PORT`), so no other test can
  // take the port between choosing it and listening on it.
  // stdin stays open: s_server quits when it reads end-of-file there.
  const child: ResultPromise = execa('openssl', ['s_server', '-accept', '0', '-www', ...args], {
    stdin: 'pipe', all: true, reject: false, buffer: false,
  });
  let text = '';
  child.all!.on('data', (chunk: Buffer) => { text += chunk.toString(); });
  const deadline = Date.now() + 10_000;
  let accept: RegExpExecArray | null;
  while (!(accept = /ACCEPT .*:(\d+)\s/.exec(text))) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`openssl s_server did not start: ${text}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const port = Number(accept[1]);
  return {
    port,
    output: () => text,
    stop: async () => {
      child.kill();
      await child;
    },
  };
}

/** s_server may print its error line a moment after the client gave up: wait for it, bounded. */
export async function waitForOutput(server: OpensslServer, pattern: RegExp, timeoutMs = 3_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(server.output()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return server.output();
}

/** An `openssl s_server` for the length of `body`, stopped however body ends. */
export async function withOpensslServer<T>(args: readonly string[], body: (server: OpensslServer) => Promise<T>): Promise<T> {
  const server = await opensslServer(args);
  try {
    return await body(server);
  } finally {
    await server.stop();
  }
}
