import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPki } from '../../src/api.js';
import { parseInstallFlags } from '../../src/flows/install-flags.js';
import { planInstall } from '../../src/flows/install-plan.js';
import { flowConfig, selfSignedFleetServer } from '../../src/flows/install.js';
import { runFlow } from '../../src/flows/flow.js';
import type { Pki } from '../../src/pki/store.js';
import { legKey, type Leg } from '../../src/report/leg.js';
import { legView } from '../../src/report/html/model.js';
import { cliInProcess } from '../helpers/cli.js';
import { explainLine } from '../../src/explain/match.js';
import { loadCatalog } from '../../src/scenarios/catalog.js';
import { runScenarios, type ScenarioResult } from '../../src/scenarios/run.js';
import { scratchDir } from '../helpers/pki.js';
import { freePort } from '../helpers/net.js';

/** After enrollment the policy takes over: the agent's next connection and Fleet Server's output test, over real sockets. */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let dir: string;
let cleanup: () => Promise<void>;
let certs: string;
let pki: Pki;

beforeAll(async () => {
  ({ dir, cleanup } = await scratchDir());
  certs = path.join(dir, 'certs');
  pki = await createPki({ dir: certs });
}, 60_000);
afterAll(async () => cleanup?.());

/** A remote agent (no --fleet-server-es): it tests the policy's Fleet Server host before applying it. */
const REMOTE = [
  '--url=https://localhost:8220', '--certificate-authorities=/path/to/fleet-ca',
  '--fleet-server-cert=/path/to/fleet-cert', '--fleet-server-cert-key=/path/to/fleet-cert-key',
  '--fleet-server-es-ca=/path/to/es-ca', '--fleet-server-port=0',
];

async function flow(argv: readonly string[]) {
  const plan = planInstall(parseInstallFlags([...argv, '--tls=1.3']), { pki, makeSelfSigned: selfSignedFleetServer });
  return runFlow(flowConfig(plan, 'ephemeral'));
}

const byKey = (legs: readonly Leg[], key: string) => legs.find((l) => legKey(l) === key);
const DISPATCH = 'Failed to dispatch action id "policy:fleet-server-policy:1:1" of type "POLICY_CHANGE", error: failed to validate Fleet client config: ' +
  'validating fleet client config: fail to communicate with Fleet Server API client hosts: all hosts failed: requester 0/1 to host https://localhost:8220/ errored: ' +
  'Get "https://localhost:8220/api/status?": ';

