/**
 * What `fleet-tls explain` prints: for each matching scenario the cause, the fix in install-flag
 * terms and the command that reproduces the line; as text or as `{ matches, closest }` JSON.
 */
import type { Catalog } from '../scenarios/catalog.js';
import { scenarioCommand } from '../scenarios/run.js';
import type { ScenarioData } from '../scenarios/schema.js';
import type { Explanation, MatchKind, ScenarioMatch } from './match.js';

export interface ExplainedMatch {
  readonly scenario: string;
  readonly score: number;
  readonly cause: string;
  readonly fix: string;
  /** The command that writes the line: `fleet-tls run ID` (with `--tls`, `--catalog` where it needs them). */
  readonly reproduce: string;
  readonly title: string;
  readonly match: MatchKind;
  readonly olderWording: boolean;
  /** Which component's line on which leg matched; null for another release's wording. */
  readonly component: string | null;
  readonly leg: string | null;
  readonly tls: string | null;
  /** The scenario's line that matched, as its file has it. */
  readonly template: string;
  /** The `elastic-agent install` command the scenario emulates. */
  readonly install: string;
  /** Set when the line is another release's wording: which one the scenario writes instead. */
  readonly note: string | null;
}

export interface ExplainDocument {
  readonly matches: readonly ExplainedMatch[];
  readonly closest: readonly ExplainedMatch[];
}

export interface ReportOptions {
  /** The `--catalog` directories as the user gave them, for the reproduce command. */
  readonly catalogArgs?: readonly string[];
}

export function explainDocument(catalog: Catalog, explanation: Explanation, options: ReportOptions = {}): ExplainDocument {
  const describe = (m: ScenarioMatch) => describeMatch(catalog, m, options);
  return { matches: explanation.matches.map(describe), closest: explanation.closest.map(describe) };
}

function describeMatch(catalog: Catalog, match: ScenarioMatch, options: ReportOptions): ExplainedMatch {
  const { scenario, template } = match;
  const origin = template.origin;
  const tls = origin.kind === 'log' && origin.tls && (scenario.tls ?? ['1.2', '1.3']).length > 1 ? origin.tls : null;
  const catalogArgs = (options.catalogArgs ?? []).map((dir) => ` --catalog ${shellWord(dir)}`).join('');
  return {
    scenario: scenario.id,
    score: match.score,
    cause: causeOf(scenario),
    fix: fixOf(scenario),
    reproduce: `fleet-tls run ${scenario.id}${tls ? ` --tls ${tls}` : ''}${catalogArgs}`,
    title: scenario.title,
    match: match.kind,
    olderWording: match.olderWording,
    component: origin.kind === 'log' ? origin.component : null,
    leg: origin.kind === 'log' ? origin.leg : null,
    tls: origin.kind === 'log' ? origin.tls : null,
    template: template.text,
    install: ['elastic-agent install', ...scenarioCommand(catalog, scenario)].join(' '),
    note: match.olderWording
      ? `the line is ${origin.kind === 'alsoSeenAs' && origin.release ? `the wording of ${origin.release}` : 'another release\'s wording of this failure'}; ` +
        `\`fleet-tls run\` writes ${scenario.emulates ? `the wording of ${oneLine(scenario.emulates)}` : 'the current wording'}`
      : null,
  };
}

/** The scenario's `cause`; before a file has one, its description or title. */
export function causeOf(scenario: ScenarioData): string {
  return oneLine(scenario.cause ?? scenario.description ?? scenario.title);
}

/** The scenario's `fix`; before a file has one, what it changes in its flow, to be undone. */
export function fixOf(scenario: ScenarioData): string {
  if (scenario.fix) return oneLine(scenario.fix);
  const changes = Object.entries(scenario.flags ?? {}).map(([name, value]) =>
    value === null || value === false ? `restore --${name}` : value === true ? `drop --${name}` : `correct --${name} (the scenario sets ${value})`);
  const made = Object.keys(scenario.certificates ?? {});
  if (made.length) changes.push(`use certificates like the flow's instead of ${made.join(', ')}`);
  return changes.length
    ? `Undo what the scenario changes in the ${scenario.flow} flow: ${changes.join('; ')}.`
    : `Nothing to fix: this is the ${scenario.flow} flow as Elastic's page gives it.`;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function shellWord(text: string): string {
  return /^[\w./:@%+=-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}

const KIND: Readonly<Record<MatchKind, string>> = {
  exact: 'the same line',
  wrapper: 'the same error, relayed another way',
  contains: 'part of the same message',
  similar: 'similar words',
};

/** How many matches the text output shows in full; the rest are named. */
const SHOWN = 5;

export function renderExplanation(document: ExplainDocument): string {
  const out: string[] = [];
  if (document.matches.length === 0) {
    out.push('No scenario writes this line.');
    if (document.closest.length === 0) {
      out.push('Nothing in the catalog is close; `fleet-tls scenarios` lists it.');
    } else {
      out.push('Closest:');
      const width = Math.max(...document.closest.map((m) => m.scenario.length));
      for (const m of document.closest) out.push(`  ${m.scenario.padEnd(width)}  ${m.score.toFixed(2)}  ${m.title}`);
      out.push(`Compare with: ${document.closest[0]!.reproduce}`);
    }
    return `${out.join('\n')}\n`;
  }
  document.matches.slice(0, SHOWN).forEach((m, i) => {
    const where = m.component ? `${m.component}, ${m.leg!.replace('->', ' → ')}${m.tls ? `, TLS ${m.tls}` : ''}` : 'another release\'s wording';
    out.push(`${i + 1}. ${m.scenario}  ${m.score.toFixed(2)} ${KIND[m.match]} (${where})`);
    if (m.title !== m.cause) out.push(`   ${m.title}`);
    out.push(`   cause      ${m.cause}`);
    out.push(`   fix        ${m.fix}`);
    out.push(`   reproduce  ${m.reproduce}`);
    out.push(`   install    ${m.install}`);
    if (m.note) out.push(`   note       ${m.note}`);
    out.push('');
  });
  const rest = document.matches.slice(SHOWN);
  if (rest.length) out.push(`${rest.length} more: ${rest.map((m) => m.scenario).join(', ')}`, '');
  return `${out.join('\n').trimEnd()}\n`;
}
