import type { Role } from './session.js';

/** A peer's refusal: the alert to put on the wire and the error this side reports. */
export interface Rejection {
  readonly alert: number;
  readonly error: Error;
  /** The record version of an alert sent before a version is agreed (default TLS 1.0, as Go). */
  readonly earlyRecordVersion?: number;
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
  /** The largest handshake message of this type the real client reads from a server. */
  handshakeLimit?(type: number): number;
  /** The server's bytes broke the protocol: the alert and error Go's client answers with (null: just close). */
  malformed?(fault: PeerFault): Rejection | null;
}

/** The decisions a real server (Go's net/http, Netty over JSSE) makes inside the handshake. */
export interface ServerTapPolicy {
  /** Judge the client's chain (empty when it sent none). Called only when a certificate was requested. */
  verifyClient?(chain: readonly Buffer[]): Rejection | null;
  /** The first bytes are not a TLS record; returns what to write back before closing. */
  notTls?(firstBytes: Buffer): Buffer | undefined;
  /** The largest handshake message of this type the real server reads from a client. */
  handshakeLimit?(type: number): number;
  /** The client's bytes broke the protocol: the alert and error the real server answers with (null: just close). */
  malformed?(fault: PeerFault): Rejection | null;
}

/**
 * Something a peer sent that the tap's parsers refused. Real stacks answer both with a fatal
 * alert, but not the same one: Go's readHandshake (crypto/tls conn.go) sends internal_error
 * for a handshake message over its size limit and unexpected_message for one it cannot decode.
 */
export interface PeerFault {
  readonly kind: 'oversized' | 'undecodable';
  /** The handshake message's type: the one refused, or the one whose header claimed too much. */
  readonly handshakeType?: number;
  /** The refused message's body, for a stack that words its refusal by the field it was reading. */
  readonly body?: Buffer;
  /** The parser's own account, for the timeline. */
  readonly reason: string;
  /** The length an oversized handshake message claimed. */
  readonly claimedLength?: number;
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
