import { makeTempDir } from '../temp-dirs.js';
import path from 'node:path';
import { parseInstallFlags } from '../flows/install-flags.js';
import { placeholder, planInstall } from '../flows/install-plan.js';
import { flowConfig, selfSignedFleetServer } from '../flows/install.js';
import { runFlow } from '../flows/flow.js';
import { withPolicyOutput } from '../flows/policy-flags.js';
import type { Pki } from '../pki/store.js';
import type { Identity } from '../tls/material.js';
import { legKey, type Leg } from '../report/leg.js';
import { TLS_VERSIONS, type TlsVersion } from '../tls/settings.js';
import type { Catalog } from './catalog.js';
import { expandCertificateTemplates, materialise, pkiCertificates, writeMadeFiles, type ScenarioMaterial } from './certificates.js';
import { applySettings, policyOutput } from './setup.js';
import { compareLeg, resolveExpectation, type ResolvedExpectation } from './expect.js';
import { LEG_KEYS, type LegKey } from './leg-keys.js';
import type { ScenarioData } from './schema.js';
import { StackPool } from './stacks.js';
import { HELPER_MIN_JOBS, HelperThread, JobQueue } from './run-thread.js';

/** One scenario under one TLS version: the legs it produced and how they compare with its file. */
export interface ScenarioResult {
  readonly id: string;
  readonly title: string;
  readonly tls: TlsVersion;
  /** Every leg behaved as the scenario file expects. */
  readonly pass: boolean;
  readonly expected: Readonly<Partial<Record<LegKey, ResolvedExpectation>>>;
  readonly legs: readonly Leg[];
  /** Where the run differed from the expectation, one sentence each. */
  readonly mismatches: readonly string[];
  /** The install command this scenario runs (with /path/to placeholders), to reproduce it by hand. */
  readonly command: readonly string[];
  readonly durationMs: number;
}

/** How {@link runScenarios} runs a batch. */
export interface RunOptions {
  readonly versions?: readonly TlsVersion[];
  /** How many scenario runs go at once; each has its own ports. */
  readonly concurrency?: number;
  /** Called as each result arrives (in completion order; the returned array is in catalog order). */
  readonly onResult?: (result: ScenarioResult) => void;
  /**
   * Run scenarios whose Elasticsearch and Fleet Server settings are equal on one started pair,
   * one at a time on it (default true); each result is the same as with a pair of its own.
   */
  readonly shareComponents?: boolean;
  /**
   * Run part of a large batch on a second thread (default false). The results are the same and
   * in the same order, but their legs carry no wire capture (bytes and secrets): not for --pcap or
   * --keylog.
   */
  readonly threads?: boolean;
}

/** The install arguments of a scenario: its flow's command with the scenario's flag changes. */
export function scenarioCommand(catalog: Catalog, scenario: ScenarioData): string[] {
  const base = catalog.flows.get(scenario.flow)!.command;
  const flags = new Map<string, string | true>();
  for (const argument of base) {
    const [name = '', ...value] = argument.replace(/^--?/, '').split('=');
    flags.set(name, value.length ? value.join('=') : true);
  }
  for (const [name, value] of Object.entries(scenario.flags ?? {})) {
    if (value === null || value === false) flags.delete(name);
    else flags.set(name, value);
  }
  return [...flags].map(([name, value]) => (value === true ? `--${name}` : `--${name}=${value}`));
}

/**
 * Runs scenarios under each TLS version, side by side, with results in catalog order.
 *
 * @example
 * ```ts
 * const catalog = loadCatalog();
 * const results = await runScenarios(catalog, findScenarios(catalog, []), pki, { versions: ['1.3'] });
 * results.filter((r) => !r.pass).map((r) => r.mismatches);
 * ```
 */
export async function runScenarios(catalog: Catalog, scenarios: readonly ScenarioData[], pki: Pki, options: RunOptions = {}): Promise<ScenarioResult[]> {
  // Scenario keys live here: removed when the run ends, however it ends (temp-dirs.ts).
  const scratch = await makeTempDir('run');
  const share = options.shareComponents !== false;
  const runner = new JobRunner(catalog, pki, scratch.dir, share);
  const jobs = scenarioJobs(scenarios, options.versions);
  const results: ScenarioResult[] = new Array(jobs.length);
  const queue = new JobQueue(jobs.length);
  const concurrency = Math.min(options.concurrency ?? 8, jobs.length);
  const done = (index: number, result: ScenarioResult) => {
    results[index] = result;
    options.onResult?.(result);
  };
  const helper = options.threads && jobs.length >= HELPER_MIN_JOBS ? await HelperThread.start() : undefined;
  try {
    const own = async () => {
      for (let index = queue.front(); index >= 0; index = queue.front()) done(index, await runner.run(jobs[index]!));
    };
    // Eight at once keeps a core busy while some flows wait on the wire. A helper thread (the
    // CLI's whole-catalog runs) takes jobs from the other end of the list, so each thread keeps
    // neighbouring scenarios, which share stacks, to itself.
    await Promise.all([
      ...Array.from({ length: concurrency }, own),
      ...(helper ? [helper.run({ catalog, scenarios, versions: options.versions, pki, share, concurrency }, queue, done)] : []),
    ]);
    return results;
  } finally {
    await Promise.all([runner.close(), helper?.close()]);
    await scratch.remove();
  }
}

