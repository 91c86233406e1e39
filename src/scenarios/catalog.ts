import { readdirSync, readFileSync, existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { goDurationMs } from '../dialects/go.js';
import { HarnessError, systemErrorCode } from '../errors.js';
import { AGENT_FLAGS, HARNESS_FLAGS } from '../flows/install-flags.js';
import { CA_NAMES } from '../pki/profiles.js';
import { contentKey, precompiled, type FileKind } from './precompiled.js';
import { scenarioSchemas, type FlowData, type ScenarioData } from './schema.js';

/** Flows and scenarios read from one or more harness directories. */
export interface Catalog {
  readonly dirs: readonly string[];
  readonly flows: ReadonlyMap<string, FlowData>;
  readonly scenarios: readonly ScenarioData[];
}

/** The catalog shipped with the package (harness/ beside dist/ or src/): the first directory of a catalog that adds scenarios of its own. */
export const BUILTIN_HARNESS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'harness');

// The YAML parser loads only when a file was not validated at build time (yaml's Node entry is CommonJS).
const parseYaml = (text: string): unknown => (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse(text);

const KNOWN_FLAGS = new Set([...AGENT_FLAGS, ...HARNESS_FLAGS].map((f) => f.name));

/** @internal How the build step reads the catalog: nothing stored, every result recorded. */
export interface LoadOptions {
  /** Validated files by content (default the build's, see precompiled.ts). */
  readonly precompiled?: ReadonlyMap<string, unknown>;
  readonly record?: (key: string, data: unknown) => void;
}

/**
 * Reads flows and scenarios from each directory (later directories add to or replace earlier
 * ones by id), rejecting a malformed file with its path and the offending key. A file whose bytes
 * the build already validated is not parsed again; an edited or new one is.
 *
 * @example
 * ```ts
 * const catalog = loadCatalog([BUILTIN_HARNESS, '/etc/fleet-tls/my-scenarios']);
 * catalog.scenarios.map((s) => s.id);
 * ```
 */
export function loadCatalog(dirs: readonly string[] = [BUILTIN_HARNESS], options: LoadOptions = {}): Catalog {
  for (const dir of dirs) checkCatalogDir(dir);
  const flows = new Map<string, FlowData>();
  const scenarios = new Map<string, ScenarioData>();
  const stored = options.precompiled ?? precompiled();
  const read = <T extends z.ZodType>(file: string, kind: FileKind, schema: () => T): z.infer<T> => {
    const text = readText(file);
    const key = contentKey(kind, text);
    if (stored.has(key)) return stored.get(key) as z.infer<T>;
    const data = parseFile(file, text, schema());
    options.record?.(key, data);
    return data;
  };
  for (const dir of dirs) {
    for (const file of yamlFiles(path.join(dir, 'flows'))) flows.set(path.basename(file, '.yaml'), read(file, 'flow', () => scenarioSchemas().FlowFile));
  }
  for (const dir of dirs) {
    for (const file of yamlFiles(path.join(dir, 'scenarios'))) {
      const scenario = read(file, 'scenario', () => scenarioSchemas().ScenarioFile);
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

/**
 * A directory of more flows and scenarios: it must exist, be a directory and hold `flows/` or
 * `scenarios/`; anything else is a mistyped path, which would otherwise add nothing silently.
 */
export function checkCatalogDir(dir: string): void {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch (error) {
    const why = systemErrorCode(error) === 'ENOENT' ? 'no such directory' : (error as Error).message;
    throw new HarnessError('FTH_FILE_UNREADABLE', `catalog ${dir}: ${why}`);
  }
  if (!isDirectory) throw new HarnessError('FTH_FILE_UNREADABLE', `catalog ${dir}: not a directory (a catalog is a directory with flows/ and scenarios/)`);
  if (!existsSync(path.join(dir, 'flows')) && !existsSync(path.join(dir, 'scenarios'))) {
    throw new HarnessError('FTH_FILE_UNREADABLE', `catalog ${dir}: holds neither flows/ nor scenarios/`);
  }
}

/**
 * The scenarios named by ids or shell-style patterns (`*` any text, `?` one character:
 * `agent-fleet.mutual.*`), in catalog order, each once. A name or pattern that selects nothing
 * is an error naming it.
 */
export function findScenarios(catalog: Catalog, ids: readonly string[]): ScenarioData[] {
  if (ids.length === 0) return [...catalog.scenarios];
  const chosen = new Set<ScenarioData>();
  for (const id of ids) {
    const found = /[*?]/.test(id)
      ? catalog.scenarios.filter((s) => patternRegExp(id).test(s.id))
      : catalog.scenarios.filter((s) => s.id === id);
    if (found.length === 0) {
      if (/[*?]/.test(id)) throw new HarnessError('FTH_SCENARIO_UNKNOWN', `no scenario matches '${id}'; \`fleet-tls scenarios\` lists them`);
      const close = catalog.scenarios.filter((s) => s.id.includes(id) || id.includes(s.id.split('.').at(-1)!)).map((s) => s.id);
      throw new HarnessError('FTH_SCENARIO_UNKNOWN', `no scenario '${id}'${close.length ? ` (did you mean ${close.slice(0, 3).join(', ')}?)` : ''}; \`fleet-tls scenarios\` lists them`);
    }
    for (const scenario of found) chosen.add(scenario);
  }
  return ids.some((id) => /[*?]/.test(id)) ? catalog.scenarios.filter((s) => chosen.has(s)) : [...chosen];
}

function patternRegExp(pattern: string): RegExp {
  const body = pattern.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(`^${body}$`);
}

/** Node's timers hold at most 2^31-1 ms; a longer delay fires after 1 ms instead. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function yamlFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml')).sort().map((f) => path.join(dir, f));
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new HarnessError('FTH_FILE_UNREADABLE', `${file}: ${(error as Error).message}`);
  }
}

function parseFile<T extends z.ZodType>(file: string, text: string, schema: T): z.infer<T> {
  let data: unknown;
  try {
    data = parseYaml(text);
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
  const readTimeout = scenario.settings?.['fleet-server']?.['server.timeouts.read'];
  if (readTimeout !== undefined && !((goDurationMs(readTimeout) ?? Infinity) <= MAX_TIMER_MS)) {
    fail('settings.fleet-server.server.timeouts.read', `'${readTimeout}' is longer than the harness can wait (at most ${MAX_TIMER_MS} ms, about 24 days)`);
  }
  const certificates = scenario.certificates ?? {};
  for (const [name, variant] of Object.entries(certificates)) {
    const issuer = variant.issuer;
    if (issuer && !(CA_NAMES as readonly string[]).includes(issuer) && !certificates[issuer]?.ca) {
      fail(`certificates.${name}.issuer`, `'${issuer}' is neither a PKI CA nor a CA defined in this scenario`);
    }
  }
}
