import type { Role } from './session.js';

/** A peer's refusal: the alert to put on the wire and the error this side reports. */
export interface Rejection {
  readonly alert: number;
  readonly error: Error;
}

export interface CertificateRequestInfo {
  readonly certificateAuthorities: readonly Buffer[];
  readonly signatureAlgorithms: readonly number[];
}

/**
 * The decisions a real client makes inside the handshake, which Node's OpenSSL makes
 * differently (or after the handshake, without an alert). Each runs synchronously at the
 * point of the handshake where Go's client decides.
 */
export interface ClientTapPolicy {
  /** Judge the server's chain (leaf first, as sent). */
  verifyServer?(chain: readonly Buffer[]): Rejection | null;
  /** Whether to send the configured certificate to a server asking with these CA names. */
  sendClientCertificate?(request: CertificateRequestInfo): boolean;
}

/** The decisions a real server (Go's net/http, Netty over JSSE) makes inside the handshake. */
export interface ServerTapPolicy {
  /** Judge the client's chain (empty when it sent none). Called only when a certificate was requested. */
  verifyClient?(chain: readonly Buffer[]): Rejection | null;
  /** The first bytes are not a TLS record; returns what to write back before closing. */
  notTls?(firstBytes: Buffer): Buffer | undefined;
}

export interface AlertSeen {
  readonly sender: Role;
  readonly level: number;
  readonly description: number;
  readonly encrypted: boolean;
  /** Whether the client had already finished its side of the handshake. */
  readonly afterHandshake: boolean;
  /** Sent by this tap in place of what OpenSSL would have done. */
  readonly emulated: boolean;
}
