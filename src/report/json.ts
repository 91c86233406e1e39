import type { ScenarioResult } from '../scenarios/run.js';
import type { Leg } from './leg.js';

/** `{ ok, scenarios: [...] }`, PRODUCT.md's report document; field names are stable. */
export function scenariosDocument(results: readonly ScenarioResult[]): object {
  return {
    ok: results.every((r) => r.pass),
    scenarios: results.map((r) => ({
      id: r.id,
      title: r.title,
      tls: r.tls,
      pass: r.pass,
      expected: r.expected,
      legs: r.legs,
      ...(r.mismatches.length ? { mismatches: r.mismatches } : {}),
      durationMs: r.durationMs,
    })),
  };
}

/** `{ ok, legs }`, what `install --json` and `probe --json` print. */
export function legsDocument(ok: boolean, legs: readonly Leg[], extra: Record<string, unknown> = {}): object {
  return { ok, legs, ...extra };
}
