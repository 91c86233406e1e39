import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_HARNESS, loadCatalog } from '../../../src/scenarios/catalog.js';
import { contentKey, precompiled } from '../../../src/scenarios/precompiled.js';

const BUILT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../dist/scenarios/builtin-catalog.json');
const NOTHING = new Map<string, unknown>();

describe('the precompiled built-in catalog', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'fth-precompiled-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('holds every built-in flow and scenario file, as `npm run build` wrote it', async () => {
    const stored = precompiled(BUILT);
    for (const kind of ['flow', 'scenario'] as const) {
      const folder = path.join(BUILTIN_HARNESS, `${kind}s`);
      for (const name of (await readdir(folder)).filter((f) => f.endsWith('.yaml'))) {
        expect(stored.has(contentKey(kind, await readFile(path.join(folder, name), 'utf8'))), `${kind}s/${name}`).toBe(true);
      }
    }
  });

  it('gives the same catalog as parsing every file', () => {
    expect(loadCatalog([BUILTIN_HARNESS], { precompiled: precompiled(BUILT) })).toEqual(loadCatalog([BUILTIN_HARNESS], { precompiled: NOTHING }));
  });

  it('takes a stored result only for the same bytes: an edited copy in a --catalog directory is parsed again', async () => {
    await cp(BUILTIN_HARNESS, dir, { recursive: true });
    const file = path.join(dir, 'scenarios', 'flow.one-way.yaml');
    const original = await readFile(file, 'utf8');
    // A stored result under the file's own key is what the loader returns: the lookup is by content.
    const marked = new Map(precompiled(BUILT));
    const key = contentKey('scenario', original);
    marked.set(key, { ...(marked.get(key) as object), title: 'from the stored result' });
    expect(loadCatalog([dir], { precompiled: marked }).scenarios.find((s) => s.id === 'flow.one-way')?.title).toBe('from the stored result');

    await writeFile(file, original.replace(/^title: .*$/m, 'title: edited by the user'));
    const recorded: string[] = [];
    const catalog = loadCatalog([BUILTIN_HARNESS, dir], { precompiled: marked, record: (k) => recorded.push(k) });
    expect(catalog.scenarios.find((s) => s.id === 'flow.one-way')?.title).toBe('edited by the user');
    expect(recorded).toEqual([contentKey('scenario', await readFile(file, 'utf8'))]);
  });

  it('rejects an edited file that no longer validates, naming the file and key, stored result or not', async () => {
    const file = path.join(dir, 'scenarios', 'flow.mutual.yaml');
    await writeFile(file, (await readFile(path.join(BUILTIN_HARNESS, 'scenarios', 'flow.mutual.yaml'), 'utf8')).replace(/^flow: .*$/m, 'flow: nowhere'));
    expect(() => loadCatalog([dir], { precompiled: precompiled(BUILT) })).toThrow(`${file}: flow: no flow 'nowhere'`);
  });
});
