import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probe, type ProbeResult } from '../../src/probe/probe.js';
import { loadCertificateAuthorities, loadIdentity } from '../../src/tls/material.js';
import { fleetTls } from '../helpers/cli.js';
import { customerPki, type CustomerPki } from '../helpers/customer-pki.js';
import { withOpensslServer } from '../helpers/openssl.js';
import { scratchDir } from '../helpers/pki.js';

/*
 * `fleet-tls probe` against `openssl s_server` serving customer certificates made with the
 * openssl CLI: the chain it sends, whether it asks for a client certificate and which CAs it
 * names, and the fake agent's verdict under each verification mode.
 */
let c: CustomerPki;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const scratch = await scratchDir('fth-probe-');
  cleanup = scratch.cleanup;
  c = await customerPki(scratch.dir);
}, 30_000);
afterAll(() => cleanup());

const serving = (name: string, chain?: string) => ['-cert', c.file(`${name}.crt`), '-key', c.file(`${name}.key`), ...(chain ? ['-cert_chain', c.file(chain)] : [])];
const fail = (error: string) => ({ ok: false, message: `fail to enroll: fail to execute request to fleet-server: ${error}` });
const VERIFIED = { ok: true, message: 'verified; HTTP 200' };
const NONE = { ok: true, message: 'SSL/TLS verifications disabled.' };
const agentProbe = (port: number, options: { identity?: string } = {}) => probe({
  url: `https://localhost:${port}/`,
  certificateAuthorities: loadCertificateAuthorities([c.file('root.crt')]),
  ...(options.identity ? { certificate: loadIdentity(c.file(`${options.identity}.crt`), c.file(`${options.identity}.key`)) } : {}),
});

