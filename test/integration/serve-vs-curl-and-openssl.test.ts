import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { execa } from 'execa';
import { createPki } from '../../src/api.js';
import { encodePrivateKey, generateKey } from '../../src/pki/keys.js';
import { issueCa, issueLeaf } from '../../src/pki/generate.js';
import type { Pki } from '../../src/pki/store.js';
import { fleetTls } from '../helpers/cli.js';
import { freePort } from '../helpers/net.js';
import { scratchDir } from '../helpers/pki.js';
import { serve, type Served } from '../helpers/serve.js';

/* `fleet-tls serve` answering programs nobody here wrote: curl and openssl s_client. */
let pki: Pki;
let dir: string;
let cleanup: () => Promise<void>;
let passphrase: string;

beforeAll(async () => {
  ({ dir, cleanup } = await scratchDir());
  pki = await createPki({ dir: path.join(dir, 'certs') });
  passphrase = await readFile(pki.passphrasePath, 'utf8');
  // A client certificate from a CA Fleet Server does not trust, for the curl-sends-it-anyway case.
  const rogueCa = issueCa('rogue-ca', await generateKey('rsa'));
  const rogue = issueLeaf('agent-cert', rogueCa, await generateKey('rsa'));
  await writeFile(path.join(dir, 'rogue.crt'), rogue.pem);
  await writeFile(path.join(dir, 'rogue.key'), encodePrivateKey(rogue.key, { format: 'pkcs8' }), { mode: 0o600 });
});
afterAll(() => cleanup());

const curl = (args: readonly string[]) => execa('curl', ['--silent', '--show-error', ...args], { reject: false });
const status = (port: number) => `https://localhost:${port}/api/status`;