describe('the agent applying its policy', () => {
  it('tests a Fleet Server host that trusts another CA, is refused by its own verification, applies nothing and starts no Beats', async () => {
    const result = await flow([...REMOTE, '--policy-fleet-ca=/path/to/agent-ca']);
    expect(result.legs.map((l) => [legKey(l), l.ok])).toEqual([
      ['agent->fleet-server', true], ['fleet-server->elasticsearch', true], ['agent->fleet-server (policy)', false],
      ['fleet-server->elasticsearch (policy)', true], ['agent->elasticsearch', false],
    ]);
    expect(byKey(result.legs, 'agent->fleet-server (policy)')).toMatchObject({
      stage: 'policy', rejectedBy: 'client', phase: 'handshake', alert: 'bad_certificate',
      logs: { agent: `${DISPATCH}x509: certificate signed by unknown authority` },
    });
    expect(byKey(result.legs, 'agent->fleet-server (policy)')!.logs['fleet-server']).toMatch(/^http: TLS handshake error from 127\.0\.0\.1:\d+: remote error: tls: bad certificate$/);
    expect(byKey(result.legs, 'agent->elasticsearch')!.skipped).toBe('the agent could not apply its policy (its Fleet Server settings failed their test), so its Beats never started');
    // The policy was not applied: no acknowledgement, no "Policy change done".
    expect(result.logs.agent.find('Policy change done')).toEqual([]);
  });

  it('keeps --certificate-authorities for a Fleet Server host without a CA, tests it with GET /api/status and acknowledges the action', async () => {
    const result = await flow([...REMOTE, '--policy-fleet-url=https://127.0.0.1:8220']);
    expect(byKey(result.legs, 'agent->fleet-server (policy)')).toMatchObject({
      ok: true, url: 'https://127.0.0.1:8220/api/status', http: { method: 'GET', path: '/api/status', status: 200 },
      logs: { agent: 'Policy change done, setting agent log level to info' },
    });
    expect(result.logs.agent.entries.map((e) => e.message)).toContain('Policy change done, setting agent log level to info');
    expect(byKey(result.legs, 'agent->elasticsearch')!.ok).toBe(true);
  });

  it('goes through a proxy only the policy names, with the proxy as a (policy) hop of its own', async () => {
    const result = await flow([...REMOTE, '--policy-fleet-proxy-url=http://127.0.0.1:3128']);
    const hop = byKey(result.legs, 'agent->proxy (policy)')!;
    expect(hop).toMatchObject({ ok: true, stage: 'policy', http: { method: 'CONNECT', path: 'localhost:8220', status: 200 } });
    expect(hop.logs.proxy!.split('\n').slice(0, 2)).toEqual(['Connect (file descriptor 5): 127.0.0.1', 'Request (file descriptor 5): CONNECT localhost:8220 HTTP/1.1']);
    expect(byKey(result.legs, 'agent->fleet-server (policy)')).toMatchObject({ ok: true, via: 'proxy' });
    // Enrollment went direct: no hop before the policy.
    expect(byKey(result.legs, 'agent->proxy')).toBeUndefined();
  });

  it('fails in Go\'s words when the policy\'s proxy wants credentials it does not give', async () => {
    const result = await flow([...REMOTE, '--policy-fleet-proxy-url=http://127.0.0.1:3128', '--proxy-require-auth=agent:secret']);
    expect(byKey(result.legs, 'agent->proxy (policy)')).toMatchObject({
      ok: false, rejectedBy: 'server', phase: 'http', http: { method: 'CONNECT', path: 'localhost:8220', status: 407 },
      logs: { agent: `${DISPATCH}Proxy Authentication Required` },
    });
    expect(byKey(result.legs, 'agent->fleet-server (policy)')!.skipped).toBe('the proxy did not open a connection to Fleet Server');
  });
});

