/**
 * The bytes and secrets of each reported leg, kept beside the leg rather than in it: the JSON
 * report stays as it is, and a leg that is dropped takes its capture with it (WeakMap).
 */
import type { Leg } from '../report/leg.js';
import type { Timeline } from '../wire/timeline.js';

export interface LegWire {
  readonly timeline: Timeline;
  /** `host:port` of the client's end and of the server's, as the client saw them. */
  readonly local: string;
  readonly remote: string;
}

const wires = new WeakMap<Leg, LegWire>();

export function rememberWire(leg: Leg, wire: LegWire): Leg {
  wires.set(leg, wire);
  return leg;
}

/** A copy of `leg` with `changes`, keeping its capture (a spread copy would lose it). */
export function changedLeg(leg: Leg, changes: Partial<Leg>): Leg {
  const copy: Leg = { ...leg, ...changes };
  const wire = wires.get(leg);
  return wire ? rememberWire(copy, wire) : copy;
}

export function wireOf(leg: Leg): LegWire | undefined {
  return wires.get(leg);
}

/** Each connection once, in the order given: a kept-alive connection serves several legs. */
export function connectionsOf(legs: readonly Leg[]): { leg: Leg; wire: LegWire }[] {
  const seen = new Set<Timeline>();
  const out: { leg: Leg; wire: LegWire }[] = [];
  for (const leg of legs) {
    const wire = wires.get(leg);
    if (!wire || seen.has(wire.timeline)) continue;
    seen.add(wire.timeline);
    out.push({ leg, wire });
  }
  return out;
}

/** The NSS key log (SSLKEYLOGFILE format) of every connection, each line once. */
export function keylogText(legs: readonly Leg[]): string {
  const lines = new Set<string>();
  for (const { wire } of connectionsOf(legs)) for (const line of wire.timeline.keylog) lines.add(line);
  return lines.size ? `${[...lines].join('\n')}\n` : '';
}
