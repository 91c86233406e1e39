import { describe, expect, it } from 'vitest';
import { Explainer } from '../../src/explain/match.js';
import { loadCatalog, type Catalog } from '../../src/scenarios/catalog.js';
import { runScenarios } from '../../src/scenarios/run.js';
import { cliInProcess } from '../helpers/cli.js';
import { sharedPki } from '../helpers/pki.js';

/**
 * Every TLS entry of reference/failure-messages.md, verbatim as users pasted it (copied here:
 * the reference directory is not part of the repository), with the scenario that reproduces it.
 * The built-in catalog answers.
 */
const FAILURE_MESSAGES: ReadonlyArray<readonly [entry: string, line: string, scenario: string]> = [
  ['C1', 'Error: fail to enroll: fail to execute request to fleet-server: x509: certificate signed by unknown authority', 'agent-fleet.one-way.agent-lacks-fleet-ca'],
  ['C2', 'Error: fail to enroll: fail to execute request to fleet-server: x509: certificate signed by unknown authority', 'agent-fleet.one-way.agent-lacks-fleet-ca'],
  ['C4', 'Error dialing x509: certificate signed by unknown authority', 'output.one-way.output-lacks-es-ca'],
  ['C6', 'Fleet Server - Error - x509: certificate relies on legacy Common Name field, use SANs or temporarily enable Common Name matching with GODEBUG=x509ignoreCN=0', 'fleet-es.one-way.es-cert-cn-only-strict'],
  ['C11', 'Error: fail to enroll: fail to execute request to fleet-server: http: server gave HTTP response to HTTPS client', 'agent-fleet.plain-http.https-to-http-fleet-server'],
  ['C15', 'http: TLS handshake error from 10.3.0.179:18013: read tcp 10.3.2.43:8220->10.3.0.179:18013: i/o timeout\\n', 'agent-fleet.network.handshake-read-timeout'],
  ['C16', "http: TLS handshake error from <ip>:<port>: tls: client didn't provide a certificate", 'agent-fleet.mutual.agent-has-no-cert'],
  ['C17', 'http: TLS handshake error from <ip>:<port>: remote error: tls: bad certificate', 'agent-fleet.one-way.agent-lacks-fleet-ca'],
  ['C21', 'no CA certificate matching the fingerprint', 'fleet-es.fingerprint.no-match'],
  ['C22', "The provided 'ca_trusted_fingerprint': '<fp>' does not match the fingerprint of any Certificate Authority present in the server's certificate chain. Found the following CA fingerprints instead: [<hex> …]", 'fleet-es.fingerprint.no-match'],
  ['C23', "The remote server's certificate is presented without its certificate chain. Using 'ca_trusted_fingerprint' requires that the server presents a certificate chain that includes the certificate's issuing certificate authority.", 'fleet-es.fingerprint.chain-without-ca'],
  ['C24', "Certificate matching 'ca_trusted_fingerprint' found, but it is not a CA certificate. 'ca_trusted_fingerprint' can only be used to trust CA certificates.", 'fleet-es.fingerprint.of-leaf'],
  ['C25', "decode 'ca_trusted_fingerprint': encoding/hex: invalid byte: U+003A ':'", 'fleet-es.fingerprint.with-colons'],
  ['C26', "provided CA certificate pins doesn't match any of the certificate authorities used to validate the certificate", 'agent-fleet.one-way.ca-sha256-wrong'],
  ['C27', '{"log.level":"warn",…,"log.logger":"tls","log.origin":{"function":"github.com/elastic/elastic-agent-libs/transport/tlscommon.(*TLSConfig).ToConfig",…},"message":"SSL/TLS verifications disabled.",…}', 'agent-fleet.one-way.insecure'],
  ['C31', "Dropping encrypted pem block with private key, block type 'RSA PRIVATE KEY', could not decrypt PKCS#1: failed to decrypt PKCS#1 key: x509: decryption password incorrect", 'keys.legacy-key-wrong-passphrase'],
  ['C32', "Dropping encrypted pem 'RSA PRIVATE KEY' block read from /path/key.pem. no passphrase available", 'keys.legacy-key-no-passphrase'],
  ['C33', 'Encrypted PKCS#1 PEM keys are deprecated and insecure, support will be removed in a future release; please convert the key to encrypted PKCS#8', 'keys.legacy-key-deprecated'],
  ['C37', 'info fail [401 Unauthorized] {"error":{"root_cause":[{"type":"security_exception","reason":"failed to authenticate service account [elastic/fleet-server] with token name [token-1619029603948]",…}],…},"status":401}', 'fleet-es.one-way.wrong-service-token'],
];

