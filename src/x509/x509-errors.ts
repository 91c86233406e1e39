/**
 * The error shapes of Go 1.19 crypto/x509 verification, with Error() texts from verify.go
 * and x509.go. Verification failures are returned as data (GoX509Error), never thrown;
 * only certificate parsing throws, with CertificateParseError.
 */
import type { Cert } from './certificate.js';
import { goQuote } from './go-text.js';

/** Thrown by the parsers; the message is Go's own text where Go has one. */
export class CertificateParseError extends Error {
  override readonly name = 'CertificateParseError';
}

export type GoX509ErrorKind =
  /** UnknownAuthorityError: no chain to a root was found. */
  | 'UnknownAuthority'
  /** CertificateInvalidError: see `reason`. */
  | 'CertificateInvalid'
  /** HostnameError: the leaf is not valid for the requested name. */
  | 'Hostname'
  /** UnhandledCriticalExtension: a certificate in the way has a critical extension Go does not process. */
  | 'UnhandledCriticalExtension'
  /** SystemRootsError: kept for completeness; Node always has a root store. */
  | 'SystemRoots'
  /** Any other error value (signature check limit, malformed names met while checking constraints). */
  | 'Other';

/** Go's InvalidReason values, by name. TooManyConstraints prints as "x509: unknown error", as in Go. */
export type GoInvalidReason =
  | 'NotAuthorizedToSign'
  | 'Expired'
  | 'CANotAuthorizedForThisName'
  | 'TooManyIntermediates'
  | 'IncompatibleUsage'
  | 'NameMismatch'
  | 'NameConstraintsWithoutSANs'
  | 'UnconstrainedName'
  | 'TooManyConstraints'
  | 'CANotAuthorizedForExtKeyUsage';

export interface GoX509Error {
  kind: GoX509ErrorKind;
  reason?: GoInvalidReason;
  /** Go's exact Error() text. */
  message: string;
  /** The certificate the error is about (for UnhandledCriticalExtension and Other: the one being checked). */
  cert: Cert;
}

export function certificateInvalid(cert: Cert, reason: GoInvalidReason, detail = ''): GoX509Error {
  const text: Record<GoInvalidReason, string> = {
    NotAuthorizedToSign: 'x509: certificate is not authorized to sign other certificates',
    Expired: 'x509: certificate has expired or is not yet valid: ' + detail,
    CANotAuthorizedForThisName: 'x509: a root or intermediate certificate is not authorized to sign for this name: ' + detail,
    CANotAuthorizedForExtKeyUsage: 'x509: a root or intermediate certificate is not authorized for an extended key usage: ' + detail,
    TooManyIntermediates: 'x509: too many intermediates for path length constraint',
    IncompatibleUsage: 'x509: certificate specifies an incompatible key usage',
    NameMismatch: 'x509: issuer name does not match subject from issuing certificate',
    NameConstraintsWithoutSANs: "x509: issuer has name constraints but leaf doesn't have a SAN extension",
    UnconstrainedName: 'x509: issuer has name constraints but leaf contains unknown or unconstrained name: ' + detail,
    TooManyConstraints: 'x509: unknown error',
  };
  return { kind: 'CertificateInvalid', reason, message: text[reason], cert };
}

/**
 * UnknownAuthorityError. The hint names the first candidate parent whose signature check
 * failed, by CN, else first O, else "serial:" and the decimal serial.
 */
export function unknownAuthority(cert: Cert, hint?: { error: string; cert: Cert }): GoX509Error {
  let message = 'x509: certificate signed by unknown authority';
  if (hint !== undefined) {
    const c = hint.cert;
    // Quote the attribute's own bytes: Go's %q escapes invalid UTF-8 in a T61String CN as \xNN.
    const attrs = c.subjectName.attributes;
    const cn = attrs.filter((a) => a.oid === '2.5.4.3').at(-1);
    const org = attrs.find((a) => a.oid === '2.5.4.10');
    const name = cn !== undefined && cn.bytes.length > 0 ? cn.bytes : (org?.bytes ?? `serial:${c.serialNumber}`);
    message += ` (possibly because of ${goQuote(hint.error)} while trying to verify candidate authority certificate ${goQuote(name)})`;
  }
  return { kind: 'UnknownAuthority', message, cert };
}

export function unhandledCriticalExtension(cert: Cert): GoX509Error {
  return { kind: 'UnhandledCriticalExtension', message: 'x509: unhandled critical extension', cert };
}

export function otherError(cert: Cert, message: string): GoX509Error {
  return { kind: 'Other', message, cert };
}
