import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPki } from '../../src/api.js';
import { doctor, type DoctorResult } from '../../src/doctor/doctor.js';
import type { Pki } from '../../src/pki/store.js';
import { cliInProcess, fleetTls } from '../helpers/cli.js';
import { customerPki, P12_PASSWORD, type CustomerPki } from '../helpers/customer-pki.js';
import { scratchDir } from '../helpers/pki.js';
import { javaTool } from '../helpers/tools.js';

/*
 * The doctor on customer-style files made with the openssl CLI: each broken file named with
 * its fix, each leg predicted, and the real handshakes run with the same files agreeing.
 */
let c: CustomerPki;
let pki: Pki;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const scratch = await scratchDir('fth-doctor-');
  cleanup = scratch.cleanup;
  [c, pki] = await Promise.all([customerPki(scratch.dir), createPki({ dir: path.join(scratch.dir, 'certs'), keyType: 'ecdsa' })]);
}, 30_000);
afterAll(() => cleanup());

type Flags = Record<string, string | true | undefined>;
/** Elastic's one-way command with the customer's files; Elasticsearch from a certutil-shaped PKCS#12. */
const oneWay = (): Flags => ({
  url: 'https://localhost:8220',
  'certificate-authorities': c.file('root.crt'),
  'fleet-server-es': 'https://localhost:9200',
  'fleet-server-es-ca': c.file('root.crt'),
  'fleet-server-cert': c.file('fleet-chain.crt'),
  'fleet-server-cert-key': c.file('fleet.key'),
  'fleet-server-service-token': 'FLEET-SERVER-SERVICE-TOKEN',
  'es-keystore': c.file('elastic-certificates.p12'),
  'es-keystore-password': P12_PASSWORD,
});
const argv = (flags: Flags) => Object.entries(flags).filter(([, v]) => v !== undefined).map(([k, v]) => (v === true ? `--${k}` : `--${k}=${v}`));
const diagnose = (overrides: Flags, extra: { static?: boolean } = {}) => doctor(argv({ ...oneWay(), ...overrides }), { pki, ...extra });
const problems = (result: DoctorResult) => result.findings.filter((f) => f.severity !== 'info').map((f) => `${f.severity} ${f.code} ${f.flag}`);
const outcomes = (result: DoctorResult) => result.predictions.map((p) => [`${p.from}->${p.to}${p.stage ? ` (${p.stage})` : ''}`, p.outcome, p.actual, p.agrees]);

describe('doctor on customer files that work', () => {
  it('finds nothing wrong with the one-way command, and both handshakes work as predicted', async () => {
    const result = await diagnose({});
    expect(problems(result)).toEqual([]);
    expect(outcomes(result)).toEqual([
      ['fleet-server->elasticsearch', 'ok', 'ok', true], ['agent->fleet-server', 'ok', 'ok', true],
      ['agent->fleet-server (policy)', 'ok', 'ok', true], ['fleet-server->elasticsearch (policy)', 'ok', 'ok', true], ['agent->elasticsearch', 'ok', 'ok', true],
    ]);
    expect(result.ok).toBe(true);
    expect(result.legs.map((l) => l.ok)).toEqual([true, true, true, true, true]);
  });

  it('gives both fingerprint formats of every CA file', async () => {
    const result = await diagnose({}, { static: true });
    const root = result.findings.find((f) => f.code === 'FINGERPRINTS' && f.flag === '--certificate-authorities')!;
    expect(root.message).toMatch(/^CN=Customer root CA: ca_trusted_fingerprint [0-9a-f]{64}; ca_sha256 [A-Za-z0-9+/]{43}=$/);
  });
});