/** Entries whose line is another release's wording of the scenario's failure (its `alsoSeenAs`). */
const OLDER_WORDINGS = new Set(['C6', 'C21', 'C32', 'C37']);

interface Match {
  scenario: string;
  score: number;
  cause: string;
  fix: string;
  reproduce: string;
  olderWording: boolean;
}

async function explainJson(line: string): Promise<{ status: number; matches: Match[] }> {
  const { status, out, err } = await cliInProcess(['explain', '--json', '--', line]);
  expect(err).toBe('');
  return { status, matches: (JSON.parse(out) as { matches: Match[] }).matches };
}

describe('fleet-tls explain with each TLS line of failure-messages.md, verbatim', () => {
  it.each(FAILURE_MESSAGES)('%s names the scenario that writes it first: %s', async (entry, line, scenario) => {
    const { status, matches } = await explainJson(line);
    expect(status).toBe(0);
    // Scenarios that write the very same line tie; the one named must be among the best.
    const named = matches.find((m) => m.scenario === scenario);
    expect(named?.score).toBe(matches[0]!.score);
    expect(named!.reproduce).toMatch(new RegExp(`^fleet-tls run ${scenario.replaceAll('.', '\\.')}( --tls 1\\.[23])?$`));
    expect(named!.olderWording).toBe(OLDER_WORDINGS.has(entry));
    expect(named!.cause).not.toBe('');
    expect(named!.fix).not.toBe('');
  });
});

describe('the same lines inside the wrappers users paste them in', () => {
  const cases: ReadonlyArray<readonly [what: string, line: string, scenario: string]> = [
    ['the agent 9.1 retry line for C1', 'Error detected: fail to execute request to fleet-server: x509: certificate signed by unknown authority, will retry in a moment.', 'agent-fleet.one-way.agent-lacks-fleet-ca'],
    ['an ECS line of the agent with a timestamp for C1', '{"log.level":"warn","@timestamp":"2025-03-04T10:11:12.345Z","log.origin":{"file.name":"enroll/enroll.go","file.line":92},"message":"Error detected: fail to execute request to fleet-server: x509: certificate signed by unknown authority, will retry in a moment.","ecs.version":"1.6.0"}', 'agent-fleet.one-way.agent-lacks-fleet-ca'],
    ['Fleet Server\'s ECS line for C16 with a real address', '{"log.level":"error","@timestamp":"2025-03-04T10:11:12.345Z","message":"http: TLS handshake error from 10.3.0.179:18013: tls: client didn\'t provide a certificate\\n","component":{"binary":"fleet-server","dataset":"elastic_agent.fleet_server","id":"fleet-server-default","type":"fleet-server"},"ecs.version":"1.6.0"}', 'agent-fleet.mutual.agent-has-no-cert'],
    ['Beats\' backoff line for C4', 'Failed to connect to backoff(elasticsearch(https://es01.example.com:9200)): Get "https://es01.example.com:9200": x509: certificate signed by unknown authority', 'output.one-way.output-lacks-es-ca'],
    ['a Beats text line with timestamp, level and logger for C4', '2025-01-01T10:00:00.000Z\tERROR\t[esclientleg]\ttransport/logging.go:38\tError dialing x509: certificate signed by unknown authority', 'output.one-way.output-lacks-es-ca'],
    ['the installing agent relaying Fleet Server for the current C6 wording', 'Fleet Server - Error - failed version compatibility check with elasticsearch: x509: certificate relies on legacy Common Name field, use SANs instead', 'fleet-es.one-way.es-cert-cn-only-strict'],
    ['Fleet Server\'s own ECS line, message and error.message, for fleet-lacks-es-ca', '{"log.level":"error","@timestamp":"2025-03-04T10:11:12.345Z","message":"Fleet Server failed","error.message":"failed version compatibility check with elasticsearch: x509: certificate signed by unknown authority","ecs.version":"1.6.0"}', 'fleet-es.one-way.fleet-lacks-es-ca'],
    ['C1 with Go 1.20\'s verification prefix', 'Error: fail to enroll: fail to execute request to fleet-server: tls: failed to verify certificate: x509: certificate signed by unknown authority', 'agent-fleet.one-way.agent-lacks-fleet-ca'],
    ['C22 with real fingerprints', "The provided 'ca_trusted_fingerprint': '3b6a27bccebfb5ee1cbb8f9c4bd8ae80d7f1fbb8e4e3c9a5ab2f1c2d3e4f5a6b' does not match the fingerprint of any Certificate Authority present in the server's certificate chain. Found the following CA fingerprints instead: [9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08]", 'fleet-es.fingerprint.no-match'],
  ];
  it.each(cases)('%s', async (_what, line, scenario) => {
    const { status, matches } = await explainJson(line);
    expect(status).toBe(0);
    expect(matches.find((m) => m.scenario === scenario)?.score).toBe(matches[0]!.score);
  });
});

