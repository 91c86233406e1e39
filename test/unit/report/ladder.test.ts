import { describe, expect, it } from 'vitest';
import { ladderRows } from '../../../src/report/html/ladder.js';
import { jsonForScript } from '../../../src/report/html/page.js';
import type { Leg } from '../../../src/report/leg.js';

const base: Leg = {
  from: 'agent', to: 'fleet-server', url: 'https://localhost:8220/api/fleet/agents/enroll', ok: false,
  tls: { version: '1.3', cipher: 'TLS_AES_128_GCM_SHA256' }, serverCertificate: null,
  clientCertificate: { presented: false, subject: 'CN=elastic-agent', why: 'fleet-server asks for certificates from fleet-ca only' },
  rejectedBy: 'server', phase: 'after-handshake', alert: 'certificate_required', logs: {}, node: null,
  timeline: [
    { at: 1, sender: 'client', what: 'ClientHello', detail: { serverName: 'localhost', versions: ['1.3', '1.2'] } },
    { at: 2, sender: 'server', what: 'ServerHello', detail: { version: '1.3', cipher: 'TLS_AES_128_GCM_SHA256' } },
    { at: 3, sender: 'server', what: 'CertificateRequest', detail: { certificateAuthorities: 1, names: ['CN=fleet-ca'] } },
    { at: 4, sender: 'server', what: 'Finished' },
    { at: 5, sender: 'client', what: 'Certificate', detail: { certificates: 0 } },
    { at: 6, sender: 'client', what: 'Finished' },
    { at: 7, sender: 'client', what: 'ApplicationData', detail: { bytes: 100 } },
    { at: 7.5, sender: 'client', what: 'ApplicationData', detail: { bytes: 50 } },
    { at: 8, sender: 'server', what: 'Log', detail: { component: 'fleet-server', line: "tls: client didn't provide a certificate" } },
    { at: 9, sender: 'server', what: 'Alert', detail: { level: 2, description: 116, encrypted: true } },
  ],
};

describe('ladder rows from a timeline', () => {
  it('a TLS 1.3 refusal after the client\'s Finished: withheld certificate, done mark, log line, alert, then the rejection', () => {
    const rows = ladderRows(base).map((r) => `${r.kind} ${r.side} ${r.tone} ${r.label} | ${r.details.join(' / ')}`);
    expect(rows).toEqual([
      'msg client plain ClientHello | SNI localhost / offers TLS 1.3, 1.2',
      'msg server plain ServerHello | TLS 1.3 · TLS_AES_128_GCM_SHA256',
      'msg server warn CertificateRequest | asks for a certificate issued by: / CN=fleet-ca',
      'msg server plain Finished | ',
      'msg client warn Certificate (empty) | withheld: CN=elastic-agent / fleet-server asks for certificates from fleet-ca only',
      'msg client plain Finished | ',
      'mark client ok the client considers its handshake done | TLS 1.3: the client sent the last Finished; the server has not yet answered its certificate',
      'msg client dim ApplicationData | 2 records, 150 bytes encrypted',
      "note server plain fleet-server | tls: client didn't provide a certificate",
      'msg server bad Alert: certificate_required | fatal, encrypted',
      'mark server bad rejected by fleet-server after the client thought its handshake was done (TLS 1.3) | alert certificate_required',
    ]);
  });

  it('a rejection with no alert on the wire still ends the ladder with who rejected', () => {
    const rows = ladderRows({ ...base, alert: null, phase: 'handshake', timeline: base.timeline!.slice(0, 2) });
    expect(rows.at(-1)).toEqual({ at: null, kind: 'mark', side: 'server', tone: 'bad', label: 'rejected by fleet-server during the handshake', details: [] });
  });
});

describe('the data block of the page', () => {
  it('cannot close its script element nor open a comment, whatever a log line holds', () => {
    const text = jsonForScript({ line: '</script><!-- & \u2028' });
    expect(text).toBe('{"line":"\\u003c/script\\u003e\\u003c!-- \\u0026 \\u2028"}');
    expect(JSON.parse(text)).toEqual({ line: '</script><!-- & \u2028' });
  });
});
