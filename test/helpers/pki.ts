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

/**
 * A scratch directory removed by the returned cleanup. A child process stopped a moment ago (a
 * Go build, a JVM, serve) may still be writing into it, and a recursive removal racing it fails
 * with ENOTEMPTY: Node's rm retries such errors when asked to, with a back-off.
 */
export async function scratchDir(prefix = 'fleet-tls-test-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 }) };
}
