import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { HarnessError } from '../../../src/errors.js';
import { BUILTIN_HARNESS, findScenarios, loadCatalog, type Catalog } from '../../../src/scenarios/catalog.js';

/** A catalog directory with the built-in flows and whatever scenario a test writes. */
let dir: string;
const written: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'fth-unit-catalog-'));
  await cp(path.join(BUILTIN_HARNESS, 'flows'), path.join(dir, 'flows'), { recursive: true });
  await mkdir(path.join(dir, 'scenarios'));
});

afterEach(async () => {
  await Promise.all(written.splice(0).map((f) => rm(f, { force: true })));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
});

const VALID = {
  id: 'agent-fleet.one-way.example',
  title: 'An example',
  flow: 'one-way',
  expect: { 'agent->fleet-server': { ok: true }, 'fleet-server->elasticsearch': { ok: true } },
};

async function scenarioFile(content: string | object, name = `${VALID.id}.yaml`): Promise<string> {
  const file = path.join(dir, 'scenarios', name);
  await writeFile(file, typeof content === 'string' ? content : stringify(content));
  written.push(file);
  return file;
}

function schemaError(): { code: string; message: string } {
  try {
    loadCatalog([dir]);
  } catch (error) {
    expect(error).toBeInstanceOf(HarnessError);
    return { code: (error as HarnessError).code, message: (error as HarnessError).message };
  }
  throw new Error('the catalog loaded without an error');
}

describe('loadCatalog with the built-in catalog', () => {
  it('loads the page\'s two flows and the proxy deployments, and lists the page\'s flow scenarios first, one-way then mutual, then the proxies\'', () => {
    const catalog = loadCatalog();
    expect([...catalog.flows.keys()].sort()).toEqual(['es-secure-proxy', 'forward-proxy', 'forward-proxy-output', 'intercepting-proxy', 'mutual', 'one-way', 'secure-proxy']);
    expect(catalog.scenarios.slice(0, 2).map((s) => s.id)).toEqual(['flow.one-way', 'flow.mutual']);
    expect(catalog.scenarios.slice(2, 7).map((s) => s.id).sort()).toEqual(['flow.es-secure-proxy', 'flow.forward-proxy', 'flow.forward-proxy-output', 'flow.intercepting-proxy', 'flow.secure-proxy']);
    expect(catalog.scenarios.slice(7).every((s) => !s.id.startsWith('flow.'))).toBe(true);
    expect(catalog.dirs).toEqual([BUILTIN_HARNESS]);
  });

  it('has one scenario per file under harness/scenarios, each id its file name', async () => {
    const files = (await readdir(path.join(BUILTIN_HARNESS, 'scenarios'))).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -5));
    expect(loadCatalog().scenarios.map((s) => s.id).sort()).toEqual(files.sort());
  });
});

