import { beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/scenarios/catalog.js';
import { runScenarios, type ScenarioResult } from '../../src/scenarios/run.js';
import { sharedPki } from '../helpers/pki.js';

const catalog = loadCatalog();
let results: ScenarioResult[] = [];

beforeAll(async () => {
  results = await runScenarios(catalog, catalog.scenarios, await sharedPki());
}, 180_000);

/** What differs between any two runs of the same scenario: ports (dante writes them as `127.0.0.1.PORT`), times, what a scenario issues for itself. */
function normalised(run: readonly ScenarioResult[]): unknown[] {
  return JSON.parse(JSON.stringify(run.map(({ durationMs: _ms, ...r }) => r), (key, value: unknown) => {
    if (key === 'at' && typeof value === 'number') return 0;
    // Certificates a scenario issues for itself are new in every run, and so is its scratch directory.
    if ((key === 'sha256' || key === 'notAfter' || key === 'notBefore') && typeof value === 'string') return 'FRESH';
    if (typeof value !== 'string') return value;
    return value.replace(/(127\.0\.0\.1|\[::1\]|localhost):\d+/g, '$1:PORT').replace(/\b127\.0\.0\.1\.\d+/g, '127.0.0.1.PORT').replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/g, 'TIME')
      // squid's access.log elapsed column and HAProxy's check duration are times too.
      .replace(/^ *\d+(?= \d+\.\d+\.\d+\.\d+ [A-Z_]+\/\d{3} )/gm, 'ELAPSED').replace(/( [A-Z_]+\/\d{3}) \d+ /g, '$1 BYTES ').replace(/check duration: \d+ms/g, 'check duration: Nms')
      // dante's session duration is a time too (a loaded machine crosses a second now and then).
      .replace(/Session duration: \d+s/g, 'Session duration: Ns')
      .replace(/\b[0-9a-f]{64}\b/g, 'FINGERPRINT').replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g, 'AGENT-ID').replace(/fleet-tls-run-[\w-]+/g, 'fleet-tls-run-DIR')
      // tinyproxy's file descriptors number the connections the proxy process has open, which sharing changes.
      .replace(/file descriptor \d+/g, 'file descriptor N').replace(/\(fd:\d+\)/g, '(fd:N)');
  })) as unknown[];
}

const result = (id: string, tls: '1.2' | '1.3') => results.find((r) => r.id === id && r.tls === tls)!;
const leg = (r: ScenarioResult, from: string) => r.legs.find((l) => l.from === from)!;

describe('the built-in catalog', () => {
  it('holds both flows of Elastic\'s page first, then the failures issue 2 lists', () => {
    const ids = catalog.scenarios.map((s) => s.id);
    expect(ids.slice(0, 2).sort()).toEqual(['flow.mutual', 'flow.one-way']);
    expect(ids).toEqual(expect.arrayContaining([
      'agent-fleet.one-way.agent-lacks-fleet-ca',
      'agent-fleet.one-way.fleet-cert-wrong-host',
      'agent-fleet.one-way.fleet-cert-expired',
      'agent-fleet.mutual.agent-has-no-cert',
      'agent-fleet.mutual.agent-cert-untrusted-ca',
      'fleet-es.one-way.fleet-lacks-es-ca',
      'fleet-es.one-way.es-requires-client-cert',
    ]));
  });

  it('covers issue 3: at least 35 scenarios, each with a cause and a fix, over all three legs', () => {
    expect(catalog.scenarios.length).toBeGreaterThanOrEqual(35);
    for (const s of catalog.scenarios) expect({ id: s.id, cause: Boolean(s.cause), fix: Boolean(s.fix) }).toEqual({ id: s.id, cause: true, fix: true });
    const failing = (key: 'agent->fleet-server' | 'fleet-server->elasticsearch' | 'agent->elasticsearch') =>
      catalog.scenarios.filter((s) => s.expect[key]?.ok === false && !s.expect[key]?.skipped).length;
    expect(failing('agent->fleet-server')).toBeGreaterThanOrEqual(15);
    expect(failing('fleet-server->elasticsearch')).toBeGreaterThanOrEqual(10);
    expect(failing('agent->elasticsearch')).toBeGreaterThanOrEqual(3);
  });

  it.each(catalog.scenarios.flatMap((s) => (s.tls ?? (['1.2', '1.3'] as const)).map((tls) => [s.id, tls] as const)))(
    '%s under TLS %s behaves as its file expects',
    (id, tls) => {
      const r = result(id, tls);
      expect(r.mismatches).toEqual([]);
      expect(r.pass).toBe(true);
      // Scenarios that set supported_protocols decide their versions themselves.
      if (!catalog.scenarios.find((s) => s.id === id)!.settings) for (const l of r.legs) if (l.tls) expect(l.tls.version).toBe(tls);
    },
  );
});

