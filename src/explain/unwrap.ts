/**
 * The layers around an error as people paste it, peeled in two steps:
 *
 * - presentation (`presented`): the log format around the message: an ECS JSON line, a
 *   timestamp, a level, a logger, a docker-compose prefix, the CLI's `Error: `. Two lines that
 *   differ only there are the same line.
 * - relay (`canonical`): the wrapper a component puts around another's error: the agent's retry
 *   line and its `fail to enroll: `, the installing agent relaying Fleet Server's state, Beats
 *   dialing Elasticsearch for the output. Each becomes a marker naming the leg, so the same error
 *   relayed two ways still compares equal while the leg stays part of the comparison.
 *
 * Both steps apply to normalised text (see normalise.ts), on either side of a comparison.
 */
import { normalise } from './normalise.js';

/** More than this many pasted lines is a log file, not a line: the first ones are read. */
export const MAX_LINES = 50;
/** Longer lines are cut: enough for any message, and bounded work. */
export const MAX_LINE_CHARS = 8_000;

/**
 * The messages inside what the user pasted, raw (not yet normalised): each line, the `message`
 * and `error.message` of an ECS JSON line, a logfmt `msg`, split again where a message holds a
 * line break, real or pasted as the two characters `\n`.
 */
export function pastedMessages(text: string): string[] {
  const out: string[] = [];
  for (const physical of text.split(/\r?\n/).filter((l) => l.trim() !== '').slice(0, MAX_LINES)) {
    const line = unquote(physical.trim().slice(0, MAX_LINE_CHARS));
    for (const message of [...structuredMessages(line), line]) {
      for (const piece of message.split(/\r?\n|\\(?:r\\)?n/)) if (piece.trim() !== '' && !out.includes(piece.trim())) out.push(piece.trim());
    }
  }
  return out;
}

