import { ALERT, goAlertText } from '../wire/alerts.js';
import type { PeerFault, Rejection } from '../wire/tap.js';
import type { GoX509Error } from '../x509/go-verify.js';

/**
 * What Go's crypto/tls and net/http say and send, for the Go release the fakes emulate.
 * Elastic Agent and Fleet Server 9.0 are built with Go 1.24, which is the default here;
 * 1.19 is what Debian packages, so interop tests can hold the fakes against it.
 */
export type GoRelease = '1.19' | '1.24' | '1.25';
export const DEFAULT_GO: GoRelease = '1.24';

export class GoTlsError extends Error {
  override readonly name = 'GoTlsError';
}

/** `remote error: tls: <alert>`, what a Go peer reports when the other side sent an alert. */
export function remoteError(alert: number): string {
  return `remote error: tls: ${goAlertText(alert)}`;
}

/** The line net/http's server logs when a handshake fails (Fleet Server's logger adds nothing). */
export function handshakeErrorLine(remoteAddress: string, error: string): string {
  return `http: TLS handshake error from ${remoteAddress}: ${error}`;
}

/** Go's `IP:port` rendering of an address (IPv6 in brackets). */
export function goAddress(address: string | undefined, port: number | undefined): string {
  const host = (address ?? '').replace(/^::ffff:(?=\d+\.)/, '');
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * A Go server's answer to a client certificate it asked for (crypto/tls processCertsFromClient):
 * the alert it sends and the error net/http logs.
 */
export function serverClientCertificateRejection(
  release: GoRelease,
  tls13: boolean,
  outcome: { missing: true } | { missing: false; error: GoX509Error },
): Rejection {
  if (outcome.missing) {
    // Go 1.21 added certificate_required for TLS 1.3; 1.25 moved TLS 1.2 to handshake_failure.
    const alert = release === '1.19'
      ? ALERT.bad_certificate
      : tls13 ? ALERT.certificate_required : release === '1.25' ? ALERT.handshake_failure : ALERT.bad_certificate;
    return { alert, error: new GoTlsError("tls: client didn't provide a certificate") };
  }
  const { error } = outcome;
  if (release === '1.19') {
    return { alert: ALERT.bad_certificate, error: new GoTlsError(`tls: failed to verify client certificate: ${error.message}`) };
  }
  const alert = error.kind === 'UnknownAuthority'
    ? ALERT.unknown_ca
    : error.kind === 'CertificateInvalid' && error.reason === 'Expired' ? ALERT.certificate_expired : ALERT.bad_certificate;
  return { alert, error: new GoTlsError(`tls: failed to verify certificate: ${error.message}`) };
}

/** The server refused every version the client offered (Go's `%x` of the offered list). */
export function unsupportedVersionsError(offered: readonly number[]): string {
  return `tls: client offered only unsupported versions: [${offered.map((v) => v.toString(16)).join(' ')}]`;
}

/** The response Go's net/http writes when plain HTTP reaches a TLS listener; it logs nothing. */
export const HTTP_TO_HTTPS_RESPONSE = 'HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n';

/**
 * What net/http's server writes for a request it cannot read (server.go conn.serve: `400 Bad
 * Request` as status and body, then it closes): a TLS ClientHello on a plain port, or a request
 * target net/url refuses.
 */
export const GO_BAD_REQUEST = 'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request';

/** A Go HTTPS client that got an HTTP answer. */
export const HTTPS_TO_HTTP_ERROR = 'http: server gave HTTP response to HTTPS client';

/** Go's wording of socket-level failures, as a Go client or server reports them. */
export function socketError(kind: 'refused' | 'reset' | 'eof' | 'timeout', local: string, remote: string, op: 'dial' | 'read' = 'read'): string {
  switch (kind) {
    case 'refused': return `dial tcp ${remote}: connect: connection refused`;
    case 'reset': return `${op} tcp ${local}->${remote}: ${op}: connection reset by peer`;
    case 'timeout': return `${op} tcp ${local}->${remote}: i/o timeout`;
    case 'eof': return 'EOF';
  }
}

/** A Go duration (time.ParseDuration: `5m`, `1m30s`, `250ms`) in milliseconds; undefined when it is not one. */
export function goDurationMs(text: string): number | undefined {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000001 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/gy)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) return undefined;
  return parts.reduce((sum, [, value, unit]) => sum + Number(value) * units[unit!]!, 0);
}

/**
 * The largest handshake message Go reads (crypto/tls common.go maxHandshake, 64 KiB; Go 1.21 and
 * later allow a Certificate message up to maxHandshakeCertificateMsg, 256 KiB).
 */
export function goHandshakeLimit(release: GoRelease): (type: number) => number {
  return (type) => (release !== '1.19' && type === 11 ? 262144 : 65536);
}

/**
 * Go's answer to a handshake message it cannot take (crypto/tls conn.go readHandshake): one
 * over the size limit gets internal_error and its own error; one that does not unmarshal gets
 * unexpected_message, and the error is the alert Go sent (`local error: tls: ...`).
 * Checked against Go 1.19's net/http server (test/integration/hostile-peers.test.ts).
 */
export function goMalformedHandshake(fault: PeerFault, release: GoRelease): Rejection {
  if (fault.kind === 'oversized') {
    const limit = goHandshakeLimit(release)(fault.handshakeType ?? 0);
    return { alert: ALERT.internal_error, error: new GoTlsError(`tls: handshake message of length ${fault.claimedLength} bytes exceeds maximum of ${limit} bytes`) };
  }
  return { alert: ALERT.unexpected_message, error: new GoTlsError(`local error: tls: ${goAlertText(ALERT.unexpected_message)}`) };
}

/**
 * A certificate Go's x509.ParseCertificate refuses: bad_certificate, with the parser's error
 * behind the side's prefix (handshake_server.go processCertsFromClient, handshake_client.go
 * verifyServerCertificate).
 */
export function goUnparsableCertificate(from: 'client' | 'server', parseError: Error): Rejection {
  const prefix = from === 'client' ? 'tls: failed to parse client certificate: ' : 'tls: failed to parse certificate from server: ';
  return { alert: ALERT.bad_certificate, error: new GoTlsError(prefix + parseError.message) };
}
