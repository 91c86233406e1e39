import { ALERT, alertName } from '../wire/alerts.js';
import type { PeerFault, Rejection } from '../wire/tap.js';
import type { Cert } from '../x509/certificate.js';
import { goVerify } from '../x509/go-verify.js';

/**
 * What Elasticsearch's HTTP layer (Netty over the JDK's JSSE) throws, sends and logs.
 *
 * Two JSSE wordings, both checked against a real JDK (test/integration/java-interop.test.ts):
 * - 'alert-named' (the default): JDK-8311644 (JDK 22+, backported to 21u and 17u; Debian's
 *   17.0.21 has it, and so does the JDK current Elasticsearch bundles). Every exception JSSE
 *   raises for a fatal alert starts with `(<alert>) `, its causes do not change, and a missing
 *   client certificate is refused with handshake_failure (TLS 1.2) or certificate_required (TLS 1.3).
 * - 'jdk17': OpenJDK 17.0.15 and older (reference/java-behaviour.md), for older Elasticsearch.
 */
export type JsseWording = 'jdk17' | 'alert-named';
export const DEFAULT_JSSE: JsseWording = 'alert-named';

export interface JsseOptions {
  readonly wording?: JsseWording;
  /** The handshake is TLS 1.3 (only the alert for a missing client certificate depends on it). */
  readonly tls13?: boolean;
}

export class JavaSslException extends Error {
  override readonly name = 'JavaSslException';
  /** `class: message` for the exception and each cause, outermost first. */
  constructor(readonly chain: readonly string[], readonly alert: number) {
    super(chain[0] ?? 'javax.net.ssl.SSLHandshakeException');
  }

  toRejection(): Rejection {
    // JSSE writes its records as TLS 1.2 even before a version is agreed.
    return { alert: this.alert, error: this, earlyRecordVersion: 0x0303 };
  }
}

/** JSSE's fatal-alert exception: the alert's name in front of the message from JDK-8311644 on. */
export function fatal(alert: number, message: string, causes: readonly string[], wording: JsseWording = DEFAULT_JSSE): JavaSslException {
  const prefix = wording === 'alert-named' ? `(${alertName(alert)}) ` : '';
  return new JavaSslException([`javax.net.ssl.SSLHandshakeException: ${prefix}${message}`, ...causes], alert);
}

const PATH_BUILDING = 'PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target';

/**
 * JSSE's judgement of a client certificate (trust manager, then the end-entity checker),
 * given Elasticsearch's `client_authentication` and the CAs it trusts for clients.
 */
export function judgeClientCertificate(
  chain: readonly Cert[], required: boolean, trusted: readonly Cert[], now = new Date(), options: JsseOptions = {},
): Rejection | null {
  const wording = options.wording ?? DEFAULT_JSSE;
  const [leaf, ...intermediates] = chain;
  if (!leaf) {
    if (!required) return null;
    const alert = wording === 'jdk17' ? ALERT.bad_certificate : options.tls13 ? ALERT.certificate_required : ALERT.handshake_failure;
    return fatal(alert, 'Empty client certificate chain', [], wording).toRejection();
  }
  const verdict = goVerify(leaf, { roots: [...trusted], intermediates, keyUsages: ['any'], currentTime: now });
  if (!verdict.ok && verdict.error.kind === 'CertificateInvalid' && verdict.error.reason === 'Expired') {
    const cert = verdict.error.cert;
    const expired = now > cert.notAfter;
    const cause = expired
      ? `java.security.cert.CertificateExpiredException: NotAfter: ${javaDate(cert.notAfter)}`
      : `java.security.cert.CertificateNotYetValidException: NotBefore: ${javaDate(cert.notBefore)}`;
    const validation = 'PKIX path validation failed: java.security.cert.CertPathValidatorException: validity check failed';
    return fatal(ALERT.certificate_unknown, validation, [
      `sun.security.validator.ValidatorException: ${validation}`,
      'java.security.cert.CertPathValidatorException: validity check failed',
      cause,
    ], wording).toRejection();
  }
  if (!verdict.ok) {
    return fatal(ALERT.certificate_unknown, PATH_BUILDING, [
      `sun.security.validator.ValidatorException: ${PATH_BUILDING}`,
      'sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target',
    ], wording).toRejection();
  }
  const eku = leaf.extKeyUsage;
  if (eku.length > 0 && !eku.includes('clientAuth') && !eku.includes('any')) {
    const message = 'Extended key usage does not permit use for TLS client authentication';
    return fatal(ALERT.certificate_unknown, message, [`sun.security.validator.ValidatorException: ${message}`], wording).toRejection();
  }
  return null;
}

export function handshakeFailure(alert: number, message: string, wording: JsseWording = DEFAULT_JSSE): Rejection {
  return fatal(alert, message, [], wording).toRejection();
}

/** The peer refused the handshake with an alert. */
export function receivedAlert(alert: number, wording: JsseWording = DEFAULT_JSSE): JavaSslException {
  return fatal(alert, `Received fatal alert: ${alertName(alert)}`, [], wording);
}

/** JSSE's refusal when no protocol version is shared. */
export function unsupportedVersions(offered: readonly number[], accepted: readonly string[], wording: JsseWording = DEFAULT_JSSE): JavaSslException {
  const names = offered.map((v) => (v === 0x0304 ? 'TLSv1.3' : v === 0x0303 ? 'TLSv1.2' : v === 0x0302 ? 'TLSv1.1' : 'TLSv1'));
  const message = `The client supported protocol versions [${names.join(', ')}] are not accepted by server preferences [${accepted.join(', ')}]`;
  return fatal(ALERT.protocol_version, message, [], wording);
}

