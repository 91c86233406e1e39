import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { leafFindings } from '../../../src/doctor/inspect-files.js';
import { predictLeg, type LegSetup } from '../../../src/doctor/predict.js';
import { issueCa, issueLeaf } from '../../../src/pki/generate.js';
import { parsePemCertificates, type Cert } from '../../../src/x509/certificate.js';
import { caTrustedFingerprint } from '../../../src/x509/libs-verify.js';

const ec = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const parse = (pem: string): Cert => parsePemCertificates(pem)[0]!;
const caKeyed = issueCa('es-ca', ec());
const ca = parse(caKeyed.pem);
const leaf = parse(issueLeaf('es-cert', caKeyed, ec()).pem);

/** Fleet Server to the fake Elasticsearch, trusting it by ca_trusted_fingerprint only. */
const byFingerprint = (fingerprint: string, chain: Cert[]): LegSetup => ({
  from: 'fleet-server', to: 'elasticsearch', host: 'localhost', mode: 'full', trustFlag: '--fleet-server-es-ca', roots: 'system',
  caTrustedFingerprint: fingerprint, serverFlag: '--es-cert', serverFile: 'es.crt', serverChain: chain,
  clientAuthentication: 'none', clientCAFlag: '--es-client-ca', clientCAs: [], server: 'java',
});
const codes = (result: ReturnType<typeof predictLeg>) => result.findings.map((f) => `${f.severity} ${f.code}`);

describe('predictLeg with ca_trusted_fingerprint', () => {
  it('predicts success when Elasticsearch sends the CA whose fingerprint is given', () => {
    const result = predictLeg(byFingerprint(caTrustedFingerprint(ca), [leaf, ca]));
    expect(result.prediction).toEqual({ from: 'fleet-server', to: 'elasticsearch', outcome: 'ok', message: 'the server does not ask for a client certificate' });
    expect(codes(result)).toEqual([]);
  });

  it('names FINGERPRINT_CA_NOT_SENT when Elasticsearch sends its leaf alone, and predicts unknown authority', () => {
    const result = predictLeg(byFingerprint(caTrustedFingerprint(ca), [leaf]));
    expect(codes(result)).toEqual(['error FINGERPRINT_CA_NOT_SENT']);
    expect(result.findings[0]!.message).toBe("The remote server's certificate is presented without its certificate chain. Using 'ca_trusted_fingerprint' requires that the server presents a certificate chain that includes the certificate's issuing certificate authority.");
    expect(result.prediction).toMatchObject({ outcome: 'rejected-by-client', message: 'x509: certificate signed by unknown authority' });
  });

  it('names FINGERPRINT_NOT_CA when the fingerprint is the leaf\'s', () => {
    const result = predictLeg(byFingerprint(caTrustedFingerprint(leaf), [leaf, ca]));
    expect(codes(result)).toContain('error FINGERPRINT_NOT_CA');
    expect(result.findings.find((f) => f.code === 'FINGERPRINT_NOT_CA')!.fix).toBe(`use the fingerprint of the CA that issued ${leaf.subject}: openssl x509 -in ca.crt -outform der | sha256sum`);
  });

  it('names FINGERPRINT_NO_MATCH for a fingerprint of some other certificate', () => {
    const result = predictLeg(byFingerprint('00'.repeat(32), [leaf, ca]));
    expect(codes(result)).toContain('error FINGERPRINT_NO_MATCH');
  });
});

describe('predictLeg for a client certificate Elasticsearch judges', () => {
  const clientKeyed = issueLeaf('fleet-es-cert', caKeyed, ec());
  const client = parse(clientKeyed.pem);
  const withClient = (clientAuthentication: 'optional' | 'required', clientCAs: Cert[], chain: Cert[] = [client]): LegSetup => ({
    ...byFingerprint(caTrustedFingerprint(ca), [leaf, ca]), clientAuthentication, clientCAs, clientFlag: '--fleet-server-es-cert', clientFile: 'fleet-es.crt', clientChain: chain,
  });

  it('predicts acceptance by a trusting Elasticsearch', () => {
    expect(predictLeg(withClient('required', [ca])).prediction.outcome).toBe('ok');
  });

  it('predicts JSSE\'s rejection of a client certificate with only serverAuth', () => {
    const serverOnly = parse(issueLeaf('fleet-es-cert', caKeyed, ec(), { extendedKeyUsage: ['serverAuth'] }).pem);
    const result = predictLeg(withClient('required', [ca], [serverOnly]));
    expect(result.prediction).toMatchObject({ outcome: 'rejected-by-server', message: 'javax.net.ssl.SSLHandshakeException: (certificate_unknown) Extended key usage does not permit use for TLS client authentication' });
    expect(codes(result)).toEqual(['error CLIENT_CERT_UNTRUSTED']);
  });
});

describe('leafFindings', () => {
  const expired = parse(issueLeaf('fleet-cert', caKeyed, ec(), { notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2021-01-01T00:00:00Z') }).pem);

  it('names an expired certificate with its date', () => {
    expect(leafFindings('--fleet-server-cert', 'fleet.crt', expired, 'serverAuth', new Date())).toEqual([{
      severity: 'error', flag: '--fleet-server-cert', file: 'fleet.crt', code: 'CERT_EXPIRED',
      message: `${expired.subject} expired on 2021-01-01T00:00:00Z`, fix: `issue a new certificate for ${expired.subject} and replace fleet.crt`,
    }]);
  });

  it('warns 30 days ahead of expiry, and says nothing of a certificate with a long life', () => {
    expect(leafFindings('--fleet-server-cert', 'fleet.crt', expired, 'serverAuth', new Date('2020-12-15T00:00:00Z')).map((f) => f.code)).toEqual(['CERT_EXPIRES_SOON']);
    expect(leafFindings('--fleet-server-cert', 'fleet.crt', expired, 'serverAuth', new Date('2020-06-01T00:00:00Z'))).toEqual([]);
  });
});
