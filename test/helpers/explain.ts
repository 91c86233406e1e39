import { copyFile, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../src/cli/main.js';
import type { Io } from '../../src/cli/io.js';
import { loadCatalog } from '../../src/scenarios/catalog.js';

export const EXPLAIN_FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/explain-catalog');

/**
 * A catalog directory holding the fixture scenarios whose ids the built-in catalog lacks, so a
 * test run with `--catalog` checks every built-in scenario as it is and fills in only the gaps.
 */
export async function gapCatalog(): Promise<{ dir: string; filled: string[]; dispose: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'fth-explain-catalog-'));
  await mkdir(path.join(dir, 'scenarios'));
  const builtin = new Set(loadCatalog().scenarios.map((s) => s.id));
  const filled: string[] = [];
  for (const file of (await readdir(path.join(EXPLAIN_FIXTURES, 'scenarios'))).sort()) {
    const id = file.replace(/\.yaml$/, '');
    if (builtin.has(id)) continue;
    await copyFile(path.join(EXPLAIN_FIXTURES, 'scenarios', file), path.join(dir, 'scenarios', file));
    filled.push(id);
  }
  return { dir, filled, dispose: () => rm(dir, { recursive: true, force: true }) };
}

/** The CLI in-process, as `fleet-tls ...` would run it: status and what it printed. */
export async function cliInProcess(argv: readonly string[], cwd = process.cwd()): Promise<{ status: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = {
    out: (text) => { out += text; },
    err: (text) => { err += text; },
    isTty: false,
    cwd,
    untilStopped: () => new Promise<string>(() => {}),
  };
  const status = await runCli(argv, io);
  return { status, out, err };
}
