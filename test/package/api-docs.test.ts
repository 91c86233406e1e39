import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const COMMITTED = path.join(ROOT, 'docs/api');
const TYPEDOC = path.join(ROOT, 'node_modules/typedoc/bin/typedoc');

async function files(dir: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    found.set(path.relative(dir, full), await readFile(full, 'utf8'));
  }
  return found;
}

describe('the API reference in docs/api', () => {
  let out: string | undefined;
  afterAll(async () => {
    if (out) await rm(out, { recursive: true, force: true });
  });

  // typedoc.json treats every warning as an error: an exported name without TSDoc, or a public
  // type that names one the index does not export, fails the generation itself.
  it('is what `npm run docs` generates from the TSDoc of src/index.ts today, every exported name documented', async () => {
    out = await mkdtemp(path.join(tmpdir(), 'fleet-tls-docs-'));
    const generated = await execa(process.execPath, [TYPEDOC, '--out', out], { cwd: ROOT, reject: false, env: { NO_COLOR: '1' } });
    expect(generated.exitCode, `${generated.stdout}\n${generated.stderr}`).toBe(0);
    const fresh = await files(out);
    const committed = await files(COMMITTED);
    expect([...committed.keys()].sort(), 'docs/api is stale: run `npm run docs` and commit it').toEqual([...fresh.keys()].sort());
    for (const [name, text] of fresh) expect(committed.get(name), `docs/api/${name} is stale: run \`npm run docs\` and commit it`).toBe(text);
  }, 600_000);

  it('documents each runtime name the package exports, under its own heading', async () => {
    const reference = await readFile(path.join(COMMITTED, 'README.md'), 'utf8');
    const api = await import('../../src/index.js');
    const undocumented = Object.keys(api).filter((name) => !new RegExp(`^#{2,4} ${name.replaceAll('_', '\\\\_')}(\\(\\))?$`, 'm').test(reference));
    expect(undocumented).toEqual([]);
  });
});