describe('loadCatalog with a malformed scenario file', () => {
  it('loads a well-formed file from another directory after the built-in ones', async () => {
    await scenarioFile(VALID);
    const catalog = loadCatalog([BUILTIN_HARNESS, dir]);
    expect(catalog.scenarios.at(-1)?.id).toBe(VALID.id);
  });

  it('names the file and an unknown top-level key', async () => {
    const file = await scenarioFile({ ...VALID, expects: {} });
    expect(schemaError()).toEqual({ code: 'FTH_SCENARIO_SCHEMA', message: `${file}: (top level) expects: Unrecognized key: "expects"` });
  });

  it('names the file and an unknown key inside a leg expectation', async () => {
    const file = await scenarioFile({ ...VALID, expect: { ...VALID.expect, 'agent->fleet-server': { ok: true, rejectedby: 'server' } } });
    expect(schemaError()).toEqual({
      code: 'FTH_SCENARIO_SCHEMA',
      message: `${file}: expect.agent->fleet-server rejectedby: Unrecognized key: "rejectedby"`,
    });
  });

  it('names the file and expect.agent->fleet-server.ok when ok is not a boolean', async () => {
    const file = await scenarioFile({ ...VALID, expect: { ...VALID.expect, 'agent->fleet-server': { ok: 'yes' } } });
    expect(schemaError()).toEqual({
      code: 'FTH_SCENARIO_SCHEMA',
      message: `${file}: expect.agent->fleet-server.ok: Invalid input: expected boolean, received string (or one value per TLS version: { '1.2': ..., '1.3': ... })`,
    });
  });

  it('names a missing leg expectation', async () => {
    const file = await scenarioFile({ ...VALID, expect: { 'agent->fleet-server': { ok: true } } });
    expect(schemaError()).toEqual({
      code: 'FTH_SCENARIO_SCHEMA',
      message: `${file}: expect.fleet-server->elasticsearch: required (fleet-server->proxy in its place, behind a secure proxy in front of Elasticsearch)`,
    });
  });

  it('does not offer per-TLS-version values for a key that has none (certificates.*.extendedKeyUsage)', async () => {
    const file = await scenarioFile({ ...VALID, certificates: { leaf: { from: 'fleet-cert', extendedKeyUsage: 'serverAuth' } } });
    const { code, message } = schemaError();
    expect(code).toBe('FTH_SCENARIO_SCHEMA');
    expect(message.startsWith(`${file}: certificates.leaf.extendedKeyUsage: `)).toBe(true);
    expect(message).not.toContain('one value per TLS version');
  });

  it('names the file and the flag when a flag is not one the harness knows', async () => {
    const file = await scenarioFile({ ...VALID, flags: { 'elastic-agent-certificate': '/path/to/agent-cert' } });
    expect(schemaError()).toEqual({ code: 'FTH_SCENARIO_SCHEMA', message: `${file}: flags.elastic-agent-certificate: not an install flag the harness knows` });
  });

  it('names the file when the id does not match the file name', async () => {
    const file = await scenarioFile({ ...VALID, id: 'agent-fleet.one-way.other' });
    expect(schemaError()).toEqual({
      code: 'FTH_SCENARIO_SCHEMA',
      message: `${file}: id: 'agent-fleet.one-way.other' must match the file name 'agent-fleet.one-way.example'`,
    });
  });

  it('names the file when the id is not lowercase words joined by . and -', async () => {
    const file = await scenarioFile({ ...VALID, id: 'Agent Fleet' }, 'Agent Fleet.yaml');
    expect(schemaError()).toEqual({ code: 'FTH_SCENARIO_SCHEMA', message: `${file}: id: lowercase words joined by . and -` });
  });

  it('names the file and lists the known flows when the flow is unknown', async () => {
    const file = await scenarioFile({ ...VALID, flow: 'two-way' });
    expect(schemaError()).toEqual({ code: 'FTH_SCENARIO_SCHEMA', message: `${file}: flow: no flow 'two-way' (known: ${[...loadCatalog().flows.keys()].join(', ')})` });
  });

  it('names a certificate whose issuer is neither a PKI CA nor a CA of the scenario', async () => {
    const file = await scenarioFile({ ...VALID, certificates: { 'fleet-cert-other': { from: 'fleet-cert', issuer: 'rogue-ca' } } });
    expect(schemaError()).toEqual({
      code: 'FTH_SCENARIO_SCHEMA',
      message: `${file}: certificates.fleet-cert-other.issuer: 'rogue-ca' is neither a PKI CA nor a CA defined in this scenario`,
    });
  });

  it('refuses a scenario leaf as an issuer, since only a CA can issue', async () => {
    const file = await scenarioFile({ ...VALID, certificates: { a: { from: 'fleet-cert' }, b: { from: 'fleet-cert', issuer: 'a' } } });
    expect(schemaError().message).toBe(`${file}: certificates.b.issuer: 'a' is neither a PKI CA nor a CA defined in this scenario`);
  });

  it('accepts a PKI CA or a scenario CA as an issuer', async () => {
    await scenarioFile({ ...VALID, certificates: { 'rogue-ca': { ca: true }, a: { from: 'fleet-cert', issuer: 'rogue-ca' }, b: { from: 'agent-cert', issuer: 'es-ca' } } });
    expect(loadCatalog([dir]).scenarios.map((s) => s.id)).toEqual([VALID.id]);
  });

  it('names a certificate that is both from a leaf and a CA', async () => {
    const file = await scenarioFile({ ...VALID, certificates: { odd: { from: 'fleet-cert', ca: true } } });
    expect(schemaError().message).toBe(`${file}: certificates.odd: a certificate is either \`from\` a PKI leaf or \`ca: true\``);
  });

  it('names the file when it is not valid YAML, with the parser\'s first line', async () => {
    const file = await scenarioFile('id: [unclosed\ntitle: t\n');
    expect(schemaError()).toEqual({
      code: 'FTH_SCENARIO_SCHEMA',
      message: `${file}: not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ] at line 2, column 1:`,
    });
  });

  it('names an empty file as a top-level problem', async () => {
    const file = await scenarioFile('');
    expect(schemaError()).toEqual({ code: 'FTH_SCENARIO_SCHEMA', message: `${file}: (top level): Invalid input: expected object, received null` });
  });
});

describe('findScenarios', () => {
  let catalog: Catalog;
  beforeAll(() => {
    catalog = loadCatalog();
  });

  it('returns the whole catalog, in order, when no id is given', () => {
    expect(findScenarios(catalog, [])).toEqual(catalog.scenarios);
  });

  it('returns the scenarios asked for, in the order asked', () => {
    expect(findScenarios(catalog, ['flow.one-way', 'flow.mutual']).map((s) => s.id)).toEqual(['flow.one-way', 'flow.mutual']);
  });

  it('refuses an unknown id with FTH_SCENARIO_UNKNOWN, pointing at `fleet-tls scenarios`', () => {
    let error: unknown;
    try {
      findScenarios(catalog, ['flow.mutual', 'no-such-thing']);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(HarnessError);
    expect([(error as HarnessError).code, (error as HarnessError).message])
      .toEqual(['FTH_SCENARIO_UNKNOWN', "no scenario 'no-such-thing'; `fleet-tls scenarios` lists them"]);
  });

  it('suggests at most three scenarios whose id contains the one given, or whose last part the one given contains', () => {
    const ids = ['flow.mutual', 'flow.one-way', 'flow.extra', 'flow.more', 'agent-fleet.one-way.fleet-cert-expired'];
    const small: Catalog = { dirs: [], flows: new Map(), scenarios: ids.map((id) => ({ ...VALID, id })) };
    expect(() => findScenarios(small, ['flow'])).toThrow("no scenario 'flow' (did you mean flow.mutual, flow.one-way, flow.extra?); `fleet-tls scenarios` lists them");
    expect(() => findScenarios(small, ['fleet-cert-expired@tls1.3']))
      .toThrow("no scenario 'fleet-cert-expired@tls1.3' (did you mean agent-fleet.one-way.fleet-cert-expired?); `fleet-tls scenarios` lists them");
  });
});
