/**
 * The built-in catalog, validated at build time. Parsing YAML and checking it against the
 * schema was most of the catalog's start-up; `npm run build` writes every built-in file's result
 * to `dist/scenarios/builtin-catalog.json`, keyed by the file's own bytes. A file whose bytes
 * match (in harness/ or any --catalog directory) takes the stored result; one a user edited or
 * added is parsed as before, so an edit is never missed and a stale build is never believed.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the build writes it: beside this module in dist/ (absent when running from src/). */
export const PRECOMPILED_CATALOG = path.join(path.dirname(fileURLToPath(import.meta.url)), 'builtin-catalog.json');

const FORMAT = 1;

export type FileKind = 'flow' | 'scenario';

interface Stored { readonly format: number; readonly entries: Readonly<Record<string, unknown>> }

/** The key of a file's result: its kind and a digest of its bytes (the schema is part of the build). */
export function contentKey(kind: FileKind, text: string): string {
  return `${kind}:${createHash('sha256').update(text).digest('base64url')}`;
}

let loaded: ReadonlyMap<string, unknown> | undefined;

/** The stored results, read once; none when the file is missing or from another format. */
export function precompiled(file = PRECOMPILED_CATALOG): ReadonlyMap<string, unknown> {
  if (file === PRECOMPILED_CATALOG && loaded) return loaded;
  let map: ReadonlyMap<string, unknown> = new Map();
  try {
    const stored = JSON.parse(readFileSync(file, 'utf8')) as Stored;
    if (stored.format === FORMAT) map = new Map(Object.entries(stored.entries));
  } catch {
    // No build output (tests from src/) or a damaged file: every file is parsed.
  }
  if (file === PRECOMPILED_CATALOG) loaded = map;
  return map;
}

/** Writes validated results by key, sorted so the same catalog always gives the same bytes. */
export function writePrecompiled(entries: ReadonlyMap<string, unknown>, file = PRECOMPILED_CATALOG): void {
  const sorted = Object.fromEntries([...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  writeFileSync(file, `${JSON.stringify({ format: FORMAT, entries: sorted } satisfies Stored)}\n`);
}
