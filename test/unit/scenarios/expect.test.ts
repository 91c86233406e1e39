import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Leg } from '../../../src/report/leg.js';
import { compareLeg, matchesTemplate, resolveExpectation } from '../../../src/scenarios/expect.js';
import type { LegExpectationData } from '../../../src/scenarios/schema.js';

const HANDSHAKE = "http: TLS handshake error from {address}: tls: client didn't provide a certificate";

describe('matchesTemplate', () => {
  it('matches {address} against an IPv4 host:port and a bracketed IPv6 one', () => {
    expect(matchesTemplate(HANDSHAKE, "http: TLS handshake error from 127.0.0.1:51234: tls: client didn't provide a certificate")).toBe(true);
    expect(matchesTemplate(HANDSHAKE, "http: TLS handshake error from [::1]:443: tls: client didn't provide a certificate")).toBe(true);
  });

  it('does not match {address} against a host name or an address without a port', () => {
    expect(matchesTemplate('from {address}', 'from localhost:8220')).toBe(false);
    expect(matchesTemplate('from {address}', 'from 127.0.0.1')).toBe(false);
  });

  it('matches {any} against any text, empty or across lines', () => {
    expect(matchesTemplate('fail to enroll: {any}', 'fail to enroll: ')).toBe(true);
    expect(matchesTemplate('fail to enroll: {any}', 'fail to enroll: a\nb')).toBe(true);
    expect(matchesTemplate('{any} x509: {any}', 'Get "https://x": x509: certificate signed by unknown authority')).toBe(true);
  });

  it('reads regex characters in the literal part literally', () => {
    expect(matchesTemplate('Get "https://localhost:8220/api/status?x=1" (a|b) [c]*+', 'Get "https://localhost:8220/api/status?x=1" (a|b) [c]*+')).toBe(true);
    expect(matchesTemplate('a.c', 'abc')).toBe(false);
    expect(matchesTemplate('a+', 'aa')).toBe(false);
    expect(matchesTemplate('$^', '$^')).toBe(true);
  });

  it('matches the whole line only', () => {
    expect(matchesTemplate('remote error: tls: bad certificate', 'x: remote error: tls: bad certificate')).toBe(false);
    expect(matchesTemplate('remote error: tls: bad certificate', 'remote error: tls: bad certificate!')).toBe(false);
  });

  it('matches any text without placeholders against itself and nothing longer', () => {
    const literal = fc.string().filter((s) => !s.includes('{address}') && !s.includes('{any}'));
    fc.assert(fc.property(literal, fc.string({ minLength: 1 }), (text, extra) => {
      expect(matchesTemplate(text, text)).toBe(true);
      expect(matchesTemplate(text, text + extra)).toBe(false);
    }));
  });

  it('matches {address} against any IPv4 or bracketed IPv6 address with any port', () => {
    const address = fc.oneof(fc.ipV4(), fc.ipV6().map((ip) => `[${ip}]`));
    fc.assert(fc.property(address, fc.integer({ min: 0, max: 65535 }), (host, port) => {
      expect(matchesTemplate(HANDSHAKE, HANDSHAKE.replace('{address}', `${host}:${port}`))).toBe(true);
    }));
  });
});

describe('resolveExpectation', () => {
  const untrustedCa: LegExpectationData = {
    ok: false,
    rejectedBy: 'server',
    phase: { '1.2': 'handshake', '1.3': 'after-handshake' },
    alert: { '1.2': 'bad_certificate', '1.3': 'certificate_required' },
    clientCertificatePresented: false,
    logs: {
      agent: { '1.2': 'remote error: tls: bad certificate', '1.3': 'remote error: tls: certificate required' },
      'fleet-server': HANDSHAKE,
    },
  };

  it('picks each per-version value for TLS 1.2', () => {
    expect(resolveExpectation(untrustedCa, '1.2')).toEqual({
      ok: false, rejectedBy: 'server', phase: 'handshake', alert: 'bad_certificate', clientCertificatePresented: false,
      logs: { agent: 'remote error: tls: bad certificate', 'fleet-server': HANDSHAKE },
    });
  });

  it('picks each per-version value for TLS 1.3', () => {
    expect(resolveExpectation(untrustedCa, '1.3')).toEqual({
      ok: false, rejectedBy: 'server', phase: 'after-handshake', alert: 'certificate_required', clientCertificatePresented: false,
      logs: { agent: 'remote error: tls: certificate required', 'fleet-server': HANDSHAKE },
    });
  });

  it('keeps an explicit null and leaves out what the file does not say', () => {
    expect(resolveExpectation({ ok: { '1.2': true, '1.3': false }, alert: { '1.2': null, '1.3': 'certificate_required' }, rejectedBy: null }, '1.2'))
      .toEqual({ ok: true, alert: null, rejectedBy: null });
    expect(resolveExpectation({ ok: true, skipped: true, logs: {} }, '1.3')).toEqual({ ok: true, skipped: true });
  });
});

function leg(overrides: Partial<Leg> = {}): Leg {
  return {
    from: 'agent', to: 'fleet-server', url: 'https://localhost:8220', ok: true,
    tls: { version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256' }, serverCertificate: null,
    clientCertificate: { presented: true, subject: 'CN=elastic-agent' },
    rejectedBy: null, phase: null, alert: null, logs: { agent: 'Successfully enrolled the Elastic Agent.' }, node: null,
    ...overrides,
  };
}

describe('compareLeg', () => {
  it('finds nothing to say about a leg that behaved', () => {
    expect(compareLeg({ ok: true, clientCertificatePresented: true, logs: { agent: 'Successfully enrolled the Elastic Agent.' } }, leg())).toEqual([]);
  });

  it('says, field by field, how a leg differed from its expectation', () => {
    const expected = resolveExpectation({
      ok: false, rejectedBy: 'server', phase: 'handshake', alert: 'bad_certificate', clientCertificatePresented: false,
      logs: { agent: 'fail to enroll: {any}', 'fleet-server': HANDSHAKE },
    }, '1.2');
    expect(compareLeg(expected, leg())).toEqual([
      'ok: expected false, got true',
      'rejectedBy: expected "server", got null',
      'phase: expected "handshake", got null',
      'alert: expected "bad_certificate", got null',
      'clientCertificate.presented: expected false, got true',
      'logs.agent: expected "fail to enroll: {any}", got "Successfully enrolled the Elastic Agent."',
      `logs.fleet-server: expected ${JSON.stringify(HANDSHAKE)}, got null`,
    ]);
  });

  it('counts a leg without client certificate information as not presenting one', () => {
    expect(compareLeg({ ok: true, clientCertificatePresented: true }, leg({ clientCertificate: null })))
      .toEqual(['clientCertificate.presented: expected true, got false']);
  });

  it('compares skipped with whether the leg carries a skip reason', () => {
    expect(compareLeg({ ok: false, skipped: true }, leg({ ok: false }))).toEqual(['skipped: expected true, got false']);
    expect(compareLeg({ ok: false, skipped: true }, leg({ ok: false, skipped: 'Fleet Server never became healthy' }))).toEqual([]);
  });
});
