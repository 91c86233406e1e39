import { createHash, X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expandCertificateTemplates, materialise, type ScenarioMaterial } from '../../../src/scenarios/certificates.js';
import type { Pki } from '../../../src/pki/store.js';
import { scratchDir, sharedPki } from '../../helpers/pki.js';

let pki: Pki;
let material: ScenarioMaterial;
let cleanup: () => Promise<void>;
const pems = async (name: string) => (await readFile(path.join(material.dir, `${name}.crt`), 'utf8')).match(/-----BEGIN CERTIFICATE-----/g)!.length;
const cert = async (name: string) => new X509Certificate(await readFile(path.join(material.dir, `${name}.crt`)));

beforeAll(async () => {
  pki = await sharedPki();
  const scratch = await scratchDir();
  cleanup = scratch.cleanup;
  material = await materialise({
    // Listed leaf first, to show the order of issuing does not depend on the file's order.
    'fleet-cert-leaf-only': { from: 'fleet-cert', issuer: 'fleet-intermediate', chain: 'leaf' },
    'fleet-cert-chained': { from: 'fleet-cert', issuer: 'fleet-intermediate' },
    'fleet-cert-full': { from: 'fleet-cert', issuer: 'fleet-intermediate', chain: 'with-root' },
    'fleet-intermediate': { ca: true, issuer: 'fleet-ca' },
    'noca': { ca: true, issuer: 'fleet-ca', isCA: false },
    'agent-cert-mismatch': { from: 'agent-cert', keyOf: 'fleet-es-cert' },
    'agent-cert-legacy': { from: 'agent-cert', keyFormat: 'legacy-encrypted' },
  }, pki, scratch.dir, { 'newline-passphrase': { trailingNewline: true }, 'other-passphrase': { value: 'nope' } });
});
afterAll(() => cleanup());

describe('scenario certificates', () => {
  it('writes an intermediate under its issuer, and leaves under the intermediate with the chain each asks for', async () => {
    expect((await cert('fleet-intermediate')).issuer).toContain('CN=fleet-ca');
    expect((await cert('fleet-cert-chained')).issuer).toContain('CN=fleet-intermediate');
    expect(await pems('fleet-cert-leaf-only')).toBe(1);
    expect(await pems('fleet-cert-chained')).toBe(2);
    expect(await pems('fleet-cert-full')).toBe(3);
  });

  it('issues an isCA: false issuer without the CA flag', async () => {
    expect((await cert('noca')).ca).toBe(false);
    expect((await cert('fleet-intermediate')).ca).toBe(true);
  });

  it('keyOf takes another certificate\'s key, so the certificate carries that key too', async () => {
    const made = await cert('agent-cert-mismatch');
    expect(made.publicKey.equals(new X509Certificate(pki.leaves['fleet-es-cert'].der).publicKey)).toBe(true);
  });

  it('writes a legacy Proc-Type key encrypted with the PKI passphrase, mode 0600', async () => {
    const file = path.join(material.dir, 'agent-cert-legacy.key');
    const text = await readFile(file, 'utf8');
    expect(text).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,/);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('writes passphrase files as asked, the PKI\'s passphrase by default', async () => {
    expect(await readFile(path.join(material.dir, 'newline-passphrase'), 'utf8')).toBe(`${pki.passphrase}\n`);
    expect(await readFile(path.join(material.dir, 'other-passphrase'), 'utf8')).toBe('nope');
  });

  it('refuses an issuer that is neither a PKI CA nor one of the scenario\'s', async () => {
    const scratch = await scratchDir();
    await expect(materialise({ x: { from: 'fleet-cert', issuer: 'nobody' } }, pki, scratch.dir))
      .rejects.toThrow("certificates: issuer 'nobody' is neither a PKI CA nor a CA of the scenario defined before it");
    await scratch.cleanup();
  });
});

describe('fingerprint templates in flag values', () => {
  it('gives the hex digest, the colon form openssl prints, and the base64 SPKI pin', () => {
    const der = pki.cas['es-ca'].der;
    const hex = createHash('sha256').update(der).digest('hex');
    const pin = createHash('sha256').update(new X509Certificate(der).publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
    expect(expandCertificateTemplates('{fingerprint:es-ca}', material.certificates)).toBe(hex);
    expect(expandCertificateTemplates('x={fingerprint-colons:es-ca}', material.certificates)).toBe(`x=${new X509Certificate(der).fingerprint256}`);
    expect(expandCertificateTemplates('{pin:es-ca}', material.certificates)).toBe(pin);
  });

  it('names the unknown certificate', () => {
    expect(() => expandCertificateTemplates('{pin:nope}', material.certificates)).toThrow("{pin:nope}: no certificate named 'nope'");
  });
});
