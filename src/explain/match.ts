/**
 * Which scenarios write a pasted line, best first.
 *
 * Scores, for each pasted message against each template line:
 *   exact     1.00  the same line once the log format is peeled (timestamps, levels, ECS, `Error: `)
 *   wrapper   0.90  the same error relayed another way (the agent's retry line against its final
 *                   `fail to enroll: ...`, `Fleet Server - Error - ` against Fleet Server's own line)
 *   contains  0.60-0.80  one holds the other, by how much of the longer it covers
 *   similar   <0.50  shared words in order; only offered as "closest" when nothing matches
 * Text a template's `{any}` absorbs costs up to 0.3 (a template that is mostly `{any}` says
 * little); another release's wording (`alsoSeenAs`) costs 0.03.
 * Equal scores go to the scenario that writes more of the pasted messages, then to the one that
 * changes its flow least (the commoner mistake), then to
 * catalog order, so the answer never depends on anything but the line and the catalog.
 */
import type { Catalog } from '../scenarios/catalog.js';
import type { ScenarioData } from '../scenarios/schema.js';
import { findInside, insidePiece, matchWhole } from './glob.js';
import { catalogTemplates, tokens, words, type TemplateLine } from './templates.js';
import { formsOf, pastedMessages, type MessageForms } from './unwrap.js';

/** How a pasted line matched a scenario's line (see the scores at the top of this module). */
export type MatchKind = 'exact' | 'wrapper' | 'contains' | 'similar';

/** A scenario that writes (or nearly writes) a pasted line, with its score. */
export interface ScenarioMatch {
  readonly scenario: ScenarioData;
  readonly score: number;
  readonly kind: MatchKind;
  /** The line is another release's wording (the scenario's `alsoSeenAs`). */
  readonly olderWording: boolean;
  readonly template: TemplateLine;
  /** The pasted message that matched, as pasted. */
  readonly message: string;
}

/** Which scenarios write the lines of a paste. */
export interface Explanation {
  /** Each message found in the paste, normalised and unwrapped, as compared. */
  readonly messages: readonly MessageForms[];
  /** Scenarios that write the line (exact, wrapper, contains), best first. */
  readonly matches: readonly ScenarioMatch[];
  /** When nothing matches: the most similar scenarios, best first (at most three). */
  readonly closest: readonly ScenarioMatch[];
}

const BASE: Readonly<Record<Exclude<MatchKind, 'contains' | 'similar'>, number>> = { exact: 1, wrapper: 0.9 };
const OLDER_WORDING_COST = 0.03;
const WILDCARD_COST = 0.3;
/** Below this, "closest" would be noise: a few shared words such as `file` or `tls`. */
const CLOSEST_FLOOR = 0.15;
/** A fragment must carry this many words to count as containing (or contained in) a message. */
const MIN_CONTAINED_WORDS = 3;

/** The catalog's template lines, prepared once for many lines (tests, a batch). */
export class Explainer {
  private readonly templates: readonly TemplateLine[];

  constructor(readonly catalog: Catalog) {
    this.templates = catalogTemplates(catalog);
  }

  /** The scenarios that write the lines of `pasted` (any log format: ECS JSON, Kibana, plain). */
  explain(pasted: string): Explanation {
    const messages = pastedMessages(pasted).map((raw) => formsOf(raw)).filter((m) => m.presented !== '');
    const best = new Map<string, ScenarioMatch>();
    const closest = new Map<string, ScenarioMatch>();
    // How many of the pasted messages each scenario writes: on equal scores, the one that explains more of the paste.
    const covered = new Map<string, Set<string>>();
    for (const message of messages) {
      const messageTokens = tokens(message.bare);
      for (const template of this.templates) {
        const found = compare(message, template);
        if (found) {
          keepBetter(best, { ...found, scenario: template.scenario, template, message: message.raw });
          covered.set(template.scenario.id, (covered.get(template.scenario.id) ?? new Set()).add(message.raw));
        }
        const similarity = round(0.5 * dice(messageTokens, template.tokens) - (template.origin.kind === 'alsoSeenAs' ? OLDER_WORDING_COST : 0));
        keepBetter(closest, { kind: 'similar', score: similarity, olderWording: template.origin.kind === 'alsoSeenAs', scenario: template.scenario, template, message: message.raw });
      }
    }
    const coverage = (m: ScenarioMatch) => covered.get(m.scenario.id)?.size ?? 0;
    const matches = [...best.values()].sort((a, b) => b.score - a.score || coverage(b) - coverage(a) || ranking(a, b));
    return {
      messages,
      matches,
      closest: matches.length > 0 ? [] : [...closest.values()].filter((m) => m.score >= CLOSEST_FLOOR).sort(ranking).slice(0, 3),
    };
  }
}