describe('Fleet Server once it has its policy', () => {
  const BOOTSTRAPPED = [
    '--url=https://localhost:8220', '--certificate-authorities=/path/to/fleet-ca', '--fleet-server-es=https://localhost:9200',
    '--fleet-server-es-ca=/path/to/es-ca', '--fleet-server-cert=/path/to/fleet-cert', '--fleet-server-cert-key=/path/to/fleet-cert-key',
    '--fleet-server-service-token=FLEET-SERVER-SERVICE-TOKEN', '--fleet-server-port=0',
  ];

  it('tests an output with another CA on a new connection, warns, keeps its bootstrap and stays HEALTHY', async () => {
    const result = await flow([...BOOTSTRAPPED, '--policy-output-ca=/path/to/fleet-ca']);
    const test = byKey(result.legs, 'fleet-server->elasticsearch (policy)')!;
    expect(test).toMatchObject({
      ok: false, rejectedBy: 'client', phase: 'handshake', alert: 'bad_certificate',
      logs: { 'fleet-server': 'failed to fetch elasticsearch version: x509: certificate signed by unknown authority\n' +
        'Failed Elasticsearch output configuration test, using bootstrap values.: x509: certificate signed by unknown authority' },
    });
    expect(test.logs.elasticsearch!.split('\n')[1]).toBe('io.netty.handler.codec.DecoderException: javax.net.ssl.SSLHandshakeException: (bad_certificate) Received fatal alert: bad_certificate');
    expect(result.fleetServerState).toBe('HEALTHY');
    expect(result.logs.fleetServer.entries.filter((e) => e.level === 'warn').map((e) => [e.message, e.fields?.['error.message']])).toEqual([
      ['Failed Elasticsearch output configuration test, using bootstrap values.: x509: certificate signed by unknown authority', 'x509: certificate signed by unknown authority'],
    ]);
    // Its own connection is a new one, not the bootstrap's kept-alive connection.
    expect(test.timeline?.[0]?.what).toBe('ClientHello');
  });

  it('moves onto an output without a CA by taking the CA from its bootstrap, while the agents, which use the output as it is, fail', async () => {
    const result = await flow([...BOOTSTRAPPED, '--policy-output-ca=none']);
    expect(byKey(result.legs, 'fleet-server->elasticsearch (policy)')).toMatchObject({ ok: true, logs: { 'fleet-server': 'Server configuration update\noutput configuration has changed' } });
    expect(byKey(result.legs, 'agent->elasticsearch')).toMatchObject({ ok: false, rejectedBy: 'client', alert: 'bad_certificate' });
  });

  it('tests its policy output through the SOCKS5 proxy the policy names, and the agents ship through it too', async () => {
    const result = await flow([...BOOTSTRAPPED, '--policy-output-proxy-url=socks5://127.0.0.1:1080']);
    expect(byKey(result.legs, 'fleet-server->elasticsearch (policy)')).toMatchObject({ ok: true, via: 'proxy', logs: { 'fleet-server': 'Server configuration update\noutput configuration has changed' } });
    expect(byKey(result.legs, 'agent->elasticsearch')).toMatchObject({ ok: true, via: 'proxy', logs: { agent: 'Connection to backoff(elasticsearch(https://localhost:9200)) established' } });
  });

  it('an agent that runs Fleet Server keeps --url whatever the policy\'s host says, and acknowledges the policy there', async () => {
    const result = await flow([...BOOTSTRAPPED, '--policy-fleet-ca=/path/to/agent-ca', '--policy-fleet-url=https://fleet.example.com:8220']);
    const leg = byKey(result.legs, 'agent->fleet-server (policy)')!;
    expect(leg.ok).toBe(true);
    expect(leg.url).toMatch(/^https:\/\/localhost:8220\/api\/fleet\/agents\/[0-9a-f-]{36}\/acks$/);
    expect(leg.http).toMatchObject({ method: 'POST', status: 200 });
  });
});

