import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  handshakeFailure, JavaSslException, javaDate, judgeClientCertificate, receivedAlert, unsupportedVersions,
} from '../../../src/dialects/java.js';
import { issueCa, issueLeaf } from '../../../src/pki/generate.js';
import { ALERT, alertName } from '../../../src/wire/alerts.js';
import { parsePemCertificates, type Cert } from '../../../src/x509/certificate.js';
import type { Rejection } from '../../../src/wire/tap.js';

const ec = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const parse = (pem: string): Cert => parsePemCertificates(pem)[0]!;

const esCaKeyed = issueCa('es-ca', ec());
const esCa = parse(esCaKeyed.pem);
const clientKey = ec();
const good = parse(issueLeaf('fleet-es-cert', esCaKeyed, clientKey).pem);
const serverAuthOnly = parse(issueLeaf('fleet-es-cert', esCaKeyed, clientKey, { extendedKeyUsage: ['serverAuth'] }).pem);
const expired = parse(issueLeaf('fleet-es-cert', esCaKeyed, clientKey, {
  notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2021-01-01T00:00:00Z'),
}).pem);
const notYetValid = parse(issueLeaf('fleet-es-cert', esCaKeyed, clientKey, {
  notBefore: new Date('2099-03-05T10:20:30Z'), notAfter: new Date('2100-01-01T00:00:00Z'),
}).pem);
const untrusted = parse(issueLeaf('fleet-es-cert', issueCa('rogue-ca', ec()), clientKey).pem);

const PATH_BUILDING = 'PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target';
const VALIDATION = 'PKIX path validation failed: java.security.cert.CertPathValidatorException: validity check failed';

/** OpenJDK 17.0.15's wording, before the JDK-8311644 backport; the default is the current one. */
const JDK17 = { wording: 'jdk17' as const };

function judged(rejection: Rejection | null): { alert: string; chain: readonly string[] } | null {
  if (rejection === null) return null;
  expect(rejection.error).toBeInstanceOf(JavaSslException);
  return { alert: alertName(rejection.alert), chain: (rejection.error as JavaSslException).chain };
}

describe('javaDate', () => {
  it('prints Date.toString() in UTC as JSSE\'s CertificateExpiredException does', () => {
    expect(javaDate(new Date('2021-01-01T00:00:00Z'))).toBe('Fri Jan 01 00:00:00 UTC 2021');
    expect(javaDate(new Date('2099-03-05T10:20:30Z'))).toBe('Thu Mar 05 10:20:30 UTC 2099');
  });

  it('always has the shape EEE MMM dd HH:mm:ss UTC yyyy', () => {
    fc.assert(fc.property(fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }), (date) => {
      expect(javaDate(date)).toMatch(/^(Sun|Mon|Tue|Wed|Thu|Fri|Sat) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d\d \d\d:\d\d:\d\d UTC \d{4}$/);
    }));
  });
});

describe('judgeClientCertificate, as JSSE judges a client certificate (OpenJDK 17.0.15)', () => {
  it('refuses an empty chain when a certificate is required: Empty client certificate chain, bad_certificate', () => {
    expect(judged(judgeClientCertificate([], true, [esCa], new Date(), JDK17))).toEqual({
      alert: 'bad_certificate', chain: ['javax.net.ssl.SSLHandshakeException: Empty client certificate chain'],
    });
  });

  it('accepts an empty chain when a certificate is optional', () => {
    expect(judgeClientCertificate([], false, [esCa], new Date(), JDK17)).toBeNull();
  });

  it('accepts a clientAuth certificate from a trusted CA', () => {
    expect(judgeClientCertificate([good], true, [esCa], new Date(), JDK17)).toBeNull();
  });

  it('refuses a certificate from an untrusted CA with the PKIX path building chain, certificate_unknown', () => {
    expect(judged(judgeClientCertificate([untrusted], false, [esCa], new Date(), JDK17))).toEqual({
      alert: 'certificate_unknown',
      chain: [
        `javax.net.ssl.SSLHandshakeException: ${PATH_BUILDING}`,
        `sun.security.validator.ValidatorException: ${PATH_BUILDING}`,
        'sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target',
      ],
    });
  });

  it('refuses an expired certificate with validity check failed, ending in CertificateExpiredException', () => {
    expect(judged(judgeClientCertificate([expired], true, [esCa], new Date(), JDK17))).toEqual({
      alert: 'certificate_unknown',
      chain: [
        `javax.net.ssl.SSLHandshakeException: ${VALIDATION}`,
        `sun.security.validator.ValidatorException: ${VALIDATION}`,
        'java.security.cert.CertPathValidatorException: validity check failed',
        'java.security.cert.CertificateExpiredException: NotAfter: Fri Jan 01 00:00:00 UTC 2021',
      ],
    });
  });

  it('refuses a certificate not valid yet, ending in CertificateNotYetValidException', () => {
    expect(judged(judgeClientCertificate([notYetValid], true, [esCa], new Date(), JDK17))?.chain.at(-1))
      .toBe('java.security.cert.CertificateNotYetValidException: NotBefore: Thu Mar 05 10:20:30 UTC 2099');
  });

  it('refuses a serverAuth-only certificate: Extended key usage does not permit use for TLS client authentication', () => {
    expect(judged(judgeClientCertificate([serverAuthOnly], true, [esCa], new Date(), JDK17))).toEqual({
      alert: 'certificate_unknown',
      chain: [
        'javax.net.ssl.SSLHandshakeException: Extended key usage does not permit use for TLS client authentication',
        'sun.security.validator.ValidatorException: Extended key usage does not permit use for TLS client authentication',
      ],
    });
  });
});

