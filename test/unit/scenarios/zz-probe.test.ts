import { it } from 'vitest';
import { cpSync, mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { loadCatalog, BUILTIN_HARNESS, findScenarios } from '../../../src/scenarios/catalog.js';
const base = { id: 'x.y', title: 'T', flow: 'one-way', expect: { 'agent->fleet-server': { ok: true }, 'fleet-server->elasticsearch': { ok: true } } };
it('probe', () => {
  const c = loadCatalog();
  console.log(c.scenarios.map(s => s.id), [...c.flows.keys()]);
  const dir = mkdtempSync(path.join(tmpdir(), 'p-'));
  cpSync(path.join(BUILTIN_HARNESS, 'flows'), path.join(dir, 'flows'), { recursive: true });
  mkdirSync(path.join(dir, 'scenarios'));
  const t = (name: string, content: string) => {
    const f = path.join(dir, 'scenarios', name);
    writeFileSync(f, content);
    try { loadCatalog([dir]); console.log(name, 'OK'); } catch (e) { console.log(name, (e as any).code, JSON.stringify((e as Error).message)); }
    rmSync(f);
  };
  t('x.y.yaml', stringify({ ...base, bogus: 1 }));
  t('x.y.yaml', stringify({ ...base, expect: { ...base.expect, 'agent->fleet-server': { ok: 'yes' } } }));
  t('x.y.yaml', stringify({ ...base, expect: { ...base.expect, 'agent->fleet-server': { ok: true, bogus: 1 } } }));
  t('x.y.yaml', stringify({ ...base, expect: { 'agent->fleet-server': { ok: true } } }));
  t('x.y.yaml', stringify({ ...base, flags: { 'no-such-flag': 'x' } }));
  t('x.y.yaml', stringify({ ...base, flags: { url: 3 } }));
  t('x.z.yaml', stringify(base));
  t('x.y.yaml', stringify({ ...base, flow: 'nope' }));
  t('x.y.yaml', stringify({ ...base, certificates: { leaf: { from: 'fleet-cert', issuer: 'nope-ca' } } }));
  t('x.y.yaml', stringify({ ...base, certificates: { leaf: { from: 'fleet-cert', ca: true } } }));
  t('x.y.yaml', stringify({ ...base, id: 'X Y' }));
  t('x.y.yaml', 'id: [unclosed\ntitle: t\n');
  t('x.y.yaml', 'id: a\n  bad: indent\n');
  t('x.y.yaml', '');
  t('x.y.yaml', stringify({ ...base, expect: { ...base.expect, 'agent->fleet-server': { ok: { '1.2': true } } } }));
  t('x.y.yaml', stringify({ ...base, tls: ['1.4'] }));
  try { findScenarios(c, ['flow']); } catch (e) { console.log((e as Error).message); }
  try { findScenarios(c, ['flow.mutual.x']); } catch (e) { console.log((e as Error).message); }
  rmSync(dir, { recursive: true });
});
