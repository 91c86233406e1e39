import type { PeerFault, RecordRules, ServerTap, Rejection } from '../wire/tap.js';
import { parseCertificate, type Cert } from '../x509/certificate.js';
import type { ClientAuthentication, VersionRange } from '../tls/settings.js';
import type { ClientHello } from '../wire/handshake.js';

/** How one real server program (Go's net/http, Netty over JSSE) judges and reports a connection. */
export interface ServerDialect {
  /** Cipher preference and whether the server's order wins (Go and JSSE servers both impose theirs). */
  readonly ciphers: string;
  /** The signature algorithms its CertificateRequest lists, when they are not OpenSSL's own. */
  readonly signatureAlgorithms?: string;
  verifyClient(chain: readonly Cert[], tls13: boolean, clientAuthentication: ClientAuthentication): Rejection | null;
  /** The first bytes were not TLS: what to answer before closing, and what to log. */
  notTls(firstBytes: Buffer, connection: ServerConnection): { reply?: string; log?: string };
  /** The log line for a handshake that failed, from what crossed the wire. */
  handshakeFailure(connection: ServerConnection): string | undefined;
  /** The largest handshake message of a type the real server reads. */
  handshakeLimit(type: number): number;
  /** The real server's answer to a handshake message it cannot read. */
  malformed(fault: PeerFault): Rejection;
  /** The real server's refusal of a ClientHello OpenSSL would take, given the versions it serves. */
  clientHello?(hello: ClientHello, versions: VersionRange): Rejection | null;
  /** The real server's refusal where OpenSSL refused the ClientHello with `alert` (null: OpenSSL's stands). */
  ownRefusal?(alert: number, connection: ServerConnection): Rejection | null;
  /** How the real server reads records, where OpenSSL would read them otherwise (absent: the tap's framing checks, a close). */
  readonly records?: RecordRules;
  /** The real server's answer to a client certificate its X.509 parser refuses. */
  unparsableCertificate(parseError: Error): Rejection;
}

/**
 * The server's judgement of a client chain as the tap hands it over (DER): a certificate its
 * X.509 parser refuses is refused as the real server refuses it, before any verification.
 */
export function judgeClientChain(
  dialect: ServerDialect, chain: readonly Buffer[], tls13: boolean, clientAuthentication: ClientAuthentication,
): Rejection | null {
  let certs: Cert[];
  try {
    certs = chain.map((der) => parseCertificate(der));
  } catch (error) {
    return dialect.unparsableCertificate(error as Error);
  }
  return dialect.verifyClient(certs, tls13, clientAuthentication);
}

/** One accepted connection as the server saw it. */
export interface ServerConnection {
  readonly remote: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly local: string;
  readonly tap: ServerTap;
  secure: boolean;
  nodeError?: NodeJS.ErrnoException;
  /** The line the component logged about the handshake, if any. */
  logLine?: string;
  /** The handshake did not finish within the server's read timeout. */
  timedOut?: boolean;
  readonly done: Promise<void>;
}
