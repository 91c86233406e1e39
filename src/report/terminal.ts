import { createColors } from 'picocolors';
import type { ScenarioResult } from '../scenarios/run.js';
import { legKey, type Leg } from './leg.js';

type Colors = ReturnType<typeof createColors>;

export interface RenderOptions {
  /** Colour only for a terminal; a file or a pipe gets plain text. */
  readonly color: boolean;
  /** Show the logs of legs that behaved as expected too. */
  readonly verbose?: boolean;
  /** Leave out the scenarios that behaved as expected (the summary still counts them). */
  readonly failuresOnly?: boolean;
}

const ARROW = '→';
const DISPLAY: Readonly<Record<string, string>> = { agent: 'the agent', 'fleet-server': 'Fleet Server', elasticsearch: 'Elasticsearch', proxy: 'the proxy' };

/** One block per scenario and TLS version; a line per leg, with the components' words under it. */
export function renderScenarios(results: readonly ScenarioResult[], options: RenderOptions): string {
  const c = createColors(options.color);
  const width = Math.max(...results.map((r) => r.id.length), 10);
  const lines: string[] = [];
  for (const result of results) {
    if (options.failuresOnly && result.pass) continue;
    const mark = result.pass ? c.green('✓') : c.red('✗');
    lines.push(`${mark} ${c.bold(result.id.padEnd(width))}  TLS ${result.tls}  ${c.dim(result.title)}`);
    for (const leg of result.legs) {
      const key = legKey(leg) as keyof ScenarioResult['expected'];
      const detailed = options.verbose === true || !result.pass || !leg.ok;
      lines.push(...legLines(leg, c, result.pass ? undefined : result.expected[key]?.ok, detailed));
    }
    for (const mismatch of result.mismatches) lines.push(`    ${c.red('mismatch')} ${mismatch}`);
  }
  if (lines.length > 0) lines.push('');
  return `${lines.join('\n')}\n${renderSummary(results, options)}`;
}

/** The end of a run: counts, and the runs that failed by id and TLS version. */
export function renderSummary(results: readonly ScenarioResult[], options: RenderOptions): string {
  const c = createColors(options.color);
  const passed = results.filter((r) => r.pass).length;
  const scenarios = new Set(results.map((r) => r.id)).size;
  const versions = [...new Set(results.map((r) => r.tls))].join(' and ');
  const lines = [
    `${scenarios} scenario${scenarios === 1 ? '' : 's'} under TLS ${versions}: ${passed === results.length ? c.green('every one behaved as its file expects') : c.red(`${results.length - passed} did not`)}`,
    `${passed} passed, ${results.length - passed} failed`,
  ];
  const failed = results.filter((r) => !r.pass).map((r) => `${r.id} (TLS ${r.tls})`);
  if (failed.length > 0) lines.push(`failed: ${failed.join(', ')}`);
  return `${lines.join('\n')}\n`;
}

/** The legs of one flow (install), in the same layout. */
export function renderLegs(legs: readonly Leg[], options: RenderOptions): string {
  const c = createColors(options.color);
  return `${legs.flatMap((leg) => legLines(leg, c, undefined, true)).join('\n')}\n`;
}

/** A leg as one row; `detailed` adds the certificates and the components' lines under it. */
function legLines(leg: Leg, c: Colors, expectedOk: boolean | undefined, detailed: boolean): string[] {
  const name = `${leg.from} ${ARROW} ${leg.to}${leg.stage === 'policy' ? ' (policy)' : ''} `.padEnd(30);
  const state = leg.ok ? c.green('ok  ') : leg.skipped ? c.yellow('skip') : c.red('FAIL');
  const expectation = expectedOk === undefined ? '' : c.dim(` (expected ${expectedOk ? 'ok' : 'failure'})`);
  const lines = [`    ${name}${state} ${summary(leg)}${expectation}${detailed ? '' : c.dim(`  ${certificates(leg)}`)}`];
  if (!detailed) return lines;
  const detail = (label: string, text: string) => lines.push(`        ${c.dim(label.padEnd(14))}${text}`);
  if (leg.serverCertificate) detail('server cert', `${leg.serverCertificate.subject}  issued by ${leg.serverCertificate.issuer}`);
  if (leg.clientCertificate) {
    const cc = leg.clientCertificate;
    detail('client cert', cc.presented ? `presented ${cc.subject ?? ''}` : `not presented${cc.subject ? ` (${cc.subject})` : ''}: ${cc.why ?? ''}`);
  }
  if (leg.events) detail('events', `shipped ${leg.events.shipped} to ${leg.events.index}, Elasticsearch stored ${leg.events.stored}`);
  for (const [component, line] of Object.entries(leg.logs)) {
    const [first = '', ...rest] = line.split('\n');
    detail(component, first);
    for (const more of rest) detail('', c.dim(more));
  }
  return lines;
}

/** Who presented what, in a few words: `server fleet-server (fleet-ca), client elastic-agent (agent-ca)`. */
function certificates(leg: Leg): string {
  const cn = (name: string) => /CN=([^,]+)/.exec(name)?.[1] ?? name;
  const server = leg.serverCertificate ? `server ${cn(leg.serverCertificate.subject)} (${cn(leg.serverCertificate.issuer)})` : 'no server certificate';
  const client = leg.clientCertificate?.presented ? `client ${cn(leg.clientCertificate.subject ?? '?')}` : 'no client certificate';
  return `${server}, ${client}`;
}

function summary(leg: Leg): string {
  if (leg.skipped) return `not attempted: ${leg.skipped}`;
  const tls = leg.tls ? `TLS ${leg.tls.version} ${leg.tls.cipher}` : 'no TLS session';
  if (leg.ok) return tls;
  // A client that gave up at the HTTP layer got no status: it stopped waiting for one.
  if (leg.phase === 'http' && leg.rejectedBy === 'client' && !leg.http) return `${DISPLAY[leg.from]} gave up waiting for an answer  ${tls}`;
  const who = leg.rejectedBy ? `rejected by ${DISPLAY[leg.rejectedBy === 'client' ? leg.from : leg.to]}` : 'failed';
  const when = leg.phase === 'after-handshake'
    ? 'after the client finished its handshake'
    : leg.phase === 'handshake' ? 'during the handshake' : leg.phase === 'http' ? `at the HTTP layer (${leg.http?.status ?? '?'})` : leg.phase === 'connect' ? 'on connect' : '';
  return `${who} ${when}${leg.alert ? `, alert ${leg.alert}` : ''}  ${tls}`;
}