describe('fleet-tls probe against openssl s_server', () => {
  it('reports the chain, version, cipher and no client-certificate request as JSON (TLS 1.2, leaf and intermediate)', async () => {
    await withOpensslServer(['-tls1_2', ...serving('fleet', 'int.crt')], async (server) => {
      const { exitCode, stdout } = await fleetTls(['probe', `https://localhost:${server.port}/`, '-a', c.file('root.crt'), '--json']);
      const doc = JSON.parse(stdout) as ProbeResult;
      expect(exitCode).toBe(0);
      expect(doc.ok).toBe(true);
      expect(doc.server.chain.map((x) => [x.subject, x.issuer, x.san])).toEqual([
        ['CN=fleet-server', 'CN=Customer Intermediate CA', ['DNS:localhost', 'IP:127.0.0.1']],
        ['CN=Customer Intermediate CA', 'CN=Customer root CA', []],
      ]);
      expect(Object.keys(doc.server.chain[0]!)).toEqual(['subject', 'issuer', 'san', 'notBefore', 'notAfter', 'sha256']);
      expect(doc.server).toMatchObject({ clientCertificateRequested: false, acceptableCAs: [] });
      expect(doc.modes).toEqual({ full: VERIFIED, strict: VERIFIED, certificate: VERIFIED, none: NONE });
      expect(doc.legs[0]!.tls).toEqual({ version: '1.2', cipher: 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256' });
    });
  });

  it('fails every verifying mode when the server sends its leaf without the intermediate (TLS 1.3)', async () => {
    await withOpensslServer(['-tls1_3', ...serving('fleet')], async (server) => {
      const result = await agentProbe(server.port);
      expect(result.server.chain.map((x) => x.subject)).toEqual(['CN=fleet-server']);
      expect(result.modes).toEqual({
        full: fail('x509: certificate signed by unknown authority'),
        strict: fail('tls: failed to verify certificate: x509: certificate signed by unknown authority'),
        certificate: fail('x509: certificate signed by unknown authority'),
        none: NONE,
      });
      expect(result.legs[0]).toMatchObject({ ok: false, rejectedBy: 'client', alert: 'bad_certificate' });
    });
  });

  it('tells full from strict on a CN-only certificate, and certificate from full on a wrong SAN', async () => {
    await withOpensslServer(serving('cn-only'), async (server) => {
      const { modes } = await agentProbe(server.port);
      expect(modes).toEqual({ full: VERIFIED, strict: fail('tls: failed to verify certificate: x509: certificate relies on legacy Common Name field, use SANs instead'), certificate: VERIFIED, none: NONE });
    });
    await withOpensslServer(serving('wrong-san'), async (server) => {
      const { modes } = await agentProbe(server.port);
      expect(modes).toEqual({
        full: fail('x509: certificate is valid for fleet.example.com, not localhost'),
        strict: fail('tls: failed to verify certificate: x509: certificate is valid for fleet.example.com, not localhost'),
        certificate: VERIFIED,
        none: NONE,
      });
    });
  });

  it('sees an optional client-certificate request and the CAs it names (-verify, TLS 1.2)', async () => {
    await withOpensslServer(['-tls1_2', ...serving('fleet', 'int.crt'), '-verify', '1', '-CAfile', c.file('cas.crt')], async (server) => {
      const result = await agentProbe(server.port);
      expect(result.server).toMatchObject({ clientCertificateRequested: true, acceptableCAs: ['CN=Customer root CA', 'CN=Customer other-root CA'] });
      expect(result.modes).toEqual({ full: VERIFIED, strict: VERIFIED, certificate: VERIFIED, none: NONE });
      expect(result.legs[0]!.clientCertificate).toEqual({ presented: false, why: 'the server asked for a client certificate and none is configured' });
    });
  });

  it.each([
    ['1.2', '-tls1_2', 'remote error: tls: handshake failure'],
    ['1.3', '-tls1_3', 'remote error: tls: certificate required'],
  ])('fails every mode, with the agent\'s words, when the server requires a certificate the agent lacks (-Verify, TLS %s)', async (_v, flag, error) => {
    await withOpensslServer([flag, ...serving('fleet', 'int.crt'), '-Verify', '1', '-CAfile', c.file('cas.crt')], async (server) => {
      const doc = await agentProbe(server.port);
      expect(doc.ok).toBe(false);
      expect(doc.server.clientCertificateRequested).toBe(true);
      expect(doc.modes).toEqual({ full: fail(error), strict: fail(error), certificate: fail(error), none: fail(error) });
      expect(doc.legs[0]).toMatchObject({ ok: false, rejectedBy: 'server' });
    });
  });

  it('presents the agent certificate the server asks for, and withholds one whose issuer it does not name (TLS 1.3)', async () => {
    await withOpensslServer(['-tls1_3', ...serving('fleet', 'int.crt'), '-Verify', '1', '-CAfile', c.file('root.crt')], async (server) => {
      const accepted = await agentProbe(server.port, { identity: 'agent' });
      expect(accepted.modes).toEqual({ full: VERIFIED, strict: VERIFIED, certificate: VERIFIED, none: NONE });
      expect(accepted.server.acceptableCAs).toEqual(['CN=Customer root CA']);
      expect(accepted.legs[0]!.clientCertificate).toEqual({ presented: true, subject: 'CN=agent', why: 'the server asked for a client certificate' });
      const withheld = await agentProbe(server.port, { identity: 'rogue-agent' });
      expect(withheld.modes.full).toEqual(fail('remote error: tls: certificate required'));
      expect(withheld.legs[0]!.clientCertificate?.why).toBe('withheld, as Go does: its issuer CN=Customer other-root CA is not among the CAs the server asked for (CN=Customer root CA)');
    });
  });

  it('prints the verdicts side by side for a person', async () => {
    await withOpensslServer(['-tls1_2', ...serving('cn-only')], async (server) => {
      const { stdout, exitCode } = await fleetTls(['probe', `https://localhost:${server.port}/`, '--certificate-authorities', c.file('root.crt')]);
      expect(exitCode).toBe(0);
      expect(stdout).toContain('client certificate: not requested\n');
      expect(stdout).toContain('  strict       FAIL  fail to enroll: fail to execute request to fleet-server: tls: failed to verify certificate: x509: certificate relies on legacy Common Name field, use SANs instead\n');
      expect(stdout.endsWith('  none         ok    SSL/TLS verifications disabled.')).toBe(true);
    });
  });

  it('refuses a key given as the CA file with exit 2 and one line naming the flag and what the file holds', async () => {
    const { exitCode, stderr, stdout } = await fleetTls(['probe', 'https://localhost:1/', '-a', c.file('fleet.key')]);
    expect({ exitCode, stdout }).toEqual({ exitCode: 2, stdout: '' });
    expect(stderr).toBe(`fleet-tls: FTH_FILE_MALFORMED: --certificate-authorities ${c.file('fleet.key')}: not a PEM certificate (it holds a PEM private key (PKCS#8))`);
  });
});