describe('behind a proxy that ends the agent\'s or Fleet Server\'s TLS, the policy\'s connections end there too', () => {
  const IDS = ['policy.secure-proxy-fleet-host-another-ca', 'policy.intercept-policy-keeps-proxy', 'policy.intercept-policy-proxy-does-not-inspect', 'policy.es-secure-proxy-output-test'];
  let runs: ScenarioResult[] = [];
  beforeAll(async () => {
    const catalog = loadCatalog();
    runs = await runScenarios(catalog, catalog.scenarios.filter((s) => IDS.includes(s.id)), pki, { versions: ['1.3'] });
  }, 60_000);
  const run = (id: string) => runs.find((r) => r.id === id)!;
  const sequence = (id: string) => run(id).legs.map((l) => [legKey(l), l.ok]);

  it('a secure proxy in front of Fleet Server: the agent refuses the proxy\'s certificate with the policy\'s CA, nginx logs the alert, nothing is forwarded', () => {
    expect(sequence(IDS[0]!)).toEqual([
      ['agent->proxy', true], ['proxy->fleet-server', true], ['fleet-server->elasticsearch', true],
      ['agent->proxy (policy)', false], ['proxy->fleet-server (policy)', false], ['fleet-server->elasticsearch (policy)', true], ['agent->elasticsearch', false],
    ]);
    const leg = byKey(run(IDS[0]!).legs, 'agent->proxy (policy)')!;
    expect(leg).toMatchObject({ rejectedBy: 'client', phase: 'handshake', alert: 'bad_certificate', serverCertificate: { issuer: 'CN=fleet-ca,O=fleet-tls-harness' } });
    expect(leg.logs.agent).toMatch(/^Failed to dispatch action id "policy:[^"]+" of type "POLICY_CHANGE", error: .*x509: certificate signed by unknown authority$/);
    expect(leg.logs.proxy).toMatch(/^SSL_do_handshake\(\) failed \(SSL: error:0A000412:SSL routines::sslv3 alert bad certificate:SSL alert number 42\) while SSL handshaking, client: 127\.0\.0\.1, server: 127\.0\.0\.1:\d+$/);
    // The agent refused the proxy: no request reached it, and it answered nobody.
    expect(byKey(run(IDS[0]!).legs, 'proxy->fleet-server (policy)')!.skipped).toBe('The agent refused the proxy in the TLS handshake, so no request reached the proxy to pass on');
  });

  it('an intercepting proxy the policy keeps: its checkin verifies a minted certificate again, and the proxy verifies Fleet Server\'s', () => {
    expect(sequence(IDS[1]!)).toEqual([
      ['agent->proxy', true], ['proxy->fleet-server', true], ['fleet-server->elasticsearch', true],
      ['agent->proxy (policy)', true], ['proxy->fleet-server (policy)', true], ['fleet-server->elasticsearch (policy)', true], ['agent->elasticsearch', true],
    ]);
    const legs = run(IDS[1]!).legs;
    expect(byKey(legs, 'agent->proxy (policy)')).toMatchObject({ http: { method: 'GET', path: '/api/status', status: 200 }, serverCertificate: { issuer: 'CN=Example Corp TLS Inspection CA,O=fleet-tls-harness' } });
    expect(byKey(legs, 'proxy->fleet-server (policy)')).toMatchObject({ serverCertificate: { issuer: 'CN=fleet-ca,O=fleet-tls-harness' }, clientCertificate: { presented: false } });
  });

  it('a policy proxy that does not intercept: the agent meets Fleet Server\'s own certificate through the tunnel and refuses it', () => {
    expect(sequence(IDS[2]!)).toEqual([
      ['agent->proxy', true], ['proxy->fleet-server', true], ['fleet-server->elasticsearch', true],
      ['agent->proxy (policy)', true], ['agent->fleet-server (policy)', false], ['fleet-server->elasticsearch (policy)', true], ['agent->elasticsearch', false],
    ]);
    const legs = run(IDS[2]!).legs;
    expect(byKey(legs, 'agent->proxy (policy)')).toMatchObject({ http: { method: 'CONNECT', status: 200 } });
    expect(byKey(legs, 'agent->proxy (policy)')!.logs.proxy!.split('\n')[1]).toBe('Request (file descriptor 5): CONNECT localhost:8220 HTTP/1.1');
    expect(byKey(legs, 'agent->fleet-server (policy)')).toMatchObject({ via: 'proxy', rejectedBy: 'client', alert: 'bad_certificate', serverCertificate: { issuer: 'CN=fleet-ca,O=fleet-tls-harness' } });
  });

  it('a secure proxy in front of Elasticsearch: Fleet Server\'s output test is labelled by where it goes, fleet-server->proxy (policy), and the proxy forwards nothing after the refusal', () => {
    expect(sequence(IDS[3]!)).toEqual([
      ['agent->fleet-server', true], ['fleet-server->proxy', true], ['proxy->elasticsearch', true],
      ['agent->fleet-server (policy)', true], ['fleet-server->proxy (policy)', false], ['proxy->elasticsearch (policy)', false], ['agent->elasticsearch', false],
    ]);
    const legs = run(IDS[3]!).legs;
    expect(byKey(legs, 'fleet-server->proxy (policy)')).toMatchObject({
      rejectedBy: 'client', alert: 'bad_certificate',
      logs: { 'fleet-server': 'failed to fetch elasticsearch version: x509: certificate signed by unknown authority\n' +
        'Failed Elasticsearch output configuration test, using bootstrap values.: x509: certificate signed by unknown authority' },
    });
    expect(byKey(legs, 'proxy->elasticsearch (policy)')!.skipped).toBe('Fleet Server refused the proxy in the TLS handshake, so no request reached the proxy to pass on');
  });
});

