import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createPki } from '../../src/api.js';
import type { Pki } from '../../src/pki/store.js';

let shared: Promise<Pki> | undefined;

/** One PKI per test file (vitest isolates files), generated on first use in a temporary directory. */
export function sharedPki(): Promise<Pki> {
  shared ??= createPki();
  return shared;
}

/** A scratch directory removed by the returned cleanup. */
export async function scratchDir(prefix = 'fleet-tls-test-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
