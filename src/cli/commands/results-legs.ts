import type { Leg } from '../../report/leg.js';

/**
 * The legs of many agents' results, folded by hop: how many agents crossed each one and what
 * crossed it (a proxy's CONNECT and its answer, the TLS version, whose certificate). So the
 * combined report of agents behind a proxy shows the proxy as a hop with its own legs
 * (agent → proxy, then agent → fleet-server through it), as the single-run report does.
 */
export interface LegTally {
  readonly hop: string;
  readonly ok: number;
  readonly total: number;
  /** What crossed it, most agents' first: `CONNECT fleet-server:8220 answered 200`, `TLS 1.3, CN=fleet-server`. */
  readonly seen: readonly string[];
}

export function tallyLegs(results: ReadonlyArray<{ readonly legs?: readonly Leg[] }>): LegTally[] {
  const hops = new Map<string, { ok: number; total: number; seen: Map<string, number> }>();
  for (const result of results) {
    // A result file is the user's: legs that are not a list of objects are passed over, not trusted.
    for (const leg of Array.isArray(result.legs) ? result.legs : []) {
      if (typeof leg !== 'object' || leg === null || typeof leg.from !== 'string' || typeof leg.to !== 'string' || leg.skipped) continue;
      const hop = `${leg.from} → ${leg.to}${leg.via ? ` via ${leg.via}` : ''}`;
      const tally = hops.get(hop) ?? { ok: 0, total: 0, seen: new Map<string, number>() };
      tally.total += 1;
      if (leg.ok) tally.ok += 1;
      const what = describe(leg);
      if (what) tally.seen.set(what, (tally.seen.get(what) ?? 0) + 1);
      hops.set(hop, tally);
    }
  }
  return [...hops].map(([hop, t]) => ({
    hop, ok: t.ok, total: t.total,
    seen: [...t.seen].sort((a, b) => b[1] - a[1]).map(([what]) => what),
  }));
}

function describe(leg: Leg): string {
  if (leg.to === 'proxy' && leg.http) return `${leg.http.method} ${leg.http.path} answered ${leg.http.status}`;
  const parts: string[] = [];
  if (leg.tls) parts.push(`TLS ${leg.tls.version}`);
  if (leg.serverCertificate) parts.push(leg.serverCertificate.subject);
  if (leg.clientCertificate?.presented && leg.clientCertificate.subject) parts.push(`client ${leg.clientCertificate.subject}`);
  if (!leg.ok && leg.phase) parts.push(`failed at ${leg.phase}${leg.rejectedBy ? ` (rejected by the ${leg.rejectedBy})` : ''}`);
  return parts.join(', ');
}