describe('doctor naming each fault, its fix, and a prediction the handshake confirms', () => {
  it('a SAN without the host the agent dials: HOST_MISMATCH, rejected by the agent', async () => {
    const result = await diagnose({ 'fleet-server-cert': c.file('wrong-san.crt'), 'fleet-server-cert-key': c.file('wrong-san.key') });
    const f = result.findings.find((x) => x.code === 'HOST_MISMATCH')!;
    expect(f).toMatchObject({ severity: 'error', flag: '--fleet-server-cert', file: c.file('wrong-san.crt'),
      message: 'agent dials localhost: x509: certificate is valid for fleet.example.com, not localhost' });
    expect(f.fix).toBe('reissue --fleet-server-cert with subjectAltName DNS:localhost, or dial a name it has');
    expect(result.predictions[1]).toMatchObject({ outcome: 'rejected-by-client', actual: 'rejected-by-client', agrees: true,
      message: 'x509: certificate is valid for fleet.example.com, not localhost' });
    expect(result.legs[0]!.logs.agent?.split('\n').at(-1)).toBe('fail to enroll: fail to execute request to fleet-server: x509: certificate is valid for fleet.example.com, not localhost');
    expect(result.ok).toBe(false);
  });

  it('a chain file without its intermediate: CHAIN_INCOMPLETE, signed by unknown authority', async () => {
    const result = await diagnose({ 'fleet-server-cert': c.file('fleet.crt') });
    expect(problems(result)).toEqual(['error CHAIN_INCOMPLETE --fleet-server-cert']);
    expect(result.findings[0]!.fix).toBe(`append the intermediate CA to the certificate file: cat ${c.file('fleet.crt')} intermediate.crt > chain.crt, and use chain.crt for --fleet-server-cert`);
    expect(outcomes(result)[1]).toEqual(['agent->fleet-server', 'rejected-by-client', 'rejected-by-client', true]);
    expect(result.predictions[1]!.message).toBe('x509: certificate signed by unknown authority');
  });

  it('a key that belongs to another certificate: KEY_MISMATCH, Fleet Server bootstraps, then fails in Go\'s words', async () => {
    const result = await diagnose({ 'fleet-server-cert-key': c.file('es.key') });
    expect(problems(result)).toEqual(['error KEY_MISMATCH --fleet-server-cert-key']);
    expect(result.findings[0]!.message).toBe(`the key does not belong to ${c.file('fleet-chain.crt')} (tls: private key does not match public key)`);
    expect(outcomes(result)).toEqual([['fleet-server->elasticsearch', 'ok', 'ok', true], ['agent->fleet-server', 'not-attempted', 'not-attempted', true], ['agent->elasticsearch', 'not-attempted', 'not-attempted', true]]);
    expect(result.startError).toBeUndefined();
    expect(result.legs[0]!.logs.agent).toBe('Fleet Server - Error - tls: private key does not match public key');
  });

  it('a passphrase file ending in a newline: PASSPHRASE_TRAILING_NEWLINE, with the command that strips it', async () => {
    const result = await diagnose({ 'fleet-server-cert-key': c.file('fleet-pkcs8-enc.key'), 'fleet-server-cert-key-passphrase': c.file('passphrase-newline') });
    expect(problems(result)).toEqual(['error PASSPHRASE_TRAILING_NEWLINE --fleet-server-cert-key-passphrase']);
    expect(result.findings[0]!.message).toBe(`the passphrase file ends with a newline, which the agent reads as part of the passphrase (no PEM blocks, failed to parse key: pkcs8: incorrect password ${c.file('fleet-pkcs8-enc.key')})`);
    expect(result.findings[0]!.fix).toContain(`printf '%s' "$(cat ${c.file('passphrase-newline')})"`);
    // Fleet Server cannot start, so no handshake confirms or contradicts the predictions.
    expect(result.predictions.every((p) => p.outcome === 'not-attempted' && p.actual === 'not-attempted' && p.agrees === null)).toBe(true);
  });

  it('a wrong passphrase: PASSPHRASE_WRONG', async () => {
    const result = await diagnose({ 'fleet-server-cert-key': c.file('fleet-pkcs8-enc.key'), 'fleet-server-cert-key-passphrase': c.file('wrong-passphrase') });
    expect(problems(result)).toEqual(['error PASSPHRASE_WRONG --fleet-server-cert-key-passphrase']);
  });

  it('a PBES1 key: KEY_ENCRYPTION_UNSUPPORTED, with the conversion to PBES2', async () => {
    const result = await diagnose({ 'fleet-server-cert-key': c.file('fleet-pbes1.key'), 'fleet-server-cert-key-passphrase': c.file('passphrase') });
    expect(problems(result)).toEqual(['error KEY_ENCRYPTION_UNSUPPORTED --fleet-server-cert-key']);
    expect(result.findings[0]!.fix).toBe(`openssl pkcs8 -topk8 -v2 aes-256-cbc -in ${c.file('fleet-pbes1.key')} -out ${path.join(c.dir, 'fleet-pbes1.pkcs8.key')}`);
  });

  it('a DER CA file: FORMAT_DER with the openssl conversion; nothing starts', async () => {
    const result = await diagnose({ 'certificate-authorities': c.file('root.der') });
    expect(problems(result)).toEqual(['error FORMAT_DER --certificate-authorities']);
    expect(result.findings[0]!.fix).toBe(`openssl x509 -inform der -in ${c.file('root.der')} -out ${path.join(c.dir, 'root.pem')}`);
    // Nothing can start, so no handshake runs to agree or disagree.
    expect(outcomes(result)).toEqual([['fleet-server->elasticsearch', 'not-attempted', 'not-attempted', null], ['agent->fleet-server', 'not-attempted', 'not-attempted', null], ['agent->elasticsearch', 'not-attempted', 'not-attempted', null]]);
  });

  it('a PKCS#12 where the agent wants PEM: FORMAT_PKCS12 with its entries and the three conversions', async () => {
    const result = await diagnose({ 'fleet-server-cert': c.file('fleet-nopass.p12'), 'fleet-server-cert-key': c.file('fleet-nopass.p12') });
    expect(problems(result)).toEqual(['error FORMAT_PKCS12 --fleet-server-cert', 'error FORMAT_PKCS12 --fleet-server-cert-key']);
    expect(result.findings[0]!.message).toBe(`a PKCS#12 keystore with fleet-server (key): the agent reads PEM only (no pem file ${c.file('fleet-nopass.p12')})`);
    expect(result.findings[0]!.fix).toContain(`openssl pkcs12 -in ${c.file('fleet-nopass.p12')} -clcerts -nokeys -out ${path.join(c.dir, 'fleet-nopass.crt')}`);
  });

  it('a server certificate for clients only: CERT_EKU, incompatible key usage', async () => {
    const result = await diagnose({ 'fleet-server-cert': c.file('client-only.crt'), 'fleet-server-cert-key': c.file('client-only.key') });
    expect(problems(result)).toEqual(['error CERT_EKU --fleet-server-cert']);
    expect(result.predictions[1]).toMatchObject({ message: 'x509: certificate specifies an incompatible key usage', actual: 'rejected-by-client', agrees: true });
  });

  it('a CN-only certificate: HOST_CN_ONLY warning; full verification works, as the handshake shows', async () => {
    const result = await diagnose({ 'fleet-server-cert': c.file('cn-only.crt'), 'fleet-server-cert-key': c.file('cn-only.key') });
    expect(problems(result)).toEqual(['warning HOST_CN_ONLY --fleet-server-cert']);
    expect(result.findings[0]!.message).toBe('localhost matches only the legacy Common Name: full verification accepts it, strict fails with "x509: certificate relies on legacy Common Name field, use SANs instead"');
    expect(result.ok).toBe(true);
  });

  it('mTLS required without an agent certificate: CLIENT_CERT_MISSING, rejected by Fleet Server', async () => {
    const result = await diagnose({ 'fleet-server-client-auth': 'required' });
    expect(problems(result)).toEqual(['error CLIENT_CERT_MISSING --elastic-agent-cert']);
    expect(result.predictions[1]).toMatchObject({ outcome: 'rejected-by-server', actual: 'rejected-by-server', message: "tls: client didn't provide a certificate" });
    expect(result.legs[0]!.logs['fleet-server']).toMatch(/^http: TLS handshake error from 127\.0\.0\.1:\d+: tls: client didn't provide a certificate$/);
  });

  it('an agent certificate from a CA Fleet Server does not list: CLIENT_CERT_UNTRUSTED, withheld, then rejected', async () => {
    const result = await diagnose({ 'fleet-server-client-auth': 'required', 'elastic-agent-cert': c.file('rogue-agent.crt'), 'elastic-agent-cert-key': c.file('rogue-agent.key') });
    expect(result.findings.find((f) => f.code === 'CLIENT_CERT_UNTRUSTED')?.message)
      .toBe('the agent withholds CN=rogue agent: its issuer CN=Customer other-root CA is not among the CAs fleet-server asks for (--certificate-authorities)');
    expect(outcomes(result)[1]).toEqual(['agent->fleet-server', 'rejected-by-server', 'rejected-by-server', true]);
  });

  it('a legacy encrypted agent key: KEY_LEGACY_ENCRYPTED warning, and mTLS works', async () => {
    const result = await diagnose({ 'fleet-server-client-auth': 'required', 'elastic-agent-cert': c.file('rsa-agent.crt'),
      'elastic-agent-cert-key': c.file('rsa-agent-legacy.key'), 'elastic-agent-cert-key-passphrase': c.file('passphrase') });
    expect(problems(result)).toEqual(['warning KEY_LEGACY_ENCRYPTED --elastic-agent-cert-key']);
    expect(result.findings[0]!.fix).toBe(`openssl pkcs8 -topk8 -v2 aes-256-cbc -in ${c.file('rsa-agent-legacy.key')} -out ${path.join(c.dir, 'rsa-agent-legacy.pkcs8.key')}`);
    expect(outcomes(result)).toEqual([
      ['fleet-server->elasticsearch', 'ok', 'ok', true], ['agent->fleet-server', 'ok', 'ok', true],
      ['agent->fleet-server (policy)', 'ok', 'ok', true], ['fleet-server->elasticsearch (policy)', 'ok', 'ok', true], ['agent->elasticsearch', 'ok', 'ok', true],
    ]);
  });

  it('an agent key that does not decrypt stops the agent only: Fleet Server still reaches Elasticsearch', async () => {
    const result = await diagnose({ 'fleet-server-client-auth': 'required', 'elastic-agent-cert': c.file('rsa-agent.crt'),
      'elastic-agent-cert-key': c.file('rsa-agent-legacy.key'), 'elastic-agent-cert-key-passphrase': c.file('passphrase-newline') });
    expect(problems(result)).toEqual(['error PASSPHRASE_TRAILING_NEWLINE --elastic-agent-cert-key-passphrase', 'warning KEY_LEGACY_ENCRYPTED --elastic-agent-cert-key']);
    expect(outcomes(result)).toEqual([['fleet-server->elasticsearch', 'ok', 'ok', true], ['agent->fleet-server', 'not-attempted', 'not-attempted', true], ['agent->elasticsearch', 'not-attempted', 'not-attempted', true]]);
    expect(result.legs[0]!.logs.agent).toBe(`Error: no PEM blocks\nfailed to decrypt PKCS#1 key: x509: decryption password incorrect ${c.file('rsa-agent-legacy.key')}`);
  });

  it('a fingerprint pasted with colons: FINGERPRINT_FORMAT; Fleet Server never becomes healthy', async () => {
    const result = await diagnose({ 'fleet-server-es-ca': undefined, 'fleet-server-es-ca-trusted-fingerprint': 'AB:CD' });
    expect(problems(result)).toEqual(['error FINGERPRINT_FORMAT --fleet-server-es-ca-trusted-fingerprint']);
    expect(outcomes(result)).toEqual([
      ['fleet-server->elasticsearch', 'rejected-by-client', 'rejected-by-client', true],
      ['agent->fleet-server', 'not-attempted', 'not-attempted', true],
      ['agent->elasticsearch', 'not-attempted', 'not-attempted', true],
    ]);
  });

  it('a hex value given as --ca-sha256: CA_SHA256_NO_MATCH with the right pins', async () => {
    const result = await diagnose({ 'ca-sha256': 'deadbeef' });
    expect(problems(result)).toEqual(['error CA_SHA256_NO_MATCH --ca-sha256']);
    expect(result.findings[0]!.fix).toMatch(/^--ca-sha256 takes base64 SHA-256 of a CA's public key \(CN=Customer Intermediate CA: [A-Za-z0-9+/]{43}=\)/);
    expect(result.predictions[1]).toMatchObject({ actual: 'rejected-by-client', agrees: true });
  });
});

/** The CLI in-process, for exit statuses and one-line refusals. */
const cli = (...args: string[]) => cliInProcess(args, c.dir);
const certs = () => `--certs=${path.join(c.dir, 'certs')}`;

describe('fleet-tls doctor on the command line', () => {
  it('prints { ok, findings, legs } as JSON and exits 1 for a broken command', async () => {
    const { exitCode, stdout } = await fleetTls(['doctor', ...argv({ ...oneWay(), 'fleet-server-cert': c.file('fleet.crt') }), certs(), '--json']);
    const doc = JSON.parse(stdout) as { ok: boolean; findings: Array<Record<string, unknown>>; legs: Array<{ from: string; to: string; ok: boolean }> };
    expect(exitCode).toBe(1);
    expect(doc.ok).toBe(false);
    expect(Object.keys(doc.findings[0]!)).toEqual(['severity', 'flag', 'file', 'code', 'message', 'fix']);
    expect(doc.findings[0]).toMatchObject({ severity: 'error', code: 'CHAIN_INCOMPLETE' });
    expect(doc.legs.map((l) => [`${l.from}->${l.to}`, l.ok])).toEqual([['agent->fleet-server', false], ['fleet-server->elasticsearch', true], ['agent->elasticsearch', false]]);
  });

  it('exits 0 for a command that works, and --static runs no handshake', async () => {
    expect((await cli('doctor', ...argv(oneWay()), certs())).status).toBe(0);
    const statically = await cli('doctor', ...argv(oneWay()), certs(), '--static');
    expect(statically.status).toBe(0);
    expect(statically.out).toContain('agent -> fleet-server: works | (static: not run)');
  });

  it.each([
    ['a key where the certificate belongs', { 'fleet-server-cert': 'fleet.key' }, '--fleet-server-cert', 'holds a PEM private key (PKCS#8), not a certificate'],
    ['a CSR where the certificate belongs', { 'fleet-server-cert': 'fleet.csr' }, '--fleet-server-cert', 'holds a certificate signing request (CERTIFICATE REQUEST), not a certificate'],
    ['a certificate where the key belongs', { 'fleet-server-cert-key': 'fleet.crt' }, '--fleet-server-cert-key', 'holds a PEM certificate, not a private key'],
    ['a passphrase where the CA belongs', { 'certificate-authorities': 'passphrase' }, '--certificate-authorities', 'holds text that is not PEM, not a CA certificate'],
  ])('refuses %s with exit 2 and one line naming the flag, the file and what it holds', async (_what, override, flag, holds) => {
    const [name, file] = Object.entries(override)[0]!;
    const result = await cli('doctor', ...argv({ ...oneWay(), [name]: c.file(file) }), certs());
    expect(result).toEqual({ status: 2, out: '', err: `fleet-tls: FTH_FILE_MALFORMED: ${flag} ${c.file(file)}: ${holds}\n` });
  });

  it('reads a password-protected PKCS#12 given to an agent flag with --p12-password, and refuses it without', async () => {
    const flags = argv({ ...oneWay(), 'fleet-server-cert': c.file('openssl-export.p12'), 'fleet-server-cert-key': c.file('openssl-export.p12') });
    expect(await cli('doctor', ...flags, certs(), '--static')).toEqual({
      status: 2, out: '',
      err: `fleet-tls: FTH_KEY_PASSPHRASE: --fleet-server-cert ${c.file('openssl-export.p12')}: the PKCS#12 password is wrong (keystore password was incorrect) (give it with --p12-password)\n`,
    });
    const read = await cli('doctor', ...flags, certs(), '--static', '--p12-password', P12_PASSWORD, '--json');
    expect(read.status).toBe(1);
    const doc = JSON.parse(read.out) as DoctorResult;
    expect(doc.findings.find((f) => f.code === 'FORMAT_PKCS12' && f.flag === '--fleet-server-cert')?.message)
      .toBe(`a PKCS#12 keystore with instance (key): the agent reads PEM only (no pem file ${c.file('openssl-export.p12')})`);
  });

  it('tells how to take the CA out of certutil\'s elastic-stack-ca.p12, where it is the key entry', async () => {
    const result = await diagnose({ 'certificate-authorities': c.file('elastic-stack-ca.p12') }, { static: true });
    expect(result.findings.find((f) => f.code === 'FORMAT_PKCS12')).toMatchObject({
      severity: 'error', flag: '--certificate-authorities', message: 'a PKCS#12 keystore (ca (key)): libs reads PEM only',
      fix: `openssl pkcs12 -in ${c.file('elastic-stack-ca.p12')} -clcerts -nokeys -out ${path.join(c.dir, 'elastic-stack-ca-ca.crt')}`,
    });
  });

  it('refuses an unreadable file and a wrong PKCS#12 password with exit 2', async () => {
    expect(await cli('doctor', ...argv({ ...oneWay(), 'fleet-server-cert': c.file('missing.crt') }), certs()))
      .toEqual({ status: 2, out: '', err: `fleet-tls: FTH_FILE_UNREADABLE: --fleet-server-cert ${c.file('missing.crt')}: no such file or directory\n` });
    expect(await cli('doctor', ...argv({ ...oneWay(), 'es-keystore-password': 'wrong' }), certs())).toEqual({
      status: 2, out: '',
      err: `fleet-tls: FTH_KEY_PASSPHRASE: --es-keystore ${c.file('elastic-certificates.p12')}: the PKCS#12 password is wrong (keystore password was incorrect)\n`,
    });
  });
});

describe('doctor\'s words about files and predictions', () => {
  /** A copy of a PEM file whose `index`th CERTIFICATE block keeps its label but loses its DER. */
  async function corrupt(name: string, index: number): Promise<string> {
    const text = await readFile(c.file(name), 'latin1');
    let seen = -1;
    const broken = text.replace(/(-----BEGIN CERTIFICATE-----\n)([A-Za-z0-9+/=\n]+)(-----END CERTIFICATE-----)/g, (all, begin: string, body: string, end: string) => {
      seen += 1;
      if (seen !== index) return all;
      const der = Buffer.from(body.replace(/\n/g, ''), 'base64');
      der.fill(0, 60, 90);
      return `${begin}${der.toString('base64').replace(/(.{64})/g, '$1\n')}\n${end}`;
    });
    const out = c.file(`corrupt-${index}-${name}`);
    await writeFile(out, broken);
    return out;
  }

  it('a chain with a block Go cannot parse: CERT_MALFORMED for that block, and the rest of the file still read', async () => {
    const file = await corrupt('fleet-chain.crt', 1);
    const result = await diagnose({ 'fleet-server-cert': file });
    const malformed = result.findings.find((f) => f.code === 'CERT_MALFORMED')!;
    expect(malformed).toMatchObject({ severity: 'error', flag: '--fleet-server-cert', file });
    expect(malformed.message).toMatch(/^PEM block 2 is labelled CERTIFICATE but Go cannot parse it \(x509: .+\)$/);
    // The leaf still parsed: its own checks (here none fail) and the leg predictions go on.
    expect(result.predictions).toHaveLength(3);
  });

  it('names every file that is not what its flag wants in one line, not the first alone', async () => {
    const cert = await corrupt('fleet.crt', 0);
    const result = await cli('doctor', ...argv({ ...oneWay(), 'fleet-server-cert': cert, 'fleet-server-es-ca': c.file('fleet.key') }), certs());
    expect(result).toEqual({
      status: 2, out: '',
      err: `fleet-tls: FTH_FILE_MALFORMED: --fleet-server-cert ${cert}: holds a PEM block labelled "CERTIFICATE" whose body is no certificate Go can parse, not a certificate; ` +
        `--fleet-server-es-ca ${c.file('fleet.key')}: holds a PEM private key (PKCS#8), not a CA certificate\n`,
    });
  });

  it('suggests an IP SAN, not a DNS one, when the agent dials an IP address', async () => {
    const result = await diagnose({ url: 'https://127.0.0.1:8220', 'fleet-server-cert': c.file('wrong-san.crt'), 'fleet-server-cert-key': c.file('wrong-san.key') }, { static: true });
    expect(result.findings.find((f) => f.code === 'HOST_MISMATCH')!.fix).toBe('reissue --fleet-server-cert with subjectAltName IP:127.0.0.1, or dial a name it has');
  });

  it('does not call a prediction confirmed when the leg fails for another reason', async () => {
    // Judged two days on, a one-day certificate has expired; the handshake today refuses its host name.
    const cert = c.file('one-day-wrong-san.crt');
    await writeFile(c.file('one-day.ext'), 'subjectAltName=DNS:fleet.example.com\nextendedKeyUsage=serverAuth\n');
    await execa('openssl', ['req', '-new', '-key', c.file('wrong-san.key'), '-subj', '/CN=fleet.example.com', '-out', c.file('one-day.csr')]);
    await execa('openssl', ['x509', '-req', '-in', c.file('one-day.csr'), '-CA', c.file('root.crt'), '-CAkey', c.file('root.key'), '-set_serial', '0x5eed',
      '-days', '1', '-extfile', c.file('one-day.ext'), '-out', cert]);
    const later = new Date(Date.now() + 2 * 86_400_000);
    const result = await doctor(argv({ ...oneWay(), 'fleet-server-cert': cert, 'fleet-server-cert-key': c.file('wrong-san.key') }), { pki, now: later });
    expect(result.predictions[1]).toMatchObject({ outcome: 'rejected-by-client', actual: 'rejected-by-client', agrees: false });
    expect(result.predictions[1]!.message).toBe('x509: certificate has expired or is not yet valid: current time ' +
      `${later.toISOString().slice(0, 19)}Z is after ${result.legs[0]!.serverCertificate!.notAfter.replace(/\.\d+Z$/, 'Z')}`);
    expect(result.legs[0]!.logs.agent).toContain('x509: certificate is valid for fleet.example.com, not localhost');
  });

  it('refuses a PKCS#12 with more iterations than Java allows, in Java\'s words, without computing them', async () => {
    // openssl writes 65536 (02 03 01 00 00); the certificates' PBE count becomes 6,000,000 (02 03 5b 8d 80).
    const file = c.file('many-iterations.p12');
    await execa('openssl', ['pkcs12', '-export', '-in', c.file('es.crt'), '-inkey', c.file('es.key'), '-passout', `pass:${P12_PASSWORD}`, '-iter', '65536', '-out', file]);
    const bytes = await readFile(file);
    const at = bytes.indexOf(Buffer.from([2, 3, 1, 0, 0]));
    Buffer.from([2, 3, 0x5b, 0x8d, 0x80]).copy(bytes, at);
    await writeFile(file, bytes);
    const keytool = await execa(javaTool().replace(/java$/, 'keytool'), ['-list', '-keystore', file, '-storepass', P12_PASSWORD, '-storetype', 'PKCS12'], { reject: false });
    expect(keytool.stdout).toContain('java.io.IOException: cert PBE iteration count too large');
    expect(await cli('doctor', ...argv({ ...oneWay(), 'es-keystore': file }), certs())).toEqual({
      status: 2, out: '',
      err: `fleet-tls: FTH_FILE_MALFORMED: --es-keystore ${file}: Java refuses this keystore (cert PBE iteration count too large; it allows at most 5000000 iterations)\n`,
    });
  });

  it('reads a PKCS#12 made with 400,000 iterations natively, where a JavaScript KDF took minutes', async () => {
    const file = c.file('million.p12');
    await execa('openssl', ['pkcs12', '-export', '-in', c.file('es.crt'), '-inkey', c.file('es.key'), '-certfile', c.file('root.crt'), '-passout', `pass:${P12_PASSWORD}`, '-iter', '400000', '-out', file]);
    const result = await diagnose({ 'es-keystore': file }, { static: true });
    expect(result.predictions[0]).toMatchObject({ from: 'fleet-server', to: 'elasticsearch', outcome: 'ok' });
  });
});
