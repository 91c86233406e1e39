import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { javaTool } from './tools.js';

const SOURCE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../interop/java/TlsPeer.java');

export interface JavaServerSpec {
  readonly name: string;
  readonly cert: string;
  readonly key: string;
  /** CAs trusted for client certificates (a PEM file). */
  readonly trust?: string;
  /** Elasticsearch's client_authentication: none, optional (want), required (need). */
  readonly clientAuth?: 'none' | 'optional' | 'required';
  readonly protocols?: readonly ('TLSv1.3' | 'TLSv1.2')[];
}

/** What the JDK server reported about one connection. */
export type JavaEvent =
  | { event: 'ok'; name: string; remotePort: number; protocol: string; peer: string }
  | { event: 'failed'; name: string; remotePort: number; chain: string[]; wrote: string }
  | { event: 'io'; name: string; remotePort: number; error: string };

export interface JavaServers {
  port(name: string): number;
  /**
   * The report about the client that connected from `localPort`: waits until the JDK has closed
   * that connection (it reports before it closes), so undefined means it reported nothing.
   * `timeoutMs` only bounds a connection the JDK never closes.
   */
  event(name: string, localPort: number, timeoutMs?: number): Promise<JavaEvent | undefined>;
  stop(): Promise<void>;
  readonly version: string;
}

const AUTH = { none: 'none', optional: 'want', required: 'need' } as const;

/** Starts test/interop/java's JSSE servers in one JVM (single-file source launch). */
export async function javaServers(specs: readonly JavaServerSpec[]): Promise<JavaServers> {
  const java = javaTool();
  const version = (await execa(java, ['-version'])).stderr.split('\n')[0] ?? '';
  const child: ResultPromise = execa(java, [SOURCE], { stdin: 'pipe', reject: false, buffer: false });
  const lines = specs.map((s) => [s.name, s.cert, s.key, s.trust ?? '-', AUTH[s.clientAuth ?? 'none'], (s.protocols ?? ['TLSv1.3', 'TLSv1.2']).join(',')].join('|'));
  child.stdin!.write(`${lines.join('\n')}\n\n`);
  const ports = new Map<string, number>();
  const events: JavaEvent[] = [];
  const closed = new Set<string>();
  let pending = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  child.stdout!.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    for (const line of parts) {
      const event = JSON.parse(line) as JavaEvent | { event: 'listening'; name: string; port: number } | { event: 'closed'; name: string; remotePort: number };
      if (event.event === 'listening') ports.set(event.name, event.port);
      else if (event.event === 'closed') closed.add(`${event.name}:${event.remotePort}`);
      else events.push(event);
    }
  });
  // The JVM compiles TlsPeer.java at launch: bounded only against a hang (the hook's timeout is the limit).
  const deadline = Date.now() + 90_000;
  while (ports.size < specs.length) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`JDK servers did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    version,
    port: (name) => ports.get(name)!,
    async event(name, localPort, timeoutMs = 15_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const done = closed.has(`${name}:${localPort}`);
        const hit = events.find((e) => e.name === name && e.remotePort === localPort);
        if (hit || done || Date.now() >= until) return hit;
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async stop() {
      child.stdin!.end();
      await child;
    },
  };
}

/** The JSSE wording family of a `java -version` first line; a JDK nobody recorded fails loudly. */
export function jsseWordingOf(version: string): 'alert-named' | 'jdk17' {
  const match = /version "(\d+)(?:\.(\d+)\.(\d+))?/.exec(version);
  const [major, update] = [Number(match?.[1]), Number(match?.[3] ?? 0)];
  if (major >= 22 || (major === 17 && update >= 21)) return 'alert-named';
  if (major === 17 && update <= 15) return 'jdk17';
  throw new Error(`JSSE wording of ${version} is not recorded: add it to jsseWordingOf`);
}
