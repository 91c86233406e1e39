import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  goAddress, GoTlsError, handshakeErrorLine, remoteError, serverClientCertificateRejection, unsupportedVersionsError, type GoRelease,
} from '../../../src/dialects/go.js';
import { issueCa } from '../../../src/pki/generate.js';
import { ALERT, alertName } from '../../../src/wire/alerts.js';
import { parsePemCertificates } from '../../../src/x509/certificate.js';
import { certificateInvalid, otherError, unknownAuthority } from '../../../src/x509/x509-errors.js';

const cert = parsePemCertificates(issueCa('client', generateKeyPairSync('ec', { namedCurve: 'prime256v1' })).pem)[0]!;
const OUTCOMES = {
  missing: { missing: true },
  'unknown authority': { missing: false, error: unknownAuthority(cert) },
  expired: { missing: false, error: certificateInvalid(cert, 'Expired', 'current time 2026-01-01T00:00:00Z is after 2021-01-01T00:00:00Z') },
  'incompatible usage': { missing: false, error: certificateInvalid(cert, 'IncompatibleUsage') },
  other: { missing: false, error: otherError(cert, 'x509: something else') },
} as const;
type Outcome = keyof typeof OUTCOMES;

const X509_TEXT: Record<Exclude<Outcome, 'missing'>, string> = {
  'unknown authority': 'x509: certificate signed by unknown authority',
  expired: 'x509: certificate has expired or is not yet valid: current time 2026-01-01T00:00:00Z is after 2021-01-01T00:00:00Z',
  'incompatible usage': 'x509: certificate specifies an incompatible key usage',
  other: 'x509: something else',
};

/** [release, TLS version, outcome, alert name, error text] from go-behaviour.md's server table. */
const TABLE: Array<[GoRelease, '1.2' | '1.3', Outcome, string, string]> = [];
for (const tls of ['1.2', '1.3'] as const) {
  TABLE.push(['1.19', tls, 'missing', 'bad_certificate', "tls: client didn't provide a certificate"]);
  for (const outcome of ['unknown authority', 'expired', 'incompatible usage', 'other'] as const) {
    TABLE.push(['1.19', tls, outcome, 'bad_certificate', `tls: failed to verify client certificate: ${X509_TEXT[outcome]}`]);
  }
}
for (const release of ['1.24', '1.25'] as const) {
  TABLE.push([release, '1.2', 'missing', release === '1.24' ? 'bad_certificate' : 'handshake_failure', "tls: client didn't provide a certificate"]);
  TABLE.push([release, '1.3', 'missing', 'certificate_required', "tls: client didn't provide a certificate"]);
  for (const tls of ['1.2', '1.3'] as const) {
    TABLE.push([release, tls, 'unknown authority', 'unknown_ca', `tls: failed to verify certificate: ${X509_TEXT['unknown authority']}`]);
    TABLE.push([release, tls, 'expired', 'certificate_expired', `tls: failed to verify certificate: ${X509_TEXT.expired}`]);
    TABLE.push([release, tls, 'incompatible usage', 'bad_certificate', `tls: failed to verify certificate: ${X509_TEXT['incompatible usage']}`]);
    TABLE.push([release, tls, 'other', 'bad_certificate', `tls: failed to verify certificate: ${X509_TEXT.other}`]);
  }
}

describe('serverClientCertificateRejection', () => {
  it.each(TABLE)('Go %s, TLS %s, %s: sends %s and logs %j', (release, tls, outcome, alert, message) => {
    const rejection = serverClientCertificateRejection(release, tls === '1.3', OUTCOMES[outcome]);
    expect(alertName(rejection.alert)).toBe(alert);
    expect(rejection.error).toBeInstanceOf(GoTlsError);
    expect(rejection.error.message).toBe(message);
  });

  it('treats a not-yet-valid certificate as expired, as Go\'s single Expired reason does', () => {
    const error = certificateInvalid(cert, 'Expired', 'current time 2020-01-01T00:00:00Z is before 2021-01-01T00:00:00Z');
    expect(alertName(serverClientCertificateRejection('1.24', false, { missing: false, error }).alert)).toBe('certificate_expired');
  });
});

describe('Go wording', () => {
  it('formats the versions a client offered as Go\'s %x of a slice', () => {
    expect(unsupportedVersionsError([0x0303])).toBe('tls: client offered only unsupported versions: [303]');
    expect(unsupportedVersionsError([0x0304, 0x0303])).toBe('tls: client offered only unsupported versions: [304 303]');
  });

  it('writes net/http\'s handshake error line', () => {
    expect(handshakeErrorLine('127.0.0.1:51234', "tls: client didn't provide a certificate"))
      .toBe("http: TLS handshake error from 127.0.0.1:51234: tls: client didn't provide a certificate");
  });

  it('names a peer\'s alert as a Go client reports it', () => {
    expect(remoteError(ALERT.bad_certificate)).toBe('remote error: tls: bad certificate');
    expect(remoteError(ALERT.certificate_required)).toBe('remote error: tls: certificate required');
    expect(remoteError(ALERT.unknown_ca)).toBe('remote error: tls: unknown certificate authority');
  });

  it.each([
    ['127.0.0.1', 8220, '127.0.0.1:8220'],
    ['::1', 443, '[::1]:443'],
    ['fe80::1', 9200, '[fe80::1]:9200'],
    ['::ffff:127.0.0.1', 51234, '127.0.0.1:51234'],
    ['::ffff:10.0.0.7', 1, '10.0.0.7:1'],
  ])('renders %s port %i as %s', (address, port, expected) => {
    expect(goAddress(address, port)).toBe(expected);
  });
});
