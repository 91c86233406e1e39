import type { Leg } from '../../../src/report/leg.js';
import type { ScenarioResult } from '../../../src/scenarios/run.js';

export function leg(overrides: Partial<Leg> = {}): Leg {
  return {
    from: 'agent', to: 'fleet-server', url: 'https://localhost:8220', ok: true,
    tls: { version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256' },
    serverCertificate: { subject: 'CN=fleet-server,O=fleet-tls-harness', issuer: 'CN=fleet-ca,O=fleet-tls-harness', san: ['localhost'], notAfter: '2027-12-31T00:00:00Z', sha256: 'ab' },
    clientCertificate: null, rejectedBy: null, phase: null, alert: null,
    logs: { agent: 'Successfully enrolled the Elastic Agent.' }, node: null,
    ...overrides,
  };
}

const ES_LEG = leg({ from: 'fleet-server', to: 'elasticsearch', url: 'https://localhost:9200', logs: {} });

export function result(overrides: Partial<ScenarioResult> = {}): ScenarioResult {
  return {
    id: 'flow.one-way', title: 'One-way TLS works end to end', tls: '1.3', pass: true,
    expected: { 'agent->fleet-server': { ok: true }, 'fleet-server->elasticsearch': { ok: true } },
    legs: [leg(), ES_LEG], mismatches: [], command: ['--url=https://localhost:8220'], durationMs: 1234,
    ...overrides,
  };
}

/** A failed scenario whose texts carry every character XML must escape, and a control character it cannot hold. */
export const FAILED = result({
  id: 'agent-fleet.one-way.fleet-cert-expired', title: 'Fleet Server\'s <certificate> & "friends"', tls: '1.2', pass: false,
  expected: { 'agent->fleet-server': { ok: false, rejectedBy: 'client', alert: 'bad_certificate' }, 'fleet-server->elasticsearch': { ok: true } },
  legs: [leg({
    ok: false, rejectedBy: 'server', phase: 'handshake', alert: 'certificate_required', tls: null,
    logs: { agent: 'fail to enroll: <x509> & "expired"\u0007', 'fleet-server': "http: TLS handshake error from 127.0.0.1:5555: tls: client didn't provide a certificate" },
  }), ES_LEG],
  mismatches: ['agent->fleet-server rejectedBy: expected "client", got "server"', 'agent->fleet-server alert: expected "bad_certificate", got "certificate_required"'],
  durationMs: 56,
});
