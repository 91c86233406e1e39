import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { goTool } from './tools.js';

const SOURCE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../interop/go/main.go');

/** One request for test/interop/go's client mode (field names are the program's JSON). */
export interface GoPeerRequest {
  readonly url: string;
  readonly connect?: string;
  readonly cas?: readonly string[];
  readonly cert?: string;
  readonly key?: string;
  readonly minVersion?: '1.2' | '1.3';
  readonly maxVersion?: '1.2' | '1.3';
  readonly alwaysSend?: boolean;
  /** Transport.Proxy (http, https or socks5 URL) and the CONNECT request's extra headers. */
  readonly proxy?: string;
  readonly proxyHeaders?: Readonly<Record<string, string>>;
  /** http.Client.Timeout (default 10 s) and Transport.ResponseHeaderTimeout, in milliseconds. */
  readonly timeoutMs?: number;
  readonly responseHeaderTimeoutMs?: number;
}

export interface GoPeerResult {
  readonly status?: number;
  readonly body?: string;
  /** err.Error() with net/http's `Get "URL": ` wrapper, and without it. */
  readonly error?: string;
  readonly unwrapped?: string;
  readonly localPort?: number;
  readonly version?: string;
}

export interface GoPeerServerSpec {
  readonly name: string;
  readonly cert: string;
  readonly key: string;
  readonly clientCAs?: readonly string[];
  readonly clientAuth?: 'none' | 'optional' | 'required';
  readonly minVersion?: '1.2' | '1.3';
  readonly maxVersion?: '1.2' | '1.3';
}

export interface GoPeerServers {
  port(name: string): number;
  /**
   * The ErrorLog line about the client that connected from `localPort`: waits until Go has
   * closed that connection (net/http logs before it closes), so undefined means Go logged
   * nothing. `timeoutMs` only bounds a connection Go never closes; 0 reads what is there now.
   */
  logLine(name: string, localPort: number, timeoutMs?: number): Promise<string | undefined>;
  lines(name: string): string[];
  stop(): Promise<void>;
}

/** Builds the Go peer with Debian's Go 1.19 into `dir` (the standard library only: no network). */
export async function buildGoPeer(dir: string): Promise<string> {
  const go = goTool();
  const version = await execa(go, ['version'], { env: { HOME: dir } });
  if (!/go1\.19/.test(version.stdout)) throw new Error(`expected Go 1.19 at ${go}, got ${version.stdout}`);
  // One build per source and compiler, shared by every test file and run: a cold build of
  // net/http took most of a file's setup time on a loaded machine (and timed it out).
  const source = await readFile(SOURCE);
  const key = createHash('sha256').update(source).update(version.stdout).digest('hex').slice(0, 16);
  const shared = path.join(CACHE, key, 'tlspeer');
  if (existsSync(shared)) return shared;
  const home = path.join(dir, 'go-home');
  await mkdir(home, { recursive: true });
  await mkdir(path.dirname(shared), { recursive: true });
  // Built beside its final name, then renamed: files building at once never see half a binary.
  const building = `${shared}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await execa(go, ['build', '-o', building, SOURCE], {
    cwd: dir,
    env: { HOME: home, GOCACHE: path.join(CACHE, 'go-build'), GOPATH: path.join(home, 'path'), GOFLAGS: '', GO111MODULE: 'auto', GOTOOLCHAIN: 'local' },
  });
  await rename(building, shared);
  return shared;
}

/** The repository's own cache (node_modules/.cache, as other tools keep theirs). */
const CACHE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../node_modules/.cache/fleet-tls-go-peer');

/**
 * net/http's transport sometimes words an alert that arrives before it has written the request
 * (TLS 1.3: the server refuses the client certificate after the client's handshake is done)
 * as `readLoopPeekFailLocked: <error>`: a race between its read loop and its writer. The alert,
 * and so the reason, is the same; the tests compare that.
 */
const PEEK_RACE = /^readLoopPeekFailLocked: /;

/** Runs every request concurrently in one Go process; results in input order. */
export async function goClient(binary: string, requests: readonly GoPeerRequest[]): Promise<GoPeerResult[]> {
  const run = await execa(binary, ['client'], { input: JSON.stringify(requests) });
  return run.stdout.split('\n').filter(Boolean).map((line) => {
    const result = JSON.parse(line) as GoPeerResult;
    return result.unwrapped ? { ...result, unwrapped: result.unwrapped.replace(PEEK_RACE, '') } : result;
  });
}

/** Starts every listener in one Go process; resolves once all listen. */
export async function goServers(binary: string, specs: readonly GoPeerServerSpec[]): Promise<GoPeerServers> {
  const child: ResultPromise = execa(binary, ['server'], { stdin: 'pipe', reject: false, buffer: false });
  child.stdin!.write(JSON.stringify(specs));
  const ports = new Map<string, number>();
  const logs = new Map<string, string[]>();
  const closed = new Map<string, Set<number>>();
  let pending = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  child.stdout!.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const event = JSON.parse(line) as { event: string; name: string; port?: number; line?: string };
      if (event.event === 'listening') ports.set(event.name, event.port!);
      else if (event.event === 'closed') closed.set(event.name, (closed.get(event.name) ?? new Set()).add(event.port!));
      else logs.set(event.name, [...(logs.get(event.name) ?? []), event.line!]);
    }
  });
  // Bounded only against a hang: the hook's own timeout is the real limit.
  const deadline = Date.now() + 60_000;
  while (ports.size < specs.length) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`Go peer servers did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  const lines = (name: string) => logs.get(name) ?? [];
  return {
    port: (name) => ports.get(name)!,
    lines,
    async logLine(name, localPort, timeoutMs = 15_000) {
      const marker = `from 127.0.0.1:${localPort}: `;
      const until = Date.now() + timeoutMs;
      for (;;) {
        const done = closed.get(name)?.has(localPort) === true;
        const hit = lines(name).find((l) => l.includes(marker));
        if (hit || done || Date.now() >= until) return hit;
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async stop() {
      child.stdin!.end();
      child.kill();
      await child;
    },
  };
}
