/**
 * What the page draws, computed here (typed, tested) so the script in the page only lays it
 * out: one view per leg, with its verdict in a sentence and its ladder rows.
 */
import type { ScenarioResult } from '../../scenarios/run.js';
import { legKey, type CertificateSummary, type ClientCertificateSummary, type Leg } from '../leg.js';
import { ladderRows, phaseText, type LadderRow } from './ladder.js';

export interface LegView {
  readonly key: string;
  readonly from: string;
  readonly to: string;
  readonly url: string;
  readonly status: 'ok' | 'fail' | 'skip';
  /** One sentence: what happened on this leg. */
  readonly verdict: string;
  readonly tls: string | null;
  readonly cipher: string | null;
  readonly alert: string | null;
  readonly rejectedBy: string | null;
  readonly serverCertificate: CertificateSummary | null;
  readonly clientCertificate: ClientCertificateSummary | null;
  readonly verifiedWith: Leg['verifiedWith'] | null;
  readonly logs: Leg['logs'];
  readonly rows: readonly LadderRow[];
}

export interface ScenarioView {
  readonly id: string;
  readonly title: string;
  readonly tls: string;
  readonly pass: boolean;
  readonly mismatches: readonly string[];
  readonly command: readonly string[];
  /** `one-way` or `mutual` for the two flows of Elastic's page, otherwise null. */
  readonly flow: string | null;
  readonly legs: readonly LegView[];
}

export interface ReportView {
  readonly kind: 'catalog' | 'flow';
  readonly title: string;
  readonly subtitle: string;
  readonly generated: string;
  readonly ok: boolean;
  readonly scenarios: readonly ScenarioView[];
}

export function legView(leg: Leg): LegView {
  const status = leg.skipped ? 'skip' : leg.ok ? 'ok' : 'fail';
  return {
    key: legKey(leg),
    from: leg.from,
    to: leg.to,
    url: leg.url,
    status,
    verdict: verdict(leg),
    tls: leg.tls?.version ?? null,
    cipher: leg.tls?.cipher ?? null,
    alert: leg.alert,
    rejectedBy: leg.rejectedBy === 'server' ? leg.to : leg.rejectedBy === 'client' ? leg.from : null,
    serverCertificate: leg.serverCertificate,
    clientCertificate: leg.clientCertificate,
    verifiedWith: leg.verifiedWith ?? null,
    logs: leg.logs,
    rows: ladderRows(leg),
  };
}

function verdict(leg: Leg): string {
  if (leg.skipped) return `not attempted: ${leg.skipped}`;
  const tls = leg.tls ? `TLS ${leg.tls.version} ${leg.tls.cipher}` : '';
  if (leg.ok) return `works${tls ? `: ${tls}` : ''}${leg.http ? `, HTTP ${leg.http.status}` : ''}`;
  const who = leg.rejectedBy === 'server' ? leg.to : leg.rejectedBy === 'client' ? leg.from : null;
  const when = phaseText(leg.phase, leg.tls?.version ?? null);
  const parts = [who ? `rejected by ${who}` : 'fails', when];
  if (leg.alert) parts.push(`with alert ${leg.alert}`);
  if (leg.phase === 'http' && leg.http) parts.push(`(HTTP ${leg.http.status})`);
  return parts.filter(Boolean).join(' ');
}

const FLOWS: Readonly<Record<string, string>> = { 'flow.one-way': 'one-way', 'flow.mutual': 'mutual' };

export function catalogView(results: readonly ScenarioResult[], generated = new Date()): ReportView {
  const failing = results.filter((r) => !r.pass).length;
  return {
    kind: 'catalog',
    title: 'fleet-tls-harness: scenario catalog',
    subtitle: `${results.length} runs, ${failing === 0 ? 'every one as expected' : `${failing} not as expected`}`,
    generated: generated.toISOString(),
    ok: failing === 0,
    scenarios: results.map((r) => ({
      id: r.id, title: r.title, tls: r.tls, pass: r.pass, mismatches: r.mismatches, command: r.command,
      flow: FLOWS[r.id] ?? null, legs: r.legs.map(legView),
    })),
  };
}

/** `install` and `doctor`: one flow, its legs. */
export function flowView(title: string, ok: boolean, legs: readonly Leg[], command: readonly string[], generated = new Date()): ReportView {
  const versions = [...new Set(legs.map((l) => l.tls?.version).filter(Boolean))];
  return {
    kind: 'flow',
    title,
    subtitle: ok ? 'the flow works' : 'the flow fails',
    generated: generated.toISOString(),
    ok,
    scenarios: [{ id: title, title: ok ? 'the flow works' : 'the flow fails', tls: versions.join(', '), pass: ok, mismatches: [], command, flow: null, legs: legs.map(legView) }],
  };
}