describe('JSSE messages', () => {
  it('refuses a client whose versions the server does not accept, with protocol_version', () => {
    const onlyTls12 = unsupportedVersions([0x0303], ['TLSv1.3'], 'jdk17');
    expect([onlyTls12.chain, alertName(onlyTls12.alert)]).toEqual([
      ['javax.net.ssl.SSLHandshakeException: The client supported protocol versions [TLSv1.2] are not accepted by server preferences [TLSv1.3]'],
      'protocol_version',
    ]);
    expect(unsupportedVersions([0x0304], ['TLSv1.2'], 'jdk17').chain).toEqual([
      'javax.net.ssl.SSLHandshakeException: The client supported protocol versions [TLSv1.3] are not accepted by server preferences [TLSv1.2]',
    ]);
  });

  it('reports an alert received from the peer by its RFC name', () => {
    expect(receivedAlert(ALERT.bad_certificate, 'jdk17').chain).toEqual(['javax.net.ssl.SSLHandshakeException: Received fatal alert: bad_certificate']);
  });

  it('makes a one-exception rejection with its alert', () => {
    const rejection = handshakeFailure(ALERT.handshake_failure, 'no cipher suites in common', 'jdk17');
    expect([alertName(rejection.alert), rejection.error.message]).toEqual(['handshake_failure', 'javax.net.ssl.SSLHandshakeException: no cipher suites in common']);
  });
});

describe("JSSE's alert-named wording (JDK-8311644: Debian's 17.0.21, JDK 22+)", () => {
  const named = { wording: 'alert-named' } as const;

  it('refuses a missing client certificate with handshake_failure in TLS 1.2 and certificate_required in TLS 1.3', () => {
    expect(judged(judgeClientCertificate([], true, [esCa], new Date(), { ...named, tls13: false }))).toEqual({
      alert: 'handshake_failure', chain: ['javax.net.ssl.SSLHandshakeException: (handshake_failure) Empty client certificate chain'],
    });
    expect(judged(judgeClientCertificate([], true, [esCa], new Date(), { ...named, tls13: true }))).toEqual({
      alert: 'certificate_required', chain: ['javax.net.ssl.SSLHandshakeException: (certificate_required) Empty client certificate chain'],
    });
  });

  it('names the alert in front of the outermost message only; the causes keep their words', () => {
    expect(judged(judgeClientCertificate([expired], true, [esCa], new Date(), named))).toEqual({
      alert: 'certificate_unknown',
      chain: [
        `javax.net.ssl.SSLHandshakeException: (certificate_unknown) ${VALIDATION}`,
        `sun.security.validator.ValidatorException: ${VALIDATION}`,
        'java.security.cert.CertPathValidatorException: validity check failed',
        'java.security.cert.CertificateExpiredException: NotAfter: Fri Jan 01 00:00:00 UTC 2021',
      ],
    });
    expect(judged(judgeClientCertificate([untrusted], true, [esCa], new Date(), named))?.chain[0]).toBe(`javax.net.ssl.SSLHandshakeException: (certificate_unknown) ${PATH_BUILDING}`);
  });

  it('names the alert in received alerts and version refusals too', () => {
    expect(receivedAlert(ALERT.bad_certificate, 'alert-named').message).toBe('javax.net.ssl.SSLHandshakeException: (bad_certificate) Received fatal alert: bad_certificate');
    expect(unsupportedVersions([0x0303], ['TLSv1.3'], 'alert-named').message)
      .toBe('javax.net.ssl.SSLHandshakeException: (protocol_version) The client supported protocol versions [TLSv1.2] are not accepted by server preferences [TLSv1.3]');
  });
});

describe('the default wording', () => {
  it('is the current JDK\'s, which names the alert, as the JDK bundled with current Elasticsearch does', () => {
    expect(receivedAlert(ALERT.bad_certificate).message).toBe('javax.net.ssl.SSLHandshakeException: (bad_certificate) Received fatal alert: bad_certificate');
    expect(judged(judgeClientCertificate([], true, [esCa], new Date(), { tls13: false }))?.alert).toBe('handshake_failure');
  });
});
