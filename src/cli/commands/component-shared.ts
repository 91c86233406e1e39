import { readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ComponentLog, LogEntry } from '../../components/log.js';
import { HarnessError, systemErrorCode } from '../../errors.js';
import type { Io } from '../io.js';

/**
 * What the commands that start one component each (`elasticsearch`, `fleet-server`, `agent`, `proxy`)
 * share: where they listen, how they print their logs, and the state file the image's
 * HEALTHCHECK (`fleet-tls healthcheck`) reads to know which component to ask.
 */

/** Our own variables (not Elastic's): the image sets them; on a host they are usually unset. */
export const HARNESS_ENV = {
  /** The address servers listen on when no flag or Elastic variable says (the image: 0.0.0.0). */
  bindHost: 'HARNESS_BIND_HOST',
  /** Where a component records what it is and where it listens, for `healthcheck`. */
  stateFile: 'HARNESS_STATE_FILE',
  /** Where the agent writes its JSON result (the image: /results, a volume in compose). */
  resultDir: 'HARNESS_RESULT_DIR',
} as const;

export function defaultBindHost(env: NodeJS.ProcessEnv): string {
  return env[HARNESS_ENV.bindHost] || '127.0.0.1';
}

export interface ComponentState {
  readonly component: 'elasticsearch' | 'fleet-server' | 'agent' | 'proxy';
  readonly pid: number;
  /** Where to ask, from inside the same container (loopback, whatever address it binds). */
  readonly url?: string;
  /** The agent: whether it has finished (its result is written). */
  readonly done?: boolean;
  readonly ok?: boolean;
  /** Fleet Server: its state, and whether it asks agents for a certificate. */
  readonly state?: string;
  readonly clientAuthentication?: string;
}

/**
 * --state-file, else $HARNESS_STATE_FILE, against the command's working directory as every other
 * path it takes: `healthcheck --state-file REL` reads the file the component wrote with the same REL.
 */
export function stateFileOf(io: Io, given: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const file = given ?? env[HARNESS_ENV.stateFile];
  return file ? path.resolve(io.cwd, file) : undefined;
}

/** Written atomically (a temporary file renamed over it), so `healthcheck` never reads half of it. */
export async function writeState(file: string | undefined, state: ComponentState): Promise<void> {
  if (!file) return;
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    // Created, never opened: a link planted at the temporary name is not followed.
    await writeFile(temporary, `${JSON.stringify(state)}\n`, { mode: 0o644, flag: 'wx' });
    await rename(temporary, file);
  } catch (error) {
    throw new HarnessError('FTH_FILE_UNWRITABLE', `${file}: cannot write the component state (${systemErrorCode(error) ?? (error as Error).message})`);
  }
}

/**
 * The first record of a component that listens: when it cannot be written, what listens is
 * closed before the error goes up, or the process would outlive its one-line error.
 */
export async function writeStateOrClose(file: string | undefined, state: ComponentState, close: () => Promise<unknown>): Promise<void> {
  try {
    await writeState(file, state);
  } catch (error) {
    await close();
    throw error;
  }
}

/** Where a server listening on `host:port` is reached from its own container or host. */
export function localUrl(scheme: 'http' | 'https', host: string, port: number): string {
  const local = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `${scheme}://${local.includes(':') ? `[${local}]` : local}:${port}`;
}

/** Prints every entry of the logs, now and as they come: one line each, prefixed with the component. */
export function streamLogs(io: Io, logs: readonly ComponentLog[], json = false, shown: LogShape = PLAIN): void {
  const print = (entry: LogEntry) => {
    const { level, message } = shown.line(entry);
    io.out(json
      ? `${JSON.stringify({ component: entry.component, level, message })}\n`
      : `[${entry.component}] ${level.padEnd(shown.levelWidth)} ${message}\n`);
  };
  for (const log of logs) {
    log.entries.forEach(print);
    log.on('entry', print);
  }
}

/** How a component's log entries are shown: the level and message of each, and the level column's width. */
export interface LogShape {
  readonly line: (entry: LogEntry) => { readonly level: string; readonly message: string };
  readonly levelWidth: number;
}

const PLAIN: LogShape = { line: (entry) => entry, levelWidth: 5 };

/** A comma-separated list of paths, as the agent's --certificate-authorities takes them. */
export function pathList(value: string | undefined, io: Io): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter(Boolean).map((p) => path.resolve(io.cwd, p));
}

/** A token given directly or in a file (`..._PATH`): the file's text without its trailing newline. */
export function tokenFrom(value: string | undefined, file: string | undefined, flag: string): string | undefined {
  if (value && file) throw new HarnessError('FTH_USAGE', `${flag} and ${flag}-path both given; give one of them`);
  if (!file) return value;
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    throw new HarnessError('FTH_FILE_UNREADABLE', `${flag}-path ${file}: ${systemErrorCode(error) ?? (error as Error).message}`);
  }
}

/** An enrollment token's API key: base64 of `id:secret`, as Kibana makes them. */
export function apiKeyOf(token: string, flag: string): { id: string; secret: string } {
  const decoded = /^[A-Za-z0-9+/]+=*$/.test(token) ? Buffer.from(token, 'base64').toString('utf8') : '';
  const match = /^([^:\s]+):([^:\s]+)$/.exec(decoded);
  if (!match) throw new HarnessError('FTH_USAGE', `${flag}: not an enrollment token (base64 of <api key id>:<api key>)`);
  return { id: match[1]!, secret: match[2]! };
}

export function parseUrlFlag(value: string, flag: string, schemes: readonly string[] = ['http:', 'https:']): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new HarnessError('FTH_USAGE', `${flag}: '${value}' is not a URL`);
  }
  if (!schemes.includes(url.protocol)) throw new HarnessError('FTH_USAGE', `${flag}: '${value}' is not an ${schemes.map((s) => s.slice(0, -1)).join(' or ')} URL`);
  return url;
}

/** `10`, `10s`, `500ms`, `2m`: a positive duration in milliseconds. */
export function parseDurationFlag(value: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value);
  const ms = match ? Number(match[1]) * (match[2] === 'ms' ? 1 : match[2] === 'm' ? 60_000 : 1_000) : NaN;
  if (!(ms > 0)) throw new HarnessError('FTH_USAGE', `${flag}: '${value}' is not a positive duration (seconds, or with ms, s or m)`);
  return ms;
}
