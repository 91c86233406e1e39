import { readFileSync } from 'node:fs';
import { lstat, readFile, stat, symlink, writeFile, rm } from 'node:fs/promises';
import https from 'node:https';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliInProcess, fleetTls } from '../helpers/cli.js';
import { scratchDir } from '../helpers/pki.js';
import { serve } from '../helpers/serve.js';

let dir: string;
let cleanup: () => Promise<void>;
let pkiDir: string;
beforeAll(async () => {
  ({ dir, cleanup } = await scratchDir());
  pkiDir = path.join(dir, 'pki');
  expect((await cliInProcess(['certs', '--out', pkiDir])).status).toBe(0);
});
afterAll(() => cleanup());

describe('certs --plain-keys', () => {
  it('writes agent-cert.plain.key, unencrypted, mode 0600, the same key as the encrypted one', async () => {
    const first = await cliInProcess(['certs', '--out', pkiDir, '--plain-keys']);
    expect(first.status).toBe(0);
    const plain = path.join(pkiDir, 'agent-cert.plain.key');
    expect(first.out).toContain(`unencrypted copy written: ${path.relative(process.cwd(), plain)} (mode 0600)`);
    expect((await stat(plain)).mode & 0o777).toBe(0o600);
    expect(await readFile(plain, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    // openssl reads it without a passphrase, and its public key is the certificate's.
    const fromKey = await execa('openssl', ['pkey', '-in', plain, '-pubout'], { stdin: 'ignore' });
    const fromCert = await execa('openssl', ['x509', '-in', path.join(pkiDir, 'agent-cert.crt'), '-noout', '-pubkey']);
    expect(fromKey.stdout).toBe(fromCert.stdout);
    expect((await cliInProcess(['certs', '--out', pkiDir, '--plain-keys'])).out).toContain('unencrypted copy reused');
  });

  it('refuses to replace a file it did not write, in one line with exit 2', async () => {
    const plain = path.join(pkiDir, 'agent-cert.plain.key');
    await writeFile(plain, 'mine\n', { mode: 0o600 });
    const result = await fleetTls(['certs', '--out', pkiDir, '--plain-keys']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe(`fleet-tls: FTH_PKI_FOREIGN_FILE: ${plain} exists and is not the plain copy of agent-cert's key; use --force to replace it or remove it`);
    expect(await readFile(plain, 'utf8')).toBe('mine\n');
    await rm(plain);
  });

  it('with --force replaces a symlink at its path without writing through it', async () => {
    const plain = path.join(pkiDir, 'agent-cert.plain.key');
    const outside = path.join(dir, 'outside.txt');
    await writeFile(outside, 'not the harness\'s\n');
    await symlink(outside, plain);
    const result = await fleetTls(['certs', '--out', pkiDir, '--plain-keys', '--force']);
    expect(result.exitCode).toBe(0);
    expect((await lstat(plain)).isFile()).toBe(true);
    expect(await readFile(outside, 'utf8')).toBe('not the harness\'s\n');
  });
});

describe('serve with Elasticsearch identity flags', () => {
  it('presents the --es-cert file as it holds it (the leaf alone here) and takes --es-password for elastic', async () => {
    const served = await serve(pkiDir, ['--es-cert', path.join(pkiDir, 'es-cert.crt'), '--es-cert-key', path.join(pkiDir, 'es-cert.key'), '--es-password', 's3cret', '--quiet']);
    try {
      expect(served.ready).toMatchObject({ elasticPassword: 's3cret' });
      const answer = await new Promise<number>((resolve, reject) => {
        const request = https.get(`https://127.0.0.1:${served.esPort}/_security/_authenticate`, {
          ca: readFileSync(path.join(pkiDir, 'es-ca.crt'), 'utf8'), agent: false,
          headers: { authorization: `Basic ${Buffer.from('elastic:s3cret').toString('base64')}` },
        }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        });
        request.on('error', reject);
      });
      expect(answer).toBe(200);
      // openssl prints what the server's Certificate message held: the file's one certificate.
      const sentChain = await execa('openssl', ['s_client', '-connect', `127.0.0.1:${served.esPort}`, '-showcerts'], { input: '', reject: false });
      expect(sentChain.stdout.match(/-----BEGIN CERTIFICATE-----/g)).toHaveLength(1);
    } finally {
      await served.stop('SIGINT');
    }
  });

  it('names the flag when --es-keystore cannot be read, in one line with exit 2', async () => {
    const missing = path.join(dir, 'nope.p12');
    const result = await fleetTls(['serve', '--certs', pkiDir, '--es-port', '0', '--fleet-server-port', '0', '--es-keystore', missing]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('--es-keystore');
  });
});
