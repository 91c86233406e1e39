import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { issueCertificate, toPem, type CertificateSpec } from '../../../src/pki/issue.js';
import { KeyUsage, parsePemCertificates, type Cert } from '../../../src/x509/certificate.js';
import { subjectKeyIdentifier } from '../../../src/pki/keys.js';

const caKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const leafKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const notBefore = new Date('2026-01-01T00:00:00Z');
const notAfter = new Date('2027-01-01T00:00:00Z');
const ca = issueCertificate({ subject: { commonName: 'test-ca', organization: 'fleet-tls-harness' }, publicKey: caKey.publicKey, signingKey: caKey.privateKey, notBefore, notAfter, isCA: true });
const issuer = { der: ca.der, key: caKey.privateKey };
const parse = (pem: string): Cert => parsePemCertificates(pem)[0]!;
const leaf = (overrides: Partial<CertificateSpec> = {}) =>
  parse(issueCertificate({ subject: { commonName: 'leaf' }, publicKey: leafKey.publicKey, issuer, notBefore, notAfter, ...overrides }).pem);

describe('issueCertificate', () => {
  it('makes a self-signed CA with critical basicConstraints CA:TRUE, keyCertSign and cRLSign, and no EKU', () => {
    const cert = parse(ca.pem);
    expect([cert.version, cert.subject, cert.issuer, cert.isSelfSigned]).toEqual([3, 'CN=test-ca,O=fleet-tls-harness', 'CN=test-ca,O=fleet-tls-harness', true]);
    expect(cert.extensions.map((e) => [e.oid, e.critical])).toEqual([['2.5.29.19', true], ['2.5.29.15', true], ['2.5.29.14', false]]);
    expect([cert.isCA, cert.maxPathLen, cert.keyUsage, cert.extKeyUsage]).toEqual([true, -1, KeyUsage.CertSign | KeyUsage.CRLSign, []]);
    expect(cert.subjectKeyId?.equals(subjectKeyIdentifier(caKey.publicKey))).toBe(true);
    expect(cert.authorityKeyId).toBeNull();
    expect([cert.notBefore.toISOString(), cert.notAfter.toISOString(), cert.signatureAlgorithm]).toEqual([notBefore.toISOString(), notAfter.toISOString(), 'ECDSA-SHA256']);
  });

  it('writes a path length when asked', () => {
    const cert = parse(issueCertificate({ subject: { commonName: 'ca0' }, publicKey: caKey.publicKey, signingKey: caKey.privateKey, notBefore, notAfter, isCA: true, pathLength: 0 }).pem);
    expect([cert.maxPathLen, cert.maxPathLenZero]).toEqual([0, true]);
  });

  it('makes a leaf signed by its issuer, with CA:FALSE, digitalSignature, serverAuth and the issuer\'s key id', () => {
    const cert = leaf();
    expect(new X509Certificate(cert.der).verify(new X509Certificate(ca.der).publicKey)).toBe(true);
    expect([cert.issuer, cert.basicConstraintsValid, cert.isCA, cert.keyUsage, cert.extKeyUsage]).toEqual(['CN=test-ca,O=fleet-tls-harness', true, false, KeyUsage.DigitalSignature, ['serverAuth']]);
    expect(cert.authorityKeyId?.equals(subjectKeyIdentifier(caKey.publicKey))).toBe(true);
  });

  it('adds keyEncipherment for an RSA leaf and signs with SHA256-RSA for an RSA issuer', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const cert = parse(issueCertificate({ subject: { commonName: 'rsa' }, publicKey: rsa.publicKey, signingKey: rsa.privateKey, notBefore, notAfter }).pem);
    expect([cert.keyUsage, cert.signatureAlgorithm]).toEqual([KeyUsage.DigitalSignature | KeyUsage.KeyEncipherment, 'SHA256-RSA']);
  });

  it('puts DNS and IP names in the SAN, or leaves the extension out with subjectAltName false', () => {
    const withSan = leaf({ dnsNames: ['localhost', 'fleet-server'], ipAddresses: ['127.0.0.1', '::1'] });
    expect([withSan.hasSanExtension, withSan.dnsNames, withSan.ipAddresses]).toEqual([true, ['localhost', 'fleet-server'], ['127.0.0.1', '::1']]);
    const cnOnly = leaf({ dnsNames: ['localhost'], subjectAltName: false });
    expect([cnOnly.hasSanExtension, cnOnly.dnsNames]).toEqual([false, []]);
  });

  it('leaves out basicConstraints with absent and EKU with null, and takes an explicit key usage and EKU list', () => {
    const bare = leaf({ basicConstraints: 'absent', extendedKeyUsage: null });
    expect([bare.basicConstraintsValid, bare.extKeyUsage, bare.extensions.some((e) => e.oid === '2.5.29.37')]).toEqual([false, [], false]);
    const custom = leaf({ keyUsage: ['keyCertSign'], extendedKeyUsage: ['clientAuth', 'serverAuth'] });
    expect([custom.keyUsage, custom.extKeyUsage]).toEqual([KeyUsage.CertSign, ['clientAuth', 'serverAuth']]);
  });

  it('writes a positive 16-byte serial, or the serial given', () => {
    for (let i = 0; i < 20; i++) expect(BigInt(leaf().serialNumber) > 0n).toBe(true);
    expect(leaf({ serialNumber: Buffer.from([0x01, 0x02]) }).serialNumber).toBe('258');
  });

  it('copies a raw subject byte for byte', () => {
    const raw = parse(ca.pem).rawSubject;
    expect(leaf({ subject: { raw } }).rawSubject.equals(raw)).toBe(true);
  });

  it('writes an IPv4-mapped IPv6 SAN as its sixteen bytes, as Go\'s net.ParseIP reads it', () => {
    const cert = leaf({ ipAddresses: ['::ffff:10.1.2.3'] });
    const san = new X509Certificate(cert.der).subjectAltName;
    expect(san).toBe('IP Address:0:0:0:0:0:FFFF:A01:203');
  });

  it('writes UTCTime through 2049 and GeneralizedTime from 2050, to the second, and long names with long-form lengths', () => {
    const late = leaf({ notBefore: new Date('1999-12-31T23:59:59.900Z'), notAfter: new Date('2050-01-01T00:00:00.250Z'), dnsNames: Array.from({ length: 40 }, (_, i) => `host-${i}.example.com`) });
    expect([late.notBefore.toISOString(), late.notAfter.toISOString()]).toEqual(['1999-12-31T23:59:59.000Z', '2050-01-01T00:00:00.000Z']);
    expect(late.dnsNames).toHaveLength(40);
    expect(new X509Certificate(late.der).validTo).toBe('Jan  1 00:00:00 2050 GMT');
  });

  it('refuses an IP SAN that is not an IP address, and a self-signed certificate without a signing key', () => {
    expect(() => leaf({ ipAddresses: ['999.1.1.1'] })).toThrow('not an IP address: 999.1.1.1');
    expect(() => issueCertificate({ subject: { commonName: 'x' }, publicKey: leafKey.publicKey, notBefore, notAfter })).toThrow('a self-signed certificate needs signingKey');
  });
});

describe('toPem', () => {
  it('wraps base64 at 64 columns between BEGIN and END lines, with a final newline', () => {
    const der = Buffer.alloc(100, 0xab);
    const lines = toPem(der, 'TEST').split('\n');
    expect(lines[0]).toBe('-----BEGIN TEST-----');
    expect(lines.slice(1, -2).map((l) => l.length)).toEqual([64, 64, 8]);
    expect(lines.slice(-2)).toEqual(['-----END TEST-----', '']);
    expect(Buffer.from(lines.slice(1, -2).join(''), 'base64').equals(der)).toBe(true);
    expect(toPem(Buffer.alloc(48)).split('\n')).toEqual(['-----BEGIN CERTIFICATE-----', Buffer.alloc(48).toString('base64'), '-----END CERTIFICATE-----', '']);
  });
});