/** A line pasted with the quotes or backticks it had in a chat or an issue. */
function unquote(line: string): string {
  const match = /^(["'`])([\s\S]*)\1$/.exec(line);
  return match && !(match[1] === '"' && line.startsWith('{')) ? match[2]! : line;
}

/** `message` and `error.message` of an ECS line (even one cut short with `…`), or logfmt's `msg`. */
function structuredMessages(line: string): string[] {
  if (line.startsWith('{')) {
    try {
      const record = JSON.parse(line) as Record<string, unknown>;
      const error = record.error as { message?: unknown } | undefined;
      const fields = [record.message, record['error.message'], error?.message].filter((v): v is string => typeof v === 'string');
      return withJoined(fields);
    } catch {
      // Cut short or edited by hand: read the fields one by one.
      return withJoined(['message', 'error.message'].flatMap((key) => quotedField(line, key)));
    }
  }
  return /(?:^|\s)msg="/.test(line) ? quotedField(line, 'msg', '=') : [];
}

/** zerolog's `.Err(err).Msg("Fleet Server failed")` reads `Fleet Server failed: <err>` as text. */
function withJoined(fields: string[]): string[] {
  const distinct = [...new Set(fields)];
  return distinct.length === 2 ? [`${distinct[0]}: ${distinct[1]}`, ...distinct] : distinct;
}

function quotedField(line: string, key: string, separator = ':'): string[] {
  const pattern = new RegExp(`(?:^|[{,\\s])"?${key.replace('.', '\\.')}"?\\s*${separator}\\s*"((?:[^"\\\\]|\\\\.)*)"`, 'g');
  return [...line.matchAll(pattern)].map((m) => {
    try {
      return JSON.parse(`"${m[1]}"`) as string;
    } catch {
      return m[1]!;
    }
  });
}

const LEVEL = '(?:TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL|CRITICAL|DPANIC|PANIC|trace|debug|info|warn|warning|error|fatal)';

/** Log-format prefixes, peeled from the front as long as one applies. */
const PRESENTATION: readonly RegExp[] = [
  /^[\w.-]+\s*\|\s/, // docker compose: `fleet-server-1  | `
  /^\[?<time>\]?\s*/,
  new RegExp(`^\\[\\s*${LEVEL}\\s*\\]\\s*`, 'i'),
  new RegExp(`^${LEVEL}:?\\s+`),
  /^\[[^\]\s]{1,80}\]\s*/, // a logger (`[esclientleg]`, `[o.e.h.AbstractHttpServerTransport]`) or a node name
  /^[\w./-]+\.go:\d+\s+/, // Beats' caller: `transport/logging.go:38`
  /^Error:\s+/, // the agent CLI's
  // nginx's error log: `2024/01/01 10:00:00 [info] 123#123: *5 message`, after its time and level.
  /^(?:\d+|<num>)#(?:\d+|<num>):\s+/,
  /^\*(?:\d+|<num>)\s+/,
  // tinyproxy's `CONNECT   Dec 06 19:49:50.243 [15724]: ` and dante's syslog-style
  // `Dec  6 19:50:15 (1796586615.790249) danted[16291]: info: `.
  /^(?:CONNECT|NOTICE)\s+(?=[A-Z][a-z]{2} \d)/,
  /^[A-Z][a-z]{2} \d{1,2} <time>\s*/,
  /^\((?:\d+|<num>)(?:\.\d+)?\)\s*/,
  /^(?:[\w.-]+)?\[(?:\d+|<num>)\]:\s*/,
];

/** The message without its log format (input: normalised text). */
export function presented(normalised: string): string {
  let text = normalised.replace(/(?:\\[nrt])+$/, '').trim();
  for (let changed = true, rounds = 0; changed && rounds < 20; rounds++) {
    changed = false;
    for (const prefix of PRESENTATION) {
      const next = text.replace(prefix, '');
      if (next !== text) {
        text = next.trim();
        changed = true;
      }
    }
  }
  return text;
}

export const LEG_MARKERS = ['[enroll]', '[fleet-server]', '[output]'] as const;

/** Relay wrappers, each replaced by a marker naming the leg it belongs to. */
const RELAYS: ReadonlyArray<readonly [RegExp, string]> = [
  // The agent's retry loop (elastic-semantics.md 3.1) and the error it finally prints.
  [/^Error detected: (.*), will retry in a moment\.?$/, '[enroll] $1'],
  [/^Remote server failed to handle the request\((.*)\), will retry in a moment\.?$/, '[enroll] $1'],
  [/^fail to enroll: /, '[enroll] '],
  // Fleet Server's own failure, and the installing agent relaying its state.
  [/^Fleet Server - Error - /, '[fleet-server] '],
  [/^Fleet Server failed: /, '[fleet-server] '],
  [/^state changed to FAILED: Error - /, '[fleet-server] '],
  // Beats shipping to the policy's output.
  [/^Error dialing /, '[output] '],
  [/^Failed to connect to backoff\(elasticsearch\(<url>\)\): /, '[output] '],
  [/^Connection marked as failed because the onConnect callback failed: /, '[output] '],
  // Go's *url.Error, which older agents printed and Beats still print, and the prefix Go 1.20 and
  // later put on its own verification errors: the same x509 error either way.
  [/(^|\] |: )(?:Get|Post|Head|Put|Delete) "<url>": /, '$1'],
  [/(^|\] |: )tls: failed to verify certificate: (?=x509: )/, '$1'],
];

/** The message with its relay wrappers turned into leg markers (input: presented text). */
export function canonical(text: string): string {
  let out = text;
  for (const [pattern, replacement] of RELAYS) out = out.replace(pattern, replacement);
  return out;
}

const MARKER = /^\[(?:enroll|fleet-server|output)\] /;

/** The error alone, without its leg marker: what containment and similarity compare. */
export function bare(canonicalText: string): string {
  return canonicalText.replace(MARKER, '');
}

/**
 * The error a wrapper-free paste is measured against: the agent's own words inside its
 * enrollment errors go too, so a bare `x509: ...` covers its enrollment error as fully as
 * it covers Beats' `Error dialing x509: ...`.
 */
export function core(canonicalText: string): string {
  return bare(canonicalText.replace(/^\[enroll\] fail to execute request to fleet-server: /, '[enroll] '));
}

/** The leg marker a relay wrapper left (`[enroll] `), or null. */
export function markerOf(canonicalText: string): string | null {
  return MARKER.exec(canonicalText)?.[0] ?? null;
}

/** The forms of one pasted message that the matcher compares. */
export interface MessageForms {
  readonly raw: string;
  readonly presented: string;
  readonly canonical: string;
  readonly bare: string;
  readonly marker: string | null;
}

export function formsOf(raw: string, normaliser: (text: string) => string = normalise): MessageForms {
  const shown = presented(normaliser(raw));
  const canon = canonical(shown);
  return { raw, presented: shown, canonical: canon, bare: bare(canon), marker: markerOf(canon) };
}
