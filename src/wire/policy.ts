import type { Role } from './session.js';
import type { TlsRecord } from './record.js';
import type { ClientHello } from './handshake.js';

/** A peer's refusal: the alert to put on the wire and the error this side reports. */
export interface Rejection {
  readonly alert: number;
  readonly error: Error;
  /** The record version of an alert sent before a version is agreed (default TLS 1.0, as Go). */
  readonly earlyRecordVersion?: number;
  /** The alert's level: fatal (2) unless the stack answers with a warning (JSSE's close_notify). */
  readonly level?: number;
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
  /** The real server's refusal of a ClientHello OpenSSL would take (null: OpenSSL answers it). */
  clientHello?(hello: ClientHello): Rejection | null;
  /**
   * OpenSSL refused the ClientHello with this alert: the real server's refusal of the same hello
   * in its place (null: OpenSSL's alert goes out as it is).
   */
  ownRefusal?(alert: number): Rejection | null;
  /** How the real server reads the client's records (Go's conn.go); absent: the tap's own framing checks, a close for what they refuse. */
  readonly records?: RecordRules;
  /**
   * A client's FIN leaves the TLS socket above half-open, so a request half-closed right after
   * it is still answered (Go's net/http answers, then closes). The raw socket must allow
   * half-open too (net.createServer({ allowHalfOpen: true })). Default false: a FIN ends both ways.
   */
  readonly allowHalfOpen?: boolean;
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

/** A record header as read off the wire. */
export interface RecordHeader {
  readonly type: number;
  readonly version: number;
  readonly length: number;
}

/** What the server knows when it reads the client's next record. */
export interface RecordReadState {
  /** The version the server chose; known once its ServerHello is on the wire. */
  readonly version?: number;
  /** The client's records are protected (TLS 1.2 after its ChangeCipherSpec, TLS 1.3 after the ServerHello). */
  readonly encrypted: boolean;
  readonly handshakeComplete: boolean;
}

/**
 * What the server does instead of reading a record on: refuse it with an alert and error;
 * `not-tls`, the bytes are not TLS (ServerTapPolicy.notTls answers); `ignore`, drop it and read
 * on (a warning alert); `close`, read it, then close without a word (close_notify, a fatal alert).
 */
export type RecordRefusal = Rejection | 'not-tls' | 'ignore' | 'close';

/**
 * A real server's record layer, where it differs from OpenSSL's: which first bytes it takes for
 * TLS, which headers and records it refuses with which alert, and what it reads that OpenSSL
 * cannot (the tap then hands OpenSSL a normalised copy). The server reads a record only after
 * writing its answer to the ones before (a ClientHello's flight comes before any refusal of
 * what followed it), as Go's handshake loop does.
 */
export interface RecordRules {
  /** Whether the first five bytes open a TLS connection (false: ServerTapPolicy.notTls answers). */
  startsTls(firstBytes: Buffer): boolean;
  /** The server's judgement of a header when it reads it, before the body (which may never come). */
  header(header: RecordHeader, state: RecordReadState): Rejection | 'not-tls' | undefined;
  /** The server's judgement of a whole record (before decryption) when it reads it. */
  record(record: TlsRecord, state: RecordReadState): RecordRefusal | undefined;
  /** A protected record from the client did not open: the server's refusal (Go: bad_record_mac). */
  undecryptable(): Rejection;
  /** More ignored records in a row than the server takes: its refusal (Go: maxUselessRecords). */
  readonly ignoredLimit: { readonly count: number; readonly refusal: Rejection };
  /** The longest legacy_session_id the server reads in a ClientHello (OpenSSL's and JSSE's limit is 32). */
  readonly sessionIdLimit: number;
}
