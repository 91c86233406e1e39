import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dice, Explainer, explainLine } from '../../../src/explain/match.js';
import { causeOf, explainDocument, fixOf } from '../../../src/explain/report.js';
import type { Catalog } from '../../../src/scenarios/catalog.js';
import { scenarioSchemas, type ScenarioData } from '../../../src/scenarios/schema.js';

/** A catalog in memory: the one-way flow and the scenarios a test needs. */
function catalogOf(...scenarios: object[]): Catalog {
  return {
    dirs: [],
    flows: new Map([['one-way', { title: 'One-way', command: ['--url=https://localhost:8220', '--certificate-authorities=/path/to/fleet-ca'] }]]),
    scenarios: scenarios.map((s) => scenarioSchemas().ScenarioFile.parse(s)),
  };
}

const OK = { ok: true };
function scenario(id: string, logs: Record<string, unknown>, extra: Partial<ScenarioData> = {}, leg = 'agent->fleet-server') {
  return { id, title: `title of ${id}`, flow: 'one-way', expect: { 'agent->fleet-server': OK, 'fleet-server->elasticsearch': OK, [leg]: { ok: false, logs } }, ...extra };
}

const UNKNOWN_CA = 'fail to enroll: fail to execute request to fleet-server: x509: certificate signed by unknown authority';
const catalog = catalogOf(
  scenario('agent.unknown-ca', { agent: UNKNOWN_CA, 'fleet-server': 'http: TLS handshake error from {address}: remote error: tls: bad certificate' }, { flags: { 'certificate-authorities': null } }),
  scenario('agent.expired', {
    agent: 'fail to enroll: fail to execute request to fleet-server: x509: certificate has expired or is not yet valid: current time {any} is after {any}',
    'fleet-server': 'http: TLS handshake error from {address}: remote error: tls: bad certificate',
  }, { flags: { 'fleet-server-cert': '/path/to/x' }, certificates: { x: { from: 'fleet-cert', notAfter: '-1d' } } }),
  scenario('output.unknown-ca', { agent: 'Error dialing x509: certificate signed by unknown authority' }, {}, 'agent->elasticsearch'),
  scenario('agent.no-cert', {
    agent: { '1.2': 'fail to enroll: fail to execute request to fleet-server: remote error: tls: bad certificate', '1.3': 'fail to enroll: fail to execute request to fleet-server: remote error: tls: certificate required' },
  }, { flags: { 'elastic-agent-cert': null } }),
  scenario('es.cn-only', { 'fleet-server': 'Fleet Server failed: x509: certificate relies on legacy Common Name field, use SANs instead' }, {
    alsoSeenAs: ['x509: certificate relies on legacy Common Name field, use SANs or temporarily enable Common Name matching with GODEBUG=x509ignoreCN=0'],
    emulates: 'Go 1.17 and later',
  }, 'fleet-server->elasticsearch'),
  scenario('agent.vague', { agent: 'fail to enroll: {any}\nExiting' }),
);
const explainer = new Explainer(catalog);
const top = (line: string) => explainer.explain(line).matches[0];

