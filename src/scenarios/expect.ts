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
  const pattern = template
    .split(/(\{address\}|\{any\})/)
    .map((part) => (part === '{address}' ? '\\[?[0-9A-Fa-f.:]+\\]?:\\d+' : part === '{any}' ? '[\\s\\S]*' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${pattern}$`).test(line);
}