/** One call, one line: builds the template index each time (use Explainer for many lines). */
export function explainLine(catalog: Catalog, pasted: string): Explanation {
  return new Explainer(catalog).explain(pasted);
}

function compare(message: MessageForms, template: TemplateLine): Pick<ScenarioMatch, 'score' | 'kind' | 'olderWording'> | null {
  const olderWording = template.origin.kind === 'alsoSeenAs';
  const cost = olderWording ? OLDER_WORDING_COST : 0;
  const whole = (kind: 'exact' | 'wrapper', line: string, glob: TemplateLine['presented']) => {
    const found = matchWhole(glob, line);
    return found && { kind, olderWording, score: round(BASE[kind] - cost - WILDCARD_COST * (found.wildcardChars / Math.max(1, line.length))) };
  };
  // A template without a relay wrapper is the bare error: the same error relayed is still it.
  const direct = whole('exact', message.presented, template.presented)
    ?? whole('wrapper', message.canonical, template.canonical)
    ?? (template.marker === null && message.marker !== null ? whole('wrapper', message.bare, template.canonical) : null);
  if (direct) return direct;
  // Part of a message pasted (the bare x509 error), or a message inside text no wrapper explains;
  // never across legs (the agent's `fail to enroll: x509: ...` is not Beats' `Error dialing x509: ...`).
  if (message.marker && template.marker && message.marker !== template.marker) return null;
  const line = message.bare;
  if (words(line) >= MIN_CONTAINED_WORDS && insidePiece(template.bare, line)) {
    return { kind: 'contains', olderWording, score: round(0.6 + 0.2 * Math.min(1, line.length / Math.max(1, template.coreLength)) - cost) };
  }
  if (words(template.bare.pieces.join(' ')) >= MIN_CONTAINED_WORDS) {
    const found = findInside(template.bare, line);
    if (found) return { kind: 'contains', olderWording, score: round(0.6 + 0.2 * Math.min(1, template.bare.literalLength / Math.max(1, line.length)) - cost) };
  }
  return null;
}

function keepBetter(into: Map<string, ScenarioMatch>, candidate: ScenarioMatch): void {
  const current = into.get(candidate.scenario.id);
  // Within one scenario: the higher score, then the current wording, then a leg that failed over
  // one that was skipped and only relays it (the agent's `Fleet Server - Error - ...` while Fleet
  // Server's own leg to Elasticsearch failed), then the first template.
  const tie = current !== undefined && candidate.score === current.score;
  if (!current || candidate.score > current.score || (tie && current.olderWording && !candidate.olderWording)
    || (tie && current.olderWording === candidate.olderWording && relaysOnly(current) && !relaysOnly(candidate))) {
    into.set(candidate.scenario.id, candidate);
  }
}

/** Whether the match's template sits on a leg the scenario expects skipped (it relays another leg's failure). */
function relaysOnly(match: ScenarioMatch): boolean {
  const leg = match.template.origin.leg as keyof ScenarioData['expect'] | undefined;
  return leg !== undefined && match.scenario.expect[leg]?.skipped === true;
}

/**
 * How far a scenario departs from its flow: one per flag changed, two per certificate made for
 * it (a flag left out or mistyped is a commoner mistake than a certificate made wrong).
 */
export function changes(scenario: ScenarioData): number {
  return Object.keys(scenario.flags ?? {}).length + 2 * Object.keys(scenario.certificates ?? {}).length;
}

/**
 * Equal scores go first to the leg a failure meets first and people paste from most: the
 * agent's enrollment, then Fleet Server's bootstrap, then the output (a bare `x509: ...` is
 * far likelier the agent's own than its shipper's).
 */
const LEG_ORDER: Readonly<Record<string, number>> = { 'agent->fleet-server': 0, 'fleet-server->elasticsearch': 1, 'agent->elasticsearch': 2 };
const legRank = (m: ScenarioMatch): number => (m.template.origin.leg === undefined ? 3 : LEG_ORDER[m.template.origin.leg] ?? 3);

function ranking(a: ScenarioMatch, b: ScenarioMatch): number {
  return b.score - a.score || legRank(a) - legRank(b) || changes(a.scenario) - changes(b.scenario) || a.template.order - b.template.order;
}

function round(score: number): number {
  return Math.round(score * 1000) / 1000;
}

/** Twice the longest common subsequence over both lengths: shared words, in order. */
export function dice(a: readonly string[], b: readonly string[]): number {
  if (a.length === 0 || b.length === 0) return 0;
  let previous = new Array<number>(b.length + 1).fill(0);
  for (const token of a) {
    const row = new Array<number>(b.length + 1).fill(0);
    for (let j = 1; j <= b.length; j++) row[j] = token === b[j - 1] ? previous[j - 1]! + 1 : Math.max(previous[j]!, row[j - 1]!);
    previous = row;
  }
  return (2 * previous[b.length]!) / (a.length + b.length);
}
