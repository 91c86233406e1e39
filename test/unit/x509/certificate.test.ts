import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KeyUsage, parseCertificate, parsePemCertificates } from '../../../src/x509/certificate.js';
import { expectParseError, expectParsed } from './expect-go.js';
import { der, ecKey, issue, issueDer, pki } from './helpers.js';

describe('parseCertificate fields', () => {
  it('prints names the way Go does: reordered by attribute type, most specific first', () => {
    const cert = issue({ subject: [['C', 'NL'], ['O', 'Elastic'], ['CN', 'fleet-server']] });
    expectParsed(cert.der, { subject: 'CN=fleet-server,O=Elastic,C=NL', issuer: 'CN=fleet-server,O=Elastic,C=NL' });
    const cnFirst = issue({ subject: [['CN', 'es01'], ['OU', 'ops'], ['O', 'Elastic']] });
    expectParsed(cnFirst.der, { subject: 'CN=es01,OU=ops,O=Elastic' });
    expect(cnFirst.cert.commonName).toBe('es01');
    expect(cnFirst.cert.organization).toEqual(['Elastic']);
  });

  it('escapes RFC 2253 specials and shows unknown attribute types as hex DER', () => {
    const cert = issue({ subject: [['1.2.840.113549.1.9.1', 'ops@example.com'], ['CN', ' a,b+c ']] });
    expectParsed(cert.der, { subject: 'CN=\\ a\\,b\\+c\\ ,1.2.840.113549.1.9.1=#0c0f6f7073406578616d706c652e636f6d' });
  });

  it('reads the serial in decimal and the validity in RFC 3339', () => {
    const cert = issue({ serial: 0x0102030405060708090an, notBefore: new Date('2024-02-29T10:11:12Z'), notAfter: new Date('2051-01-01T00:00:00Z') });
    expectParsed(cert.der, { serialNumber: '4759477275222530853130', notBefore: '2024-02-29T10:11:12Z', notAfter: '2051-01-01T00:00:00Z' });
    expect(cert.cert.notAfter).toEqual(new Date('2051-01-01T00:00:00Z'));
  });

  it('formats IP SANs like net.IP.String (v4-mapped as dotted quad, IPv6 compressed)', () => {
    const cert = issue({ ips: ['::ffff:10.0.0.1', '2001:db8:0:0:1:0:0:1', '::1', '192.168.1.20'], dns: ['Fleet.Example.'] });
    expectParsed(cert.der, { ipAddresses: ['10.0.0.1', '2001:db8::1:0:0:1', '::1', '192.168.1.20'], dnsNames: ['Fleet.Example.'] });
    expect(cert.cert.hasSanExtension).toBe(true);
  });

  it('reports CA flags, key usage bits and path length with Go semantics', () => {
    const { root } = pki();
    expectParsed(root.cert.der, { isCA: true, maxPathLen: -1, maxPathLenZero: false, keyUsage: KeyUsage.DigitalSignature | KeyUsage.CertSign | KeyUsage.CRLSign });
    const zero = issue({ ca: true, pathLen: 0 });
    expectParsed(zero.der, { isCA: true, maxPathLen: 0, maxPathLenZero: true });
    // Go leaves MaxPathLen at 0 without basicConstraints; here it reads -1, "absent", all the same to Verify.
    const leaf = issue({});
    expect([leaf.cert.basicConstraintsValid, leaf.cert.maxPathLen, leaf.cert.maxPathLenZero]).toEqual([false, -1, false]);
  });

  it('names known extended key usages and keeps unknown ones as OIDs', () => {
    const cert = issue({ eku: ['serverAuth', '1.3.6.1.4.1.99999.1', 'clientAuth'] });
    expectParsed(cert.der, { unknownExtKeyUsage: ['1.3.6.1.4.1.99999.1'] });
    expect(cert.cert.extKeyUsage).toEqual(['serverAuth', '1.3.6.1.4.1.99999.1', 'clientAuth']);
  });

  it('counts a critical SAN holding nothing Go understands as unhandled', () => {
    const otherNameOnly = der(0x30, der(0xa0, der(0x06, Buffer.from([0x2b, 0x06, 0x01])), der(0xa0, der(0x0c, Buffer.from('x')))));
    const cert = issue({ extra: [{ oid: '2.5.29.17', critical: true, value: otherNameOnly }] });
    expectParsed(cert.der, { unhandledCriticalExtensions: ['2.5.29.17'], dnsNames: [] });
  });

  it('exposes the DER digest, the SPKI, a PEM form and self-signedness', () => {
    const { root, leaf } = pki();
    expect(root.cert.sha256Hex).toBe(createHash('sha256').update(root.der).digest('hex'));
    expect(root.cert.spkiDer).toEqual(root.key.publicKey.export({ type: 'spki', format: 'der' }));
    expect(root.cert.isSelfSigned).toBe(true);
    expect(leaf.cert.isSelfSigned).toBe(false);
    expect(issue({ subject: [['CN', 'x']], issuer: issue({ subject: [['CN', 'x']], key: ecKey() }) }).cert.isSelfSigned).toBe(false);
    expect(root.cert.pem.split('\n').every((line) => line.length <= 64)).toBe(true);
    const key = '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n';
    expect(parsePemCertificates(key + leaf.cert.pem + root.cert.pem).map((c) => c.commonName)).toEqual(['leaf', 'test-root']);
  });
});

describe('parseCertificate errors', () => {
  const good = issue({ dns: ['localhost'] }).der;

  it('rejects bytes that are not a certificate', () => {
    expectParseError(Buffer.from('not a certificate'), 'x509: malformed certificate');
  });

  it('rejects trailing bytes after the certificate', () => {
    expectParseError(Buffer.concat([good, Buffer.from([0])]), 'x509: trailing data');
  });

  it('rejects a repeated extension', () => {
    const cert = issueDer({ extra: [{ oid: '2.5.29.14', value: der(0x04, Buffer.from([1, 2, 3])) }] });
    expectParseError(cert.der, 'x509: certificate contains duplicate extensions');
  });

  it('rejects an IP SAN that is neither 4 nor 16 bytes', () => {
    const cert = issueDer({ extra: [{ oid: '2.5.29.17', value: der(0x30, der(0x87, Buffer.from([127, 0, 0, 1, 0]))) }] });
    expectParseError(cert.der, 'x509: cannot parse IP address of length 5');
  });

  it('rejects a DNS SAN that is not ASCII', () => {
    const cert = issueDer({ extra: [{ oid: '2.5.29.17', value: der(0x30, der(0x82, Buffer.from('flèet.example'))) }] });
    expectParseError(cert.der, 'x509: SAN dNSName is malformed');
  });

  it('rejects name constraints with no subtrees', () => {
    const cert = issueDer({ ca: true, extra: [{ oid: '2.5.29.30', critical: true, value: der(0x30) }] });
    expectParseError(cert.der, 'x509: empty name constraints extension');
  });

  it('rejects a basicConstraints boolean that is not DER', () => {
    const cert = issueDer({ extra: [{ oid: '2.5.29.19', value: der(0x30, der(0x01, Buffer.from([0x01]))) }] });
    expectParseError(cert.der, 'x509: invalid basic constraints b');
  });

  it('throws an error whose name tells parse failures apart', () => {
    expect(() => parseCertificate(Buffer.alloc(0))).toThrow(expect.objectContaining({ name: 'CertificateParseError' }));
  });
});