describe('serve with one-way TLS', () => {
  let served: Served;
  beforeAll(async () => { served = await serve(path.join(dir, 'certs')); });
  afterAll(() => served.stop());

  it('prints both URLs once Fleet Server is healthy', () => {
    expect(served.ready.fleetServer).toBe(`https://127.0.0.1:${served.fleetServerPort}`);
    expect(served.ready.elasticsearch).toBe(`https://127.0.0.1:${served.esPort}`);
    expect(served.ready.fleetServerStatus).toBe('HEALTHY');
  });

  it('answers curl trusting fleet-ca with 200 and the HEALTHY status body', async () => {
    const result = await curl(['--cacert', pki.certPath('fleet-ca'), '--write-out', '\n%{http_code}', status(served.fleetServerPort)]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('{"name":"fleet-server","status":"HEALTHY"}\n200');
  });

  it('is refused by curl without fleet-ca over TLS 1.2, and logs the alert as Go\'s net/http does', async () => {
    const result = await curl(['--tlsv1.2', '--tls-max', '1.2', status(served.fleetServerPort)]);
    expect(result.exitCode).toBe(60);
    expect(result.stderr).toContain('SSL certificate problem: unable to get local issuer certificate');
    // curl (OpenSSL) refuses with unknown_ca, not Go's bad_certificate, and Fleet Server says so.
    expect(await served.waitForLog(/remote error: tls: unknown certificate authority$/))
      .toMatch(/^http: TLS handshake error from 127\.0\.0\.1:\d+: remote error: tls: unknown certificate authority$/);
  });

  it('is refused by curl without fleet-ca over TLS 1.3, and logs what Go 1.19 logs: its alert arrives unsealed, so bad record MAC', async () => {
    // Checked against Go 1.19's net/http server with this curl: OpenSSL's client writes that alert
    // in the clear after the ServerHello, and Go, reading under the handshake key, cannot open it.
    const result = await curl(['--tlsv1.3', status(served.fleetServerPort)]);
    expect(result.exitCode).toBe(60);
    expect(await served.waitForLog(/local error: tls: bad record MAC$/))
      .toMatch(/^http: TLS handshake error from 127\.0\.0\.1:\d+: local error: tls: bad record MAC$/);
  });

  it('passes openssl s_client -verify_return_error with fleet-ca', async () => {
    const result = await execa('openssl', ['s_client', '-connect', `localhost:${served.fleetServerPort}`, '-servername', 'localhost',
      '-CAfile', pki.certPath('fleet-ca'), '-verify_return_error', '-verify_hostname', 'localhost'], { input: '', reject: false });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('Verify return code: 0 (ok)');
    expect(result.stdout).toMatch(/subject=O = fleet-tls-harness, CN = fleet-server/);
  });

  it('fails openssl s_client -verify_return_error with another CA', async () => {
    const result = await execa('openssl', ['s_client', '-connect', `localhost:${served.fleetServerPort}`, '-CAfile', pki.certPath('es-ca'), '-verify_return_error'],
      { input: '', reject: false });
    expect(result.exitCode).not.toBe(0);
    expect(result.stdout + result.stderr).toMatch(/verify error:num=20:unable to get local issuer certificate/);
  });

  it('answers plain HTTP on the TLS port with Go\'s 400', async () => {
    const result = await curl(['--write-out', '\n%{http_code}', `http://localhost:${served.fleetServerPort}/api/status`]);
    expect(result.stdout).toBe('Client sent an HTTP request to an HTTPS server.\n\n400');
  });

  it('serves Elasticsearch with the product header, and GET / with the service token', async () => {
    const result = await curl(['--cacert', pki.certPath('es-ca'), '--include', '-H', `Authorization: Bearer ${served.ready.serviceToken}`, `https://localhost:${served.esPort}/`]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(result.stdout).toMatch(/^X-elastic-product: Elasticsearch\r?$/im);
    const body = JSON.parse(result.stdout.slice(result.stdout.indexOf('{'))) as { version: { number: string }; tagline: string };
    expect(body.tagline).toBe('You Know, for Search');
    expect(body.version.number).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('answers a wrong service token with Elasticsearch\'s 401 body', async () => {
    const result = await curl(['--cacert', pki.certPath('es-ca'), '-H', 'Authorization: Bearer not-a-token', `https://localhost:${served.esPort}/_security/_authenticate`]);
    const body = JSON.parse(result.stdout) as { status: number; error: { type: string; reason: string } };
    expect(body.status).toBe(401);
    expect(body.error.type).toBe('security_exception');
    expect(body.error.reason).toBe('unable to authenticate with provided credentials and anonymous access is not allowed for this request');
  });
});

describe('serve with client authentication required', () => {
  let served: Served;
  beforeAll(async () => { served = await serve(path.join(dir, 'certs'), ['--fleet-server-client-auth', 'required']); });
  afterAll(() => served.stop());

  it('refuses curl without a certificate (TLS 1.3: certificate_required after the handshake)', async () => {
    const result = await curl(['--cacert', pki.certPath('fleet-ca'), status(served.fleetServerPort)]);
    expect(result.exitCode).toBe(56);
    expect(result.stderr).toMatch(/tlsv13 alert certificate required/);
    expect(await served.waitForLog(/client didn't provide a certificate/))
      .toMatch(/^http: TLS handshake error from 127\.0\.0\.1:\d+: tls: client didn't provide a certificate$/);
  });

  it('refuses curl without a certificate in TLS 1.2 during the handshake, with Go 1.24\'s bad_certificate', async () => {
    const result = await curl(['--cacert', pki.certPath('fleet-ca'), '--tls-max', '1.2', status(served.fleetServerPort)]);
    expect(result.exitCode).toBe(35);
    expect(result.stderr).toMatch(/sslv3 alert bad certificate/);
  });

  it('answers 200 to curl presenting agent-cert with its encrypted key and passphrase', async () => {
    const result = await curl(['--cacert', pki.certPath('fleet-ca'), '--cert', pki.certPath('agent-cert'), '--key', pki.keyPath('agent-cert'),
      '--pass', passphrase, '--write-out', '\n%{http_code}', status(served.fleetServerPort)]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('{"name":"fleet-server","status":"HEALTHY"}\n200');
  });

  it('refuses a certificate from an untrusted CA that curl sends anyway, with unknown_ca', async () => {
    const result = await curl(['--cacert', pki.certPath('fleet-ca'), '--cert', path.join(dir, 'rogue.crt'), '--key', path.join(dir, 'rogue.key'), status(served.fleetServerPort)]);
    expect(result.exitCode).toBe(56);
    expect(result.stderr).toMatch(/tlsv1 alert unknown ca/);
    expect(await served.waitForLog(/failed to verify certificate/))
      .toMatch(/^http: TLS handshake error from 127\.0\.0\.1:\d+: tls: failed to verify certificate: x509: certificate signed by unknown authority$/);
  });
});

describe('serve as a process', () => {
  it('stops cleanly on SIGTERM and on SIGINT', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const served = await serve(path.join(dir, 'certs'));
      const result = await served.stop(signal);
      expect(result.exitCode).toBe(0);
    }
  });

  it('exits 2 with one line when its port is taken', async () => {
    const port = await freePort();
    const blocker = net.createServer().listen(port, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    try {
      const result = await fleetTls(['serve', '--certs', path.join(dir, 'certs'), '--fleet-server-port', String(port), '--es-port', String(await freePort())]);
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toBe(`fleet-tls: FTH_PORT_IN_USE: fleet-server: port ${port} on 127.0.0.1 is already in use`);
      expect(result.stdout).toBe('');
    } finally {
      blocker.close();
    }
  });

  it('exits 2 naming the flag when a client authentication mode is misspelt', async () => {
    const result = await fleetTls(['serve', '--certs', path.join(dir, 'certs'), '--fleet-server-client-auth', 'require']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe('fleet-tls: FTH_USAGE: --fleet-server-client-auth must be one of [none, optional, required]');
  });
});