describe('Explainer.explain', () => {
  it('scores the same line 1, whatever its timestamp, level and CLI prefix', () => {
    for (const line of [UNKNOWN_CA, `Error: ${UNKNOWN_CA}`, `2025-01-01T10:00:00.000Z ERROR ${UNKNOWN_CA}`]) {
      expect(top(line)).toMatchObject({ scenario: { id: 'agent.unknown-ca' }, kind: 'exact', score: 1, olderWording: false });
    }
  });

  it('scores the same error relayed another way 0.9: the agent\'s retry line against its final error', () => {
    expect(top('Error detected: fail to execute request to fleet-server: x509: certificate signed by unknown authority, will retry in a moment.'))
      .toMatchObject({ scenario: { id: 'agent.unknown-ca' }, kind: 'wrapper', score: 0.9 });
  });

  it('lists a fragment under every scenario that holds it, the agent\'s own enrollment first, and never across legs', () => {
    const { matches } = explainer.explain('x509: certificate signed by unknown authority');
    // The bare error covers the agent's enrollment error (its own wrapper aside) as fully as Beats' line.
    expect(matches.map((m) => [m.scenario.id, m.kind, m.score])).toEqual([['agent.unknown-ca', 'contains', 0.8], ['output.unknown-ca', 'contains', 0.8]]);
    expect(explainer.explain(`Error: ${UNKNOWN_CA}`).matches.map((m) => m.scenario.id)).not.toContain('output.unknown-ca');
    expect(explainer.explain('Error dialing x509: certificate signed by unknown authority').matches.map((m) => m.scenario.id)).toEqual(['output.unknown-ca']);
  });

  it('matches another release\'s wording (alsoSeenAs) 0.03 below the current one, and says so', () => {
    const older = top('Fleet Server - Error - x509: certificate relies on legacy Common Name field, use SANs or temporarily enable Common Name matching with GODEBUG=x509ignoreCN=0');
    expect(older).toMatchObject({ scenario: { id: 'es.cn-only' }, kind: 'wrapper', score: 0.87, olderWording: true });
    expect(top('x509: certificate relies on legacy Common Name field, use SANs or temporarily enable Common Name matching with GODEBUG=x509ignoreCN=0'))
      .toMatchObject({ kind: 'exact', score: 0.97, olderWording: true });
    expect(top('Fleet Server failed: x509: certificate relies on legacy Common Name field, use SANs instead')).toMatchObject({ score: 1, olderWording: false });
  });

  it('gives equal scores to the scenario that changes its flow least, then to the catalog\'s order', () => {
    const { matches } = explainer.explain('http: TLS handshake error from 10.3.0.179:18013: remote error: tls: bad certificate');
    expect(matches.map((m) => [m.scenario.id, m.score])).toEqual([['agent.unknown-ca', 1], ['agent.expired', 1]]);
    const reversed = new Explainer({ ...catalog, scenarios: [...catalog.scenarios].reverse() }).explain('http: TLS handshake error from [::1]:5: remote error: tls: bad certificate');
    expect(reversed.matches.map((m) => m.scenario.id)).toEqual(['agent.unknown-ca', 'agent.expired']);
  });

  it('charges a template for the text its {any} takes, so a vague template never outranks a precise one', () => {
    const expired = top('Error: fail to enroll: fail to execute request to fleet-server: x509: certificate has expired or is not yet valid: current time 2026-11-28T06:50:08Z is after 2026-11-27T06:50:08Z');
    expect(expired).toMatchObject({ scenario: { id: 'agent.expired' }, kind: 'exact' });
    expect(expired!.score).toBeGreaterThan(0.95);
    const vague = explainer.explain('fail to enroll: fail to execute request to fleet-server: EOF').matches;
    expect(vague.map((m) => m.scenario.id)).toEqual(['agent.vague']);
    expect(vague[0]!.score).toBeLessThan(0.8);
  });

  it('ignores template lines with fewer than two words of their own (Exiting)', () => {
    expect(explainer.explain('Exiting').matches).toEqual([]);
  });

  it('records the TLS version of a per-version line, and the reproduce command asks for it', () => {
    const found = explainer.explain('Error: fail to enroll: fail to execute request to fleet-server: remote error: tls: certificate required');
    expect(found.matches[0]).toMatchObject({ scenario: { id: 'agent.no-cert' }, template: { origin: { kind: 'log', tls: '1.3', component: 'agent' } } });
    expect(explainDocument(catalog, found, { catalogArgs: ['my catalog'] }).matches[0]!.reproduce).toBe("fleet-tls run agent.no-cert --tls 1.3 --catalog 'my catalog'");
  });

  it('finds nothing for an unrelated line and offers at most three closest scenarios, most similar first', () => {
    const { matches, closest } = explainer.explain('http: TLS handshake error from 10.3.0.179:18013: read tcp 10.3.2.43:8220->10.3.0.179:18013: i/o timeout');
    expect(matches).toEqual([]);
    expect(closest.map((m) => m.scenario.id).slice(0, 2)).toEqual(['agent.unknown-ca', 'agent.expired']);
    expect(closest.length).toBeLessThanOrEqual(3);
    expect(closest.every((m) => m.kind === 'similar' && m.score > 0 && m.score < 0.5)).toBe(true);
    expect(explainer.explain('zzz qqq').closest).toEqual([]);
  });

  it('gives the same answer whatever the addresses and times in the line', () => {
    const base = explainLine(catalog, 'http: TLS handshake error from 10.0.0.1:1: remote error: tls: bad certificate');
    fc.assert(fc.property(fc.ipV4(), fc.integer({ min: 1, max: 65535 }), (ip, port) => {
      const other = explainer.explain(`http: TLS handshake error from ${ip}:${port}: remote error: tls: bad certificate`);
      expect(other.matches.map((m) => [m.scenario.id, m.score, m.kind])).toEqual(base.matches.map((m) => [m.scenario.id, m.score, m.kind]));
    }), { numRuns: 200 });
  });

  it('never throws, whatever is pasted', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => {
      const { matches, closest } = explainer.explain(text);
      expect(matches.length + closest.length).toBeGreaterThanOrEqual(0);
    }), { numRuns: 500 });
  });
});

describe('dice', () => {
  it('is twice the longest common subsequence over both lengths', () => {
    expect(dice(['a', 'b', 'c'], ['a', 'c'])).toBe(0.8);
    expect(dice([], ['a'])).toBe(0);
    expect(dice(['a'], ['a'])).toBe(1);
  });
});

describe('cause and fix before a scenario file has them', () => {
  const [unknownCa, , , , cnOnly] = catalog.scenarios;
  it('takes the cause from the description, else the title', () => {
    expect(causeOf({ ...unknownCa!, description: 'The agent\n  lacks fleet-ca.' })).toBe('The agent lacks fleet-ca.');
    expect(causeOf(cnOnly!)).toBe('title of es.cn-only');
  });

  it('says which flags to restore or correct', () => {
    expect(fixOf(unknownCa!)).toBe('Undo what the scenario changes in the one-way flow: restore --certificate-authorities.');
    expect(fixOf(catalog.scenarios[1]!)).toBe('Undo what the scenario changes in the one-way flow: correct --fleet-server-cert (the scenario sets /path/to/x); use certificates like the flow\'s instead of x.');
    expect(fixOf({ ...unknownCa!, fix: 'Give --certificate-authorities.' })).toBe('Give --certificate-authorities.');
  });
});
