import { describe, expect, it } from 'vitest';
import { Explainer } from '../../../src/explain/match.js';
import { loadCatalog } from '../../../src/scenarios/catalog.js';

/*
 * Issue 9's words: every line the network, x509 and file scenarios write, pasted as a customer
 * would (their addresses, hosts and paths), finds its scenario first, on the leg that failed.
 */
const explainer = new Explainer(loadCatalog());
const ranked = (line: string) => explainer.explain(line).matches.map((m) => ({ id: m.scenario.id, leg: m.template.origin.leg, kind: m.kind, score: m.score, older: m.olderWording }));

/** [pasted line, scenario ranked first, its leg, how it matched, score]. */
const FIRST: ReadonlyArray<readonly [string, string, string, 'exact' | 'wrapper' | 'contains', number]> = [
  // A closed port on each leg.
  ['Remote server is not ready to accept connections(Connection Refused), will retry in a moment.', 'agent-fleet.network.fleet-server-port-closed', 'agent->fleet-server', 'exact', 1],
  ['Error: fail to enroll: fail to execute request to fleet-server: connection refused', 'agent-fleet.network.fleet-server-port-closed', 'agent->fleet-server', 'exact', 1],
  ['{"log.level":"error","message":"Fleet Server failed: failed version compatibility check with elasticsearch: dial tcp 10.20.0.4:9200: connect: connection refused"}',
    'fleet-es.network.elasticsearch-port-closed', 'fleet-server->elasticsearch', 'exact', 1],
  ['Fleet Server - Error - failed version compatibility check with elasticsearch: dial tcp 127.0.0.1:9200: connect: connection refused',
    // The installing agent's own relay line: written on its (skipped) enrollment leg.
    'fleet-es.network.elasticsearch-port-closed', 'agent->fleet-server', 'exact', 1],
  ['Error dialing dial tcp 192.168.1.10:9200: connect: connection refused', 'output.network.elasticsearch-port-closed', 'agent->elasticsearch', 'exact', 1],
  ['Failed to connect to backoff(elasticsearch(https://es01.example.com:9200)): Get "https://es01.example.com:9200": dial tcp 192.168.1.10:9200: connect: connection refused',
    'output.network.elasticsearch-port-closed', 'agent->elasticsearch', 'exact', 1],
  // A silent peer on each leg, and each client's own timeout text.
  ['Error: fail to enroll: fail to execute request to fleet-server: context deadline exceeded (Client.Timeout exceeded while awaiting headers)',
    'agent-fleet.network.fleet-server-silent', 'agent->fleet-server', 'exact', 1],
  ['context deadline exceeded (Client.Timeout exceeded while awaiting headers)', 'agent-fleet.network.fleet-server-silent', 'agent->fleet-server', 'contains', 0.8],
  ['Fleet Server failed: failed version compatibility check with elasticsearch: net/http: timeout awaiting response headers',
    'fleet-es.network.elasticsearch-silent', 'fleet-server->elasticsearch', 'exact', 1],
  ['net/http: timeout awaiting response headers', 'fleet-es.network.elasticsearch-silent', 'fleet-server->elasticsearch', 'contains', 0.688],
  ['Failed to connect to backoff(elasticsearch(https://es01:9200)): Get "https://es01:9200": context deadline exceeded (Client.Timeout exceeded while awaiting headers)',
    'output.network.elasticsearch-silent', 'agent->elasticsearch', 'exact', 1],
  // Go's x509 texts the catalog had no scenario for.
  ['x509: too many intermediates for path length constraint', 'agent-fleet.one-way.fleet-cert-path-length-exceeded', 'agent->fleet-server', 'contains', 0.8],
  ['x509: a root or intermediate certificate is not authorized to sign for this name: DNS name "fleet.corp.local" is not permitted by any constraint',
    'agent-fleet.one-way.fleet-cert-name-not-permitted', 'agent->fleet-server', 'contains', 0.8],
  ['Error detected: fail to execute request to fleet-server: x509: a root or intermediate certificate is not authorized to sign for this name: IP address "10.2.3.4" is excluded by constraint "10.0.0.0/8", will retry in a moment.',
    'agent-fleet.one-way.fleet-cert-ip-excluded', 'agent->fleet-server', 'exact', 1],
  ['Error: fail to enroll: fail to execute request to fleet-server: x509: unhandled critical extension',
    'agent-fleet.one-way.fleet-cert-unhandled-critical-extension', 'agent->fleet-server', 'exact', 1],
  ['Error: fail to enroll: fail to execute request to fleet-server: x509: certificate signed by unknown authority (possibly because of "crypto/rsa: verification error" while trying to verify candidate authority certificate "Corp Root CA")',
    'agent-fleet.one-way.fleet-ca-regenerated', 'agent->fleet-server', 'exact', 1],
  // elastic-agent-libs' file loading, on the component that loads the file.
  ['Failed to add CA to the cert pool, CA is not a valid PEM document', 'files.agent-ca-not-pem', 'agent->fleet-server', 'exact', 1],
  ['Error: file is not a certificate adding /etc/pki/fleet/ca.cer to the list of known CAs', 'files.agent-ca-not-pem', 'agent->fleet-server', 'exact', 0.972],
  ['Failed reading CA certificate: open /etc/pki/fleet/ca.crt: no such file or directory', 'files.agent-ca-missing', 'agent->fleet-server', 'exact', 0.974],
  ['Failed reading certificate file /opt/certs/agent.crt: no PEM blocks', 'files.agent-cert-empty', 'agent->fleet-server', 'exact', 0.966],
  ['tls: failed to find certificate PEM data in certificate input, but did find a private key; PEM inputs may have been switched',
    'files.agent-cert-and-key-swapped', 'agent->fleet-server', 'exact', 1],
  ['Fleet Server - Error - no pem file /etc/fleet/fleet.der', 'files.fleet-server-cert-not-pem', 'agent->fleet-server', 'exact', 0.956],
  ['Failed reading key file: open /etc/fleet/fleet.key: no such file or directory', 'files.fleet-server-key-missing', 'agent->fleet-server', 'exact', 0.971],
];

