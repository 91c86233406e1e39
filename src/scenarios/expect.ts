import type { Leg } from '../report/leg.js';
import type { TlsVersion } from '../tls/settings.js';
import type { LegExpectationData } from './schema.js';

/** A leg's expectation with per-version values resolved, as the report shows it. */
export interface ResolvedExpectation {
  readonly ok: boolean;
  readonly rejectedBy?: 'client' | 'server' | null;
  readonly phase?: Leg['phase'];
  readonly alert?: string | null;
  readonly clientCertificatePresented?: boolean;
  readonly skipped?: boolean;
  readonly logs?: Partial<Record<'agent' | 'fleet-server' | 'elasticsearch' | 'proxy', string>>;
}

type PerVersion<T> = T | { readonly '1.2': T; readonly '1.3': T };

function pick<T>(value: PerVersion<T> | undefined, version: TlsVersion): T | undefined {
  if (value !== null && typeof value === 'object' && '1.2' in (value as object)) return (value as { '1.2': T; '1.3': T })[version];
  return value as T | undefined;
}

export function resolveExpectation(expectation: LegExpectationData, version: TlsVersion): ResolvedExpectation {
  const logs = Object.fromEntries(
    Object.entries(expectation.logs ?? {}).map(([component, line]) => [component, pick(line as PerVersion<string>, version)]),
  ) as ResolvedExpectation['logs'];
  const resolved: Record<string, unknown> = { ok: pick(expectation.ok, version) };
  for (const key of ['rejectedBy', 'phase', 'alert', 'clientCertificatePresented'] as const) {
    const value = pick(expectation[key] as PerVersion<unknown>, version);
    if (value !== undefined) resolved[key] = value;
  }
  if (expectation.skipped !== undefined) resolved.skipped = expectation.skipped;
  if (logs && Object.keys(logs).length > 0) resolved.logs = logs;
  return resolved as unknown as ResolvedExpectation;
}

/** Every way the leg differs from its expectation, in a sentence each (empty: it behaved). */
export function compareLeg(expected: ResolvedExpectation, actual: Leg): string[] {
  const problems: string[] = [];
  const check = (what: string, want: unknown, got: unknown) => {
    if (want !== undefined && want !== got) problems.push(`${what}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
  };
  check('ok', expected.ok, actual.ok);
  check('rejectedBy', expected.rejectedBy, actual.rejectedBy);
  check('phase', expected.phase, actual.phase);
  check('alert', expected.alert, actual.alert);
  check('clientCertificate.presented', expected.clientCertificatePresented, actual.clientCertificate?.presented ?? false);
  check('skipped', expected.skipped, actual.skipped !== undefined);
  for (const [component, template] of Object.entries(expected.logs ?? {})) {
    const line = actual.logs[component as keyof Leg['logs']];
    if (template !== undefined && (line === undefined || !matchesTemplate(template, line))) {
      problems.push(`logs.${component}: expected ${JSON.stringify(template)}, got ${JSON.stringify(line ?? null)}`);
    }
  }
  return problems;
}

/** `{address}` stands for an IP:port (IPv6 in brackets), `{any}` for any text; the rest is literal. */
export function matchesTemplate(template: string, line: string): boolean {
  const parts = template.split(/(\{address\}|\{any\})/);
  return parts.includes('{address}') ? templatePattern(template, parts).test(line) : matchesWildcards(parts.filter((_, i) => i % 2 === 0), line);
}

/**
 * Literal pieces with any text between them, matched without a regular expression: the first is a
 * prefix, the last a suffix, the others found leftmost in order (which finds a match whenever one
 * exists). The RegExp form backtracks over whole multi-line logs for every `{any}`.
 */
function matchesWildcards(pieces: readonly string[], line: string): boolean {
  const first = pieces[0]!;
  if (pieces.length === 1) return line === first;
  const last = pieces[pieces.length - 1]!;
  if (first.length + last.length > line.length || !line.startsWith(first) || !line.endsWith(last)) return false;
  let at = first.length;
  const end = line.length - last.length;
  for (const piece of pieces.slice(1, -1)) {
    const found = line.indexOf(piece, at);
    if (found < 0 || found + piece.length > end) return false;
    at = found + piece.length;
  }
  return true;
}

const patterns = new Map<string, RegExp>();

function templatePattern(template: string, parts: readonly string[]): RegExp {
  let pattern = patterns.get(template);
  if (!pattern) {
    const source = parts
      .map((part) => (part === '{address}' ? '\\[?[0-9A-Fa-f.:]+\\]?:\\d+' : part === '{any}' ? '[\\s\\S]*' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('');
    pattern = new RegExp(`^${source}$`);
    patterns.set(template, pattern);
  }
  return pattern;
}