describe('the report', () => {
  it('names the policy legs apart in the HTML model and the text report', async () => {
    const result = await flow([...REMOTE]);
    expect(result.legs.map((l) => legView(l).key)).toEqual([
      'agent->fleet-server', 'fleet-server->elasticsearch', 'agent->fleet-server (policy)', 'fleet-server->elasticsearch (policy)', 'agent->elasticsearch',
    ]);
  });

  it('prints what README.md shows for the policy sequence (a line ending in … is a prefix)', async () => {
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    const block = [...readme.matchAll(/```console\n([\s\S]*?)```/g)].map((m) => m[1]!).find((b) => b.includes('--policy-output-ca'))!;
    // Elasticsearch listens where --fleet-server-es says: a free port instead of 9200, in the command and in what it prints.
    const es = String(await freePort());
    const [command, ...shown] = block.replace(/\\\n\s*/g, ' ').replaceAll('9200', es).trimEnd().split('\n');
    const args = command!.replace(/^\$ node dist\/cli\/bin\.js /, '').split(/\s+/);
    const { status, out } = await cliInProcess([...args, '--certs', certs], dir);
    expect(status).toBe(1);
    const printed = out.split('\n');
    let at = 0;
    for (const line of shown) {
      const found = printed.findIndex((p, i) => i >= at && (line.endsWith('…') ? p.startsWith(line.slice(0, -1)) : p === line));
      expect(found, line).toBeGreaterThanOrEqual(0);
      at = found + 1;
    }
  });
});

describe('explain', () => {
  it.each([
    ['Failed to dispatch action id "policy:4a1e3b00-9c8f-11ee-b9d1-0242ac120002:3:1" of type "POLICY_CHANGE", error: failed to validate Fleet client config: validating fleet client config: ' +
      'fail to communicate with Fleet Server API client hosts: all hosts failed: requester 0/1 to host https://fleet.corp:8220/ errored: Get "https://fleet.corp:8220/api/status?": x509: certificate signed by unknown authority',
    'policy.fleet-host-another-ca', 'agent->fleet-server (policy)'],
    ['Failed to dispatch action id "policy:p1:2:1" of type "POLICY_CHANGE", error: failed to validate Fleet client config: validating fleet client config: ' +
      'fail to communicate with Fleet Server API client hosts: all hosts failed: requester 0/1 to host https://fleet.corp:8220/ errored: Get "https://fleet.corp:8220/api/status?": Proxy Authentication Required',
    'policy.fleet-proxy-wants-credentials', 'agent->proxy (policy)'],
    ['{"log.level":"warn","message":"Failed Elasticsearch output configuration test, using bootstrap values.","error.message":"x509: certificate signed by unknown authority"}',
      'policy.output-another-ca', 'fleet-server->elasticsearch (policy)'],
    ['Failed Elasticsearch output configuration test, using bootstrap values.: EOF', 'policy.output-default-localhost', 'fleet-server->elasticsearch (policy)'],
  ])('recognises %s as the catalog\'s policy scenario', (line, id, leg) => {
    const best = explainLine(loadCatalog(), line).matches[0]!;
    // Behind a secure proxy in front of Elasticsearch the same test fails in the same words, on the leg to the proxy.
    const alike = id === 'policy.output-another-ca' && best.scenario.id === 'policy.es-secure-proxy-output-test';
    expect(alike ? 'policy.output-another-ca' : best.scenario.id).toBe(id);
    expect(best.template.origin).toMatchObject({ kind: 'log', leg: alike ? 'fleet-server->proxy (policy)' : leg });
    if (alike) expect(explainLine(loadCatalog(), line).matches.slice(0, 2).map((m) => m.scenario.id)).toContain(id);
  });
});