describe('scenarios whose components\' settings are equal share one Elasticsearch and Fleet Server', () => {
  // The run above shared them (the default); this one gives every scenario a pair of its own.
  it('and each report is the one a pair of its own gives, leg by leg and line by line', async () => {
    const own = await runScenarios(catalog, catalog.scenarios, await sharedPki(), { shareComponents: false });
    expect(own.map((r) => `${r.id} ${r.tls}`)).toEqual(results.map((r) => `${r.id} ${r.tls}`));
    const shared = normalised(results);
    const alone = normalised(own);
    for (let i = 0; i < shared.length; i++) expect(shared[i], `${results[i]!.id} under TLS ${results[i]!.tls}`).toEqual(alone[i]);
    // The whole catalog again, unshared: it grows with every topology, and the suite shares two cores.
  }, 240_000);
});

describe('what the files do not spell out', () => {
  it('the mutual flow has a client certificate on both legs, each issued by the CA its server trusts', () => {
    for (const tls of ['1.2', '1.3'] as const) {
      const r = result('flow.mutual', tls);
      expect(leg(r, 'agent').clientCertificate).toMatchObject({ presented: true, subject: 'CN=elastic-agent,O=fleet-tls-harness' });
      expect(leg(r, 'fleet-server').clientCertificate).toMatchObject({ presented: true, subject: 'CN=fleet-server,O=fleet-tls-harness' });
      expect(leg(r, 'agent').serverCertificate?.issuer).toBe('CN=fleet-ca,O=fleet-tls-harness');
      expect(leg(r, 'fleet-server').serverCertificate?.issuer).toBe('CN=es-ca,O=fleet-tls-harness');
    }
  });

  it('in TLS 1.3 Fleet Server refuses a missing client certificate after the agent sent its Finished', () => {
    const timeline = leg(result('agent-fleet.mutual.agent-has-no-cert', '1.3'), 'agent').timeline!;
    const clientFinished = timeline.findIndex((e) => e.sender === 'client' && e.what === 'Finished');
    const alert = timeline.findIndex((e) => e.sender === 'server' && e.what === 'Alert');
    expect(clientFinished).toBeGreaterThan(-1);
    expect(alert).toBeGreaterThan(clientFinished);
    expect(timeline[alert]!.detail).toMatchObject({ description: 116, encrypted: true, emulated: false });
  });

  it('in TLS 1.2 the same refusal comes before Fleet Server\'s Finished, in the clear', () => {
    const timeline = leg(result('agent-fleet.mutual.agent-has-no-cert', '1.2'), 'agent').timeline!;
    const alert = timeline.find((e) => e.sender === 'server' && e.what === 'Alert');
    expect(alert?.detail).toMatchObject({ description: 42, encrypted: false });
    expect(timeline.some((e) => e.sender === 'server' && e.what === 'Finished')).toBe(false);
  });

  it('an agent certificate from an untrusted CA leaves as an empty Certificate message, as Go sends it', () => {
    for (const tls of ['1.2', '1.3'] as const) {
      const agentLeg = leg(result('agent-fleet.mutual.agent-cert-untrusted-ca', tls), 'agent');
      expect(agentLeg.clientCertificate?.why).toMatch(/^withheld, as Go does: its issuer CN=rogue-ca,O=fleet-tls-harness is not among the CAs the server asked for \(CN=fleet-ca,O=fleet-tls-harness; CN=agent-ca,O=fleet-tls-harness\)$/);
      expect(agentLeg.timeline!.some((e) => e.sender === 'client' && e.what === 'Certificate')).toBe(true);
      expect(agentLeg.timeline!.some((e) => e.sender === 'client' && e.what === 'CertificateVerify')).toBe(false);
    }
  });

  it('the agent refusing a certificate sends bad_certificate during the handshake, before its Finished', () => {
    const timeline = leg(result('agent-fleet.one-way.agent-lacks-fleet-ca', '1.3'), 'agent').timeline!;
    const alert = timeline.find((e) => e.sender === 'client' && e.what === 'Alert');
    expect(alert?.detail).toMatchObject({ description: 42, encrypted: true, emulated: true });
    expect(timeline.some((e) => e.sender === 'client' && e.what === 'Finished')).toBe(false);
  });
});