/** Scenario runs under each version the scenario allows, in catalog order. */
export function scenarioJobs(scenarios: readonly ScenarioData[], versions: readonly TlsVersion[] = TLS_VERSIONS): ScenarioJob[] {
  return scenarios.flatMap((scenario) => versions.filter((v) => !scenario.tls || scenario.tls.includes(v)).map((version) => ({ scenario, version })));
}

export interface ScenarioJob { readonly scenario: ScenarioData; readonly version: TlsVersion }

/**
 * Runs jobs in one thread: each scenario's material is made once (in `work`), and flows share
 * stacks through one pool unless `share` is false.
 */
export class JobRunner {
  private readonly prepared = new Map<string, Promise<ScenarioMaterial | undefined>>();
  private readonly stacks: StackPool | undefined;
  /**
   * The certificate the agent generates for Fleet Server without --fleet-server-cert: made once
   * per batch. Each real install makes its own, but scenarios never meet, so one serves them all
   * (as the n-th spare key does in certificates.ts), and their stacks can be shared.
   */
  private selfSigned?: Identity;
  private readonly makeSelfSigned = (): Identity => (this.selfSigned ??= selfSignedFleetServer());

  constructor(private readonly catalog: Catalog, private readonly pki: Pki, private readonly work: string, share: boolean) {
    this.stacks = share ? new StackPool() : undefined;
  }

  async run({ scenario, version }: ScenarioJob): Promise<ScenarioResult> {
    return runOne(this.catalog, scenario, version, this.pki, await this.prepare(scenario), this.stacks, this.makeSelfSigned);
  }

  async close(): Promise<void> {
    await this.stacks?.close();
  }

  private prepare(scenario: ScenarioData): Promise<ScenarioMaterial | undefined> {
    if (!this.prepared.has(scenario.id)) {
      const dir = path.join(this.work, scenario.id);
      this.prepared.set(scenario.id, scenario.certificates || scenario.passphraseFiles || scenario.files
        ? materialise(scenario.certificates ?? {}, this.pki, dir, scenario.passphraseFiles).then(async (made) => {
          if (scenario.files) await writeMadeFiles(scenario.files, made.certificates, made.dir);
          return made;
        })
        : Promise.resolve(undefined));
    }
    return this.prepared.get(scenario.id)!;
  }
}

async function runOne(
  catalog: Catalog, scenario: ScenarioData, version: TlsVersion, pki: Pki, material: ScenarioMaterial | undefined, stacks: StackPool | undefined, makeSelfSigned: () => Identity,
): Promise<ScenarioResult> {
  const started = performance.now();
  const command = scenarioCommand(catalog, scenario);
  const certificates = material?.certificates ?? pkiCertificates(pki);
  const context = { pki, ...(material ? { extraDir: material.dir } : {}) };
  const plan = planInstall(parseInstallFlags([...command.map((a) => expandCertificateTemplates(a, certificates)), `--tls=${version}`]), {
    ...context, makeSelfSigned, agentKeyErrorsAreFailures: true,
  });
  const base = flowConfig(plan, 'ephemeral');
  const output = policyOutput(catalog.flows.get(scenario.flow)!.output, scenario.output, {
    path: (value) => placeholder(value, context),
    value: (value) => expandCertificateTemplates(value, certificates),
  });
  const config = applySettings({ ...base, fleetServer: { ...base.fleetServer, ...(output ? { output: withPolicyOutput(output, plan.policy.output) } : {}) } }, scenario.settings);
  const flow = stacks ? await stacks.run(config) : await runFlow(config);
  const keys = LEG_KEYS.filter((key) => scenario.expect[key] !== undefined);
  const expected = Object.fromEntries(keys.map((key) => [key, resolveExpectation(scenario.expect[key]!, version)])) as Partial<Record<LegKey, ResolvedExpectation>>;
  const mismatches = keys.flatMap((key) => {
    const leg = flow.legs.find((l) => legKey(l) === key);
    if (!leg) return [`${key}: the flow did not reach this leg`];
    return compareLeg(expected[key]!, leg).map((problem) => `${key} ${problem}`);
  });
  return {
    id: scenario.id,
    title: scenario.title,
    tls: version,
    pass: mismatches.length === 0,
    expected,
    legs: flow.legs,
    mismatches,
    command,
    durationMs: Math.round(performance.now() - started),
  };
}