/** Java's `Date.toString()` in UTC, the form JSSE's CertificateExpiredException uses. */
export function javaDate(date: Date): string {
  // toUTCString: 'Fri, 01 Jan 2021 00:00:00 GMT'; Java: 'Fri Jan 01 00:00:00 UTC 2021'.
  const [weekday = '', day = '', month = '', year = '', time = ''] = date.toUTCString().replace(',', '').split(' ');
  return `${weekday} ${month} ${day} ${time} UTC ${year}`;
}

/** JSSE's largest handshake message (the jdk.tls.maxHandshakeMessageSize default). */
export const JSSE_MAX_HANDSHAKE = 32768;

/** A JSSE exception that carries no alert name in its message (SSLProtocolException). */
function protocolException(alert: number, message: string): Rejection {
  return new JavaSslException([`javax.net.ssl.SSLProtocolException: ${message}`], alert).toRejection();
}

/**
 * A JSSE exception of another class than SSLHandshakeException (SSLProtocolException,
 * SSLException), with the alert's name in front from JDK-8311644 on, and its causes.
 */
export function jsseException(className: string, alert: number, message: string, causes: readonly string[] = [], wording: JsseWording = DEFAULT_JSSE): Rejection {
  const prefix = wording === 'alert-named' ? `(${alertName(alert)}) ` : '';
  return new JavaSslException([`javax.net.ssl.${className}: ${prefix}${message}`, ...causes], alert).toRejection();
}

/**
 * JSSE's refusal of a handshake message it cannot read, checked against OpenJDK 17's server
 * (SSLServerSocket) for each malformed ClientHello of test/integration/hostile-peers.test.ts.
 * JSSE reads a ClientHello field by field (ClientHello.java, SSLExtensions.java), so its words
 * depend on the first field that is wrong.
 */
export function jsseMalformedHandshake(fault: PeerFault, wording: JsseWording = DEFAULT_JSSE): Rejection {
  if (fault.kind === 'oversized') {
    return protocolException(ALERT.unexpected_message,
      `The size of the handshake message (${fault.claimedLength}) exceeds the maximum allowed size (${JSSE_MAX_HANDSHAKE})`);
  }
  const name = HANDSHAKE_NAMES[fault.handshakeType ?? -1] ?? 'handshake';
  const illegal = fatal(ALERT.decode_error, `Illegal handshake message: ${name}`, [], wording).toRejection();
  if (fault.handshakeType !== 1 || !fault.body) return illegal;
  const body = fault.body;
  if (body.length < 35) {
    return fatal(ALERT.decode_error, 'Illegal handshake message: client_hello', ['java.nio.BufferUnderflowException'], wording).toRejection();
  }
  const sessionIdLength = body[34]!;
  if (sessionIdLength > 32) return protocolException(ALERT.illegal_parameter, `Invalid session ID length (${sessionIdLength} bytes)`);
  let at = 35 + sessionIdLength;
  if (at + 2 > body.length) return illegal;
  at += 2 + body.readUInt16BE(at);
  if (at + 1 > body.length) return illegal;
  at += 1 + body[at]!;
  if (at + 2 > body.length) return illegal;
  const extensionsLength = body.readUInt16BE(at);
  at += 2;
  if (extensionsLength > body.length - at) return fatal(ALERT.decode_error, 'Insufficient extensions data', [], wording).toRejection();
  const seen = new Set<number>();
  while (at + 4 <= body.length) {
    const type = body.readUInt16BE(at);
    const length = body.readUInt16BE(at + 2);
    const data = body.subarray(at + 4, at + 4 + length);
    // SSLExtensions.java reads every extension's header first and refuses a repeated type.
    if (seen.has(type)) return fatal(ALERT.illegal_parameter, `Duplicate extension with ID: ${type}`, [], wording).toRejection();
    seen.add(type);
    // An empty server_name list: the one extension fault this file knows JSSE's words for.
    if (type === 0 && (data.length < 2 || data.readUInt16BE(0) === 0)) {
      return protocolException(ALERT.decode_error, 'Invalid server_name extension: incomplete data');
    }
    at += 4 + length;
  }
  return illegal;
}

const HANDSHAKE_NAMES: Readonly<Record<number, string>> = {
  1: 'client_hello', 11: 'certificate', 15: 'certificate_verify', 16: 'client_key_exchange', 20: 'finished', 24: 'key_update',
};

/**
 * A client certificate JSSE's CertificateFactory refuses: bad_certificate, `Failed to parse client
 * certificates` (CertificateMessage.java). The cause's words are known for a signature algorithm
 * mismatch (checked against OpenJDK 17); others carry the Go parser's reason.
 */
export function jsseUnparsableCertificate(parseError: Error, wording: JsseWording = DEFAULT_JSSE): Rejection {
  const cause = /inner and outer signature algorithm/.test(parseError.message)
    ? 'java.security.cert.CertificateException: Signature algorithm mismatch'
    : `java.security.cert.CertificateException: ${parseError.message.replace(/^x509: /, '')}`;
  return fatal(ALERT.bad_certificate, 'Failed to parse client certificates', [cause], wording).toRejection();
}
