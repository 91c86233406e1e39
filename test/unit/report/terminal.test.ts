import { describe, expect, it } from 'vitest';
import { renderLegs, renderScenarios } from '../../../src/report/terminal.js';
import { FAILED, leg, result } from './fixtures.js';

const ANSI = /\u001b\[/;

describe('renderScenarios', () => {
  const results = [result(), result({ tls: '1.2' }), FAILED];

  it('writes no ANSI escape when color is false', () => {
    expect(renderScenarios(results, { color: false })).not.toMatch(ANSI);
    expect(renderScenarios(results, { color: false, verbose: true })).not.toMatch(ANSI);
  });

  it('colours when color is true', () => {
    expect(renderScenarios(results, { color: true })).toMatch(ANSI);
  });

  it('ends with the summary: the counts, then the failed runs by id and TLS version', () => {
    const lines = renderScenarios(results, { color: false }).split('\n');
    expect(lines.slice(-4)).toEqual(['2 scenarios under TLS 1.3 and 1.2: 1 did not', '2 passed, 1 failed', `failed: ${FAILED.id} (TLS ${FAILED.tls})`, '']);
  });

  it('leaves out the scenarios that behaved with failuresOnly, and still counts them', () => {
    const text = renderScenarios(results, { color: false, failuresOnly: true });
    expect(text.split('\n').filter((l) => /^[✓✗] /.test(l))).toEqual([expect.stringMatching(new RegExp(`^✗ ${FAILED.id.replace(/\./g, '\\.')}\\s`))]);
    expect(text).toContain('\n2 passed, 1 failed\n');
  });

  it('says every scenario behaved when all passed', () => {
    expect(renderScenarios([result()], { color: false }).endsWith('1 scenario under TLS 1.3: every one behaved as its file expects\n1 passed, 0 failed\n')).toBe(true);
  });

  it('marks each result, shows a failed leg with its expectation, its logs and the mismatches', () => {
    const text = renderScenarios(results, { color: false });
    const width = FAILED.id.length;
    expect(text.split('\n')[0]).toBe(`✓ ${'flow.one-way'.padEnd(width)}  TLS 1.3  One-way TLS works end to end`);
    expect(text).toContain(`✗ ${FAILED.id}  TLS 1.2  Fleet Server's <certificate> & "friends"`);
    expect(text).toContain(`    ${'agent → fleet-server'.padEnd(30)}FAIL rejected by Fleet Server during the handshake, alert certificate_required  no TLS session (expected failure)`);
    expect(text).toContain("        fleet-server  http: TLS handshake error from 127.0.0.1:5555: tls: client didn't provide a certificate");
    expect(text).toContain('    mismatch agent->fleet-server alert: expected "bad_certificate", got "certificate_required"');
  });

  it('leaves out the logs of legs that behaved, unless verbose', () => {
    expect(renderScenarios([result()], { color: false })).not.toContain('Successfully enrolled');
    expect(renderScenarios([result()], { color: false, verbose: true })).toContain('        agent         Successfully enrolled the Elastic Agent.');
  });
});

describe('renderLegs', () => {
  it('writes each leg with its logs and no ANSI escape when color is false', () => {
    const text = renderLegs([leg(), leg({ from: 'fleet-server', to: 'elasticsearch', ok: false, skipped: 'Fleet Server never became healthy', tls: null, logs: {} })], { color: false });
    expect(text).not.toMatch(ANSI);
    expect(text.split('\n')).toEqual([
      `    ${'agent → fleet-server'.padEnd(30)}ok   TLS TLSv1.3 TLS_AES_128_GCM_SHA256`,
      '        server cert   CN=fleet-server,O=fleet-tls-harness  issued by CN=fleet-ca,O=fleet-tls-harness',
      '        agent         Successfully enrolled the Elastic Agent.',
      `    ${'fleet-server → elasticsearch'.padEnd(30)}skip not attempted: Fleet Server never became healthy`,
      '        server cert   CN=fleet-server,O=fleet-tls-harness  issued by CN=fleet-ca,O=fleet-tls-harness',
      '',
    ]);
  });
});