describe('explain knows the network, x509 and file-loading lines', () => {
  it.each(FIRST)('%s → %s', (line, id, leg, kind, score) => {
    expect(ranked(line)[0]).toEqual({ id, leg, kind, score, older: false });
  });

  it('recognises 9.0\'s refused enrollment, which passed on Go\'s dial error, as an older wording of the closed port', () => {
    expect(ranked('Error: fail to enroll: fail to execute request to fleet-server: dial tcp 10.1.2.3:8220: connect: connection refused')[0])
      .toMatchObject({ id: 'agent-fleet.network.fleet-server-port-closed', kind: 'exact', score: 0.97, older: true });
  });

  it('puts an Elasticsearch leg first for a bare dial error, and lists all three legs that write one', () => {
    const found = ranked('dial tcp 127.0.0.1:9200: connect: connection refused');
    expect(found.map((m) => m.id)).toEqual(expect.arrayContaining([
      'output.network.elasticsearch-port-closed', 'fleet-es.network.elasticsearch-port-closed', 'agent-fleet.network.fleet-server-port-closed',
    ]));
    expect(found[0]).toMatchObject({ id: 'output.network.elasticsearch-port-closed', leg: 'agent->elasticsearch', older: false });
  });

  it('lists the IP SAN mismatch with the host-name mismatches at the same score, all on the agent\'s enrollment first', () => {
    const found = ranked('x509: certificate is valid for 10.0.0.5, not 192.168.0.7');
    expect(found.find((m) => m.id === 'agent-fleet.one-way.ip-san-mismatch')).toMatchObject({ leg: 'agent->fleet-server', score: found[0]!.score });
    expect(found[0]!.leg).toBe('agent->fleet-server');
  });

  it('names Fleet Server\'s own leg, not the agent\'s relay of it, for a bare Fleet Server error', () => {
    expect(ranked('failed version compatibility check with elasticsearch: net/http: timeout awaiting response headers')[0])
      .toMatchObject({ id: 'fleet-es.network.elasticsearch-silent', leg: 'fleet-server->elasticsearch' });
  });
});

