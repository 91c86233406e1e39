import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { authorities, identity } from '../../src/api.js';
import { goRequest } from '../../src/components/go-client.js';
import { generateKey } from '../../src/pki/keys.js';
import { issueCa } from '../../src/pki/generate.js';
import type { Pki } from '../../src/pki/store.js';
import { waitForOutput, withOpensslServer } from '../helpers/openssl.js';
import { scratchDir, sharedPki } from '../helpers/pki.js';

/*
 * The fake agent's TLS client against a server nobody here wrote. OpenSSL decrypts the alerts
 * the agent sends and verifies the Finished of a flight the agent rewrote, so these prove the
 * wire, not just the agent's own report.
 */
let pki: Pki;
let otherCaFile: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  pki = await sharedPki();
  const scratch = await scratchDir();
  cleanup = scratch.cleanup;
  otherCaFile = path.join(scratch.dir, 'other-ca.crt');
  await writeFile(otherCaFile, issueCa('other-ca', await generateKey('rsa')).pem);
});
afterAll(() => cleanup());

const serverCert = () => ['-cert', pki.certPath('fleet-cert'), '-key', pki.keyPath('fleet-cert')];

function agentRequest(port: number, options: { trust?: 'fleet-ca' | 'es-ca'; withCertificate?: boolean } = {}) {
  return goRequest({
    method: 'GET',
    url: `https://localhost:${port}/`,
    tls: {
      certificateAuthorities: authorities(pki, options.trust ?? 'fleet-ca'),
      ...(options.withCertificate ? { certificate: identity(pki, 'agent-cert') } : {}),
    },
  });
}

describe.each(['1.2', '1.3'] as const)('the fake agent against openssl s_server, TLS %s', (tls) => {
  const version = tls === '1.2' ? '-tls1_2' : '-tls1_3';

  it('gets the status page when the server certificate chains to the CA it trusts', async () => {
    await withOpensslServer([version, ...serverCert()], async (server) => {
      const exchange = await agentRequest(server.port);
      expect(exchange.error).toBeUndefined();
      expect(exchange.response?.status).toBe(200);
      expect(exchange.connection.version).toBe(tls);
    });
  });

  it('refuses an untrusted server with bad_certificate, which OpenSSL reads as alert 42', async () => {
    await withOpensslServer([version, ...serverCert()], async (server) => {
      const exchange = await agentRequest(server.port, { trust: 'es-ca' });
      expect(exchange.error).toBe('x509: certificate signed by unknown authority');
      expect(exchange.connection).toMatchObject({ rejectedBy: 'client', phase: 'handshake', alert: 'bad_certificate' });
      expect(await waitForOutput(server, /SSL alert number 42/)).toMatch(/sslv3 alert bad certificate.*SSL alert number 42/);
    });
  });

  it('withholds a certificate whose issuer the server does not list, and OpenSSL completes the handshake without one', async () => {
    await withOpensslServer([version, ...serverCert(), '-verify', '1', '-CAfile', otherCaFile], async (server) => {
      const exchange = await agentRequest(server.port, { withCertificate: true });
      expect(exchange.response?.status).toBe(200);
      expect(exchange.response?.body).toContain('no client certificate available');
      expect(exchange.connection.clientCertificate).toEqual({
        presented: false,
        subject: 'CN=elastic-agent,O=fleet-tls-harness',
        why: 'withheld, as Go does: its issuer CN=agent-ca,O=fleet-tls-harness is not among the CAs the server asked for (CN=other-ca,O=fleet-tls-harness)',
      });
    });
  });

  it('withholds it from a server that requires one, which then refuses the handshake', async () => {
    await withOpensslServer([version, ...serverCert(), '-Verify', '1', '-CAfile', otherCaFile], async (server) => {
      const exchange = await agentRequest(server.port, { withCertificate: true });
      // OpenSSL answers a missing certificate with handshake_failure (1.2) or certificate_required (1.3).
      expect(exchange.error).toBe(tls === '1.2' ? 'remote error: tls: handshake failure' : 'remote error: tls: certificate required');
      expect(exchange.connection).toMatchObject({ rejectedBy: 'server', phase: tls === '1.2' ? 'handshake' : 'after-handshake' });
      expect(await waitForOutput(server, /peer did not return a certificate/)).toContain('peer did not return a certificate');
    });
  });

  it('presents its certificate when the server lists its issuer', async () => {
    await withOpensslServer([version, ...serverCert(), '-Verify', '1', '-CAfile', pki.certPath('agent-ca')], async (server) => {
      const exchange = await agentRequest(server.port, { withCertificate: true });
      expect(exchange.response?.status).toBe(200);
      expect(exchange.response?.body).toMatch(/Subject: O = fleet-tls-harness, CN = elastic-agent|Subject: O=fleet-tls-harness, CN=elastic-agent/);
      expect(exchange.connection.clientCertificate).toMatchObject({ presented: true, subject: 'CN=elastic-agent,O=fleet-tls-harness' });
    });
  });
});
