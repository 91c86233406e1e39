import { ALERT, alertName } from '../wire/alerts.js';
import type { Rejection } from '../wire/tap.js';
import type { Cert } from '../x509/certificate.js';
import { goVerify } from '../x509/go-verify.js';

/**
 * What Elasticsearch's HTTP layer (Netty over the JDK's JSSE) throws, sends and logs.
 * Strings are those recorded on OpenJDK 17.0.15 (reference/java-behaviour.md); JDK 23 and
 * late JDK 21 updates prefix JSSE messages with the alert name, which is not emulated yet.
 */
export class JavaSslException extends Error {
  override readonly name = 'JavaSslException';
  /** `class: message` for the exception and each cause, outermost first. */
  constructor(readonly chain: readonly string[], readonly alert: number) {
    super(chain[0] ?? 'javax.net.ssl.SSLHandshakeException');
  }

  toRejection(): Rejection {
    return { alert: this.alert, error: this };
  }
}

const PATH_BUILDING = 'PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target';

/**
 * JSSE's judgement of a client certificate (trust manager, then the end-entity checker),
 * given Elasticsearch's `client_authentication` and the CAs it trusts for clients.
 */
export function judgeClientCertificate(chain: readonly Cert[], required: boolean, trusted: readonly Cert[], now = new Date()): Rejection | null {
  const [leaf, ...intermediates] = chain;
  if (!leaf) {
    return required ? handshakeFailure(ALERT.bad_certificate, 'Empty client certificate chain') : null;
  }
  const verdict = goVerify(leaf, { roots: [...trusted], intermediates, keyUsages: ['any'], currentTime: now });
  if (!verdict.ok && verdict.error.kind === 'CertificateInvalid' && verdict.error.reason === 'Expired') {
    const cert = verdict.error.cert;
    const expired = now > cert.notAfter;
    const cause = expired
      ? `java.security.cert.CertificateExpiredException: NotAfter: ${javaDate(cert.notAfter)}`
      : `java.security.cert.CertificateNotYetValidException: NotBefore: ${javaDate(cert.notBefore)}`;
    const validation = 'PKIX path validation failed: java.security.cert.CertPathValidatorException: validity check failed';
    return new JavaSslException([
      `javax.net.ssl.SSLHandshakeException: ${validation}`,
      `sun.security.validator.ValidatorException: ${validation}`,
      'java.security.cert.CertPathValidatorException: validity check failed',
      cause,
    ], ALERT.certificate_unknown).toRejection();
  }
  if (!verdict.ok) {
    return new JavaSslException([
      `javax.net.ssl.SSLHandshakeException: ${PATH_BUILDING}`,
      `sun.security.validator.ValidatorException: ${PATH_BUILDING}`,
      'sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target',
    ], ALERT.certificate_unknown).toRejection();
  }
  const eku = leaf.extKeyUsage;
  if (eku.length > 0 && !eku.includes('clientAuth') && !eku.includes('any')) {
    const message = 'Extended key usage does not permit use for TLS client authentication';
    return new JavaSslException([
      `javax.net.ssl.SSLHandshakeException: ${message}`,
      `sun.security.validator.ValidatorException: ${message}`,
    ], ALERT.certificate_unknown).toRejection();
  }
  return null;
}

export function handshakeFailure(alert: number, message: string): Rejection {
  return new JavaSslException([`javax.net.ssl.SSLHandshakeException: ${message}`], alert).toRejection();
}

/** The peer refused the handshake with an alert. */
export function receivedAlert(alert: number): JavaSslException {
  return new JavaSslException([`javax.net.ssl.SSLHandshakeException: Received fatal alert: ${alertName(alert)}`], alert);
}

/** JSSE's refusal when no protocol version is shared. */
export function unsupportedVersions(offered: readonly number[], accepted: readonly string[]): JavaSslException {
  const names = offered.map((v) => (v === 0x0304 ? 'TLSv1.3' : v === 0x0303 ? 'TLSv1.2' : v === 0x0302 ? 'TLSv1.1' : 'TLSv1'));
  return new JavaSslException([
    `javax.net.ssl.SSLHandshakeException: The client supported protocol versions [${names.join(', ')}] are not accepted by server preferences [${accepted.join(', ')}]`,
  ], ALERT.protocol_version);
}

/** Java's `Date.toString()` in UTC, the form JSSE's CertificateExpiredException uses. */
export function javaDate(date: Date): string {
  // toUTCString: 'Fri, 01 Jan 2021 00:00:00 GMT'; Java: 'Fri Jan 01 00:00:00 UTC 2021'.
  const [weekday = '', day = '', month = '', year = '', time = ''] = date.toUTCString().replace(',', '').split(' ');
  return `${weekday} ${month} ${day} ${time} UTC ${year}`;
}