describe('explain knows Fleet Server\'s refusal of each agent certificate, in current Go\'s words and in Go 1.19\'s', () => {
  // [the x509 error as Go words it for the catalog's certificate, with a customer's names in it, the mutual scenario].
  const MUTUAL: ReadonlyArray<readonly [string, string]> = [
    ['x509: certificate has expired or is not yet valid: current time 2026-12-07T01:02:03Z is after 2026-12-01T00:00:00Z', 'agent-fleet.mutual.agent-cert-expired'],
    ['x509: certificate has expired or is not yet valid: current time 2026-12-07T01:02:03Z is before 2026-12-09T00:00:00Z', 'agent-fleet.mutual.agent-cert-not-yet-valid'],
    ['x509: certificate specifies an incompatible key usage', 'agent-fleet.mutual.agent-cert-no-clientauth-eku'],
    ['x509: certificate signed by unknown authority (possibly because of "x509: invalid signature: parent certificate cannot sign this kind of certificate" while trying to verify candidate authority certificate "Corp Agents Issuing")',
      'agent-fleet.mutual.agent-cert-issuer-not-ca'],
    ['x509: a root or intermediate certificate is not authorized to sign for this name: DNS name "host-17.corp.local" is not permitted by any constraint', 'agent-fleet.mutual.agent-cert-name-not-permitted'],
    ['x509: a root or intermediate certificate is not authorized to sign for this name: IP address "10.2.3.4" is excluded by constraint "10.0.0.0/8"', 'agent-fleet.mutual.agent-cert-ip-excluded'],
    ['x509: too many intermediates for path length constraint', 'agent-fleet.mutual.agent-cert-path-length-exceeded'],
    ['x509: unhandled critical extension', 'agent-fleet.mutual.agent-cert-unhandled-critical-extension'],
    ['x509: certificate is not authorized to sign other certificates', 'agent-fleet.mutual.agent-cert-v1-intermediate'],
    ['x509: certificate signed by unknown authority (possibly because of "crypto/rsa: verification error" while trying to verify candidate authority certificate "Corp Agent CA")',
      'agent-fleet.mutual.agent-ca-regenerated'],
  ];
  const line = (prefix: string, x509: string) => `http: TLS handshake error from 10.20.30.40:51234: ${prefix}${x509}`;

  it.each(MUTUAL)('current Go: %s → %s on Fleet Server\'s side of the agent\'s leg', (x509, id) => {
    expect(ranked(line('tls: failed to verify certificate: ', x509))[0]).toMatchObject({ id, leg: 'agent->fleet-server', kind: 'exact', older: false });
  });

  it.each(MUTUAL)('Go 1.19: %s → %s, named as Go 1.19\'s wording', (x509, id) => {
    const result = explainer.explain(line('tls: failed to verify client certificate: ', x509));
    expect(ranked(line('tls: failed to verify client certificate: ', x509))[0]).toMatchObject({ id, leg: 'agent->fleet-server', kind: 'exact', older: true });
    expect(result.matches[0]!.template.origin).toMatchObject({ kind: 'alsoSeenAs', release: 'Fleet Server built with Go 1.19 or older (Go 1.20 changed the prefix)' });
  });

  it('an unknown authority without a hint is the sent-anyway scenarios\' line in either wording', () => {
    for (const prefix of ['tls: failed to verify certificate: ', 'tls: failed to verify client certificate: ']) {
      const found = ranked(line(prefix, 'x509: certificate signed by unknown authority'));
      expect(found.slice(0, 3).map((m) => m.id)).toEqual(expect.arrayContaining([
        'agent-fleet.mutual.agent-cert-untrusted-ca-sent-anyway', 'agent-fleet.mutual.agent-cert-incomplete-chain-sent-anyway', 'agent-fleet.mutual.agent-cert-self-signed-sent-anyway',
      ]));
      expect(found[0]).toMatchObject({ leg: 'agent->fleet-server', older: prefix.includes('client') });
    }
  });
});