describe('and the scenario explain names writes the line when it runs', () => {
  const builtin = loadCatalog();
  // An older wording is by definition not what a run of the current components writes.
  const runnable = FAILURE_MESSAGES.filter(([entry]) => !OLDER_WORDINGS.has(entry));
  const runs = new Map<string, ReturnType<typeof runScenarios>>();
  const runOnce = (id: string) => {
    if (!runs.has(id)) runs.set(id, sharedPki().then((pki) => runScenarios(builtin, builtin.scenarios.filter((s) => s.id === id), pki)));
    return runs.get(id)!;
  };

  it('has a built-in scenario for every entry', () => {
    expect(FAILURE_MESSAGES.filter(([, , id]) => !builtin.scenarios.some((s) => s.id === id))).toEqual([]);
  });

  it.each(runnable)('%s: a run of the scenario writes the line, hosts and ports aside', async (_entry, line, id) => {
    const scenario = builtin.scenarios.find((s) => s.id === id)!;
    const results = await runOnce(scenario.id);
    const written = results.flatMap((r) => r.legs.flatMap((leg) => Object.values(leg.logs).flatMap((text) => (text ?? '').split('\n'))));
    // The lines the run wrote, as another wording of a scenario of their own: the pasted line must
    // match them as it matches the scenario file.
    const asWritten: Catalog = {
      ...builtin,
      scenarios: [{
        ...scenario,
        expect: { 'agent->fleet-server': { ok: true }, 'fleet-server->elasticsearch': { ok: true } },
        // Fingerprint lists vary from run to run, and users elide them (`[<hex> …]`).
        alsoSeenAs: written.filter((w) => w.trim() !== '').map((w) => w.replace(/\[[0-9a-f ]+\]/g, '[{any}]')),
      }],
    };
    const fromFile = new Explainer(builtin).explain(line).matches.find((m) => m.scenario.id === id)!;
    const fromRun = new Explainer(asWritten).explain(line).matches[0];
    expect(fromRun?.kind).toBe(fromFile.kind);
  });

  it.each(FAILURE_MESSAGES.filter(([entry]) => OLDER_WORDINGS.has(entry)))('%s is an older wording, and its scenario says which releases it emulates', (_entry, _line, id) => {
    expect(builtin.scenarios.find((s) => s.id === id)?.emulates).toMatch(/\S/);
  });
});
