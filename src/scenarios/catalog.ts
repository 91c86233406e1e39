import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { HarnessError } from '../errors.js';
import { AGENT_FLAGS, HARNESS_FLAGS } from '../flows/install-flags.js';
import { CA_NAMES } from '../pki/profiles.js';
import { FlowFile, ScenarioFile, type FlowData, type ScenarioData } from './schema.js';

export interface Catalog {
  readonly dirs: readonly string[];
  readonly flows: ReadonlyMap<string, FlowData>;
  readonly scenarios: readonly ScenarioData[];
}

/** The catalog shipped with the package (harness/ beside dist/ or src/). */
export const BUILTIN_HARNESS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'harness');

const KNOWN_FLAGS = new Set([...AGENT_FLAGS, ...HARNESS_FLAGS].map((f) => f.name));

/**
 * Reads flows and scenarios from each directory (later directories add to or replace earlier
 * ones by id), rejecting a malformed file with its path and the offending key.
 */
export function loadCatalog(dirs: readonly string[] = [BUILTIN_HARNESS]): Catalog {
  const flows = new Map<string, FlowData>();
  const scenarios = new Map<string, ScenarioData>();
  for (const dir of dirs) {
    for (const file of yamlFiles(path.join(dir, 'flows'))) flows.set(path.basename(file, '.yaml'), parseFile(file, FlowFile));
  }
  for (const dir of dirs) {
    for (const file of yamlFiles(path.join(dir, 'scenarios'))) {
      const scenario = parseFile(file, ScenarioFile);
      checkScenario(file, scenario, flows);
      scenarios.set(scenario.id, scenario);
    }
  }
  // The page's two flows come first, in the page's order, then the other deployment models' flows
  // (proxies): every other scenario varies one of them.
  const rank = (s: ScenarioData) => (!s.id.startsWith('flow.') ? 3 : s.flow === 'one-way' ? 0 : s.flow === 'mutual' ? 1 : 2);
  const ordered = [...scenarios.values()].sort((a, b) => rank(a) - rank(b));
  return { dirs, flows, scenarios: ordered };
}

export function findScenarios(catalog: Catalog, ids: readonly string[]): ScenarioData[] {
  if (ids.length === 0) return [...catalog.scenarios];
  return ids.map((id) => {
    const found = catalog.scenarios.find((s) => s.id === id);
    if (!found) {
      const close = catalog.scenarios.filter((s) => s.id.includes(id) || id.includes(s.id.split('.').at(-1)!)).map((s) => s.id);
      throw new HarnessError('FTH_SCENARIO_UNKNOWN', `no scenario '${id}'${close.length ? ` (did you mean ${close.slice(0, 3).join(', ')}?)` : ''}; \`fleet-tls scenarios\` lists them`);
    }
    return found;
  });
}

function yamlFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml')).sort().map((f) => path.join(dir, f));
}

function parseFile<T extends z.ZodType>(file: string, schema: T): z.infer<T> {
  let data: unknown;
  try {
    data = parseYaml(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new HarnessError('FTH_SCENARIO_SCHEMA', `${file}: not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const key = issue.path.length ? issue.path.join('.') : '(top level)';
  const unknown = issue.code === 'unrecognized_keys' ? ` ${issue.keys.join(', ')}` : '';
  throw new HarnessError('FTH_SCENARIO_SCHEMA', `${file}: ${key}${unknown}: ${describe(issue)}`);
}

/** A plain union's message is just "Invalid input": say what its first form wanted instead. */
function describe(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_union' && issue.message === 'Invalid input' && issue.errors[0]?.[0]) return issue.errors[0][0].message;
  return issue.message;
}

function checkScenario(file: string, scenario: ScenarioData, flows: ReadonlyMap<string, FlowData>): void {
  const fail = (key: string, message: string) => {
    throw new HarnessError('FTH_SCENARIO_SCHEMA', `${file}: ${key}: ${message}`);
  };
  const base = path.basename(file).replace(/\.ya?ml$/, '');
  if (scenario.id !== base) fail('id', `'${scenario.id}' must match the file name '${base}'`);
  if (!flows.has(scenario.flow)) fail('flow', `no flow '${scenario.flow}' (known: ${[...flows.keys()].join(', ')})`);
  for (const flag of Object.keys(scenario.flags ?? {})) {
    if (!KNOWN_FLAGS.has(flag)) fail(`flags.${flag}`, 'not an install flag the harness knows');
  }
  const certificates = scenario.certificates ?? {};
  for (const [name, variant] of Object.entries(certificates)) {
    const issuer = variant.issuer;
    if (issuer && !(CA_NAMES as readonly string[]).includes(issuer) && !certificates[issuer]?.ca) {
      fail(`certificates.${name}.issuer`, `'${issuer}' is neither a PKI CA nor a CA defined in this scenario`);
    }
  }
}
