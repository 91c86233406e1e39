import { ALERT, goAlertText } from '../wire/alerts.js';
import { looksLikeHttp } from '../wire/record.js';
import type { Cert } from '../x509/certificate.js';
import { verifyClientChain } from '../x509/libs-verify.js';
import {
  GoTlsError, HTTP_TO_HTTPS_RESPONSE, goHandshakeLimit, goMalformedHandshake, goUnparsableCertificate, handshakeErrorLine, remoteError, serverClientCertificateRejection, socketError,
  unsupportedVersionsError, type GoRelease,
} from '../dialects/go.js';
import { GO_SERVER_RECORDS } from '../dialects/go-records.js';
import { GO_CIPHERS, GO_SIGNATURE_ALGORITHMS } from './go-ciphers.js';
import type { ServerConnection, ServerDialect } from './server-dialect.js';


/**
 * A Go net/http TLS server with elastic-agent-libs' server config (Fleet Server): Go verifies a
 * client certificate whenever one is asked for (whatever `verification_mode` says), and every
 * failed handshake becomes one `http: TLS handshake error from ...` line.
 */
export function goServerDialect(release: GoRelease, clientCAs: readonly Cert[]): ServerDialect {
  return {
    // Go imposes its own order (PreferServerCipherSuites is ignored since Go 1.17). Level 0: Go
    // still lists SHA-1 signature algorithms in its CertificateRequest and sets no minimum key
    // size before 1.24, where OpenSSL's default level drops both; the suites stay Go's alone.
    ciphers: `${GO_CIPHERS}:@SECLEVEL=0`,
    signatureAlgorithms: GO_SIGNATURE_ALGORITHMS,
    verifyClient(chain, tls13, clientAuthentication) {
      if (chain.length === 0) {
        return clientAuthentication === 'required' ? serverClientCertificateRejection(release, tls13, { missing: true }) : null;
      }
      const verdict = verifyClientChain([...chain], { clientCAs: [...clientCAs] });
      return verdict.ok ? null : serverClientCertificateRejection(release, tls13, { missing: false, error: verdict.error });
    },
    notTls(first, connection) {
      // net/http answers what looks like HTTP and logs nothing; anything else is a handshake error.
      if (looksLikeHttp(first)) return { reply: HTTP_TO_HTTPS_RESPONSE };
      return { log: handshakeErrorLine(connection.remote, 'tls: first record does not look like a TLS handshake') };
    },
    handshakeLimit: goHandshakeLimit(release),
    records: GO_SERVER_RECORDS,
    clientHello(hello, versions) {
      // The checks Go makes once it has chosen a version and OpenSSL makes otherwise (record version 3.3 from then on).
      const refuse = (alert: number, text: string) => ({ alert, error: new GoTlsError(text), earlyRecordVersion: 0x0303 });
      const explicit = hello.extensions.some((e) => e.type === 43);
      // mutualVersion (common.go): the client's first version the server serves.
      const served = (v: number) => v >= (versions.min === '1.3' ? 0x0304 : 0x0303) && v <= (versions.max === '1.3' ? 0x0304 : 0x0303);
      const chosen = offeredAsGoSeesThem(hello.supportedVersions, explicit).find(served);
      if (chosen === 0x0304) {
        // handshake_server_tls13.go processClientHello
        if (!explicit) return refuse(ALERT.illegal_parameter, 'tls: client used the legacy version field to negotiate TLS 1.3');
        if (hello.compressionMethods.length !== 1 || hello.compressionMethods[0] !== 0) return refuse(ALERT.illegal_parameter, 'tls: TLS 1.3 client supports illegal compression methods');
        return null;
      }
      // handshake_server.go processClientHello
      if (chosen === 0x0303 && !hello.compressionMethods.includes(0)) {
        return refuse(ALERT.handshake_failure, 'tls: client does not support uncompressed connections');
      }
      return null;
    },
    ownRefusal(alert, connection) {
      switch (alert) {
        // OpenSSL could not decode the hello (or met another message first): Go's readHandshake
        // refuses what it cannot unmarshal with unexpected_message, before a version is set.
        case ALERT.decode_error:
        case ALERT.unexpected_message:
          return { alert: ALERT.unexpected_message, error: new GoTlsError(`local error: tls: ${goAlertText(ALERT.unexpected_message)}`) };
        case ALERT.missing_extension:
          return { alert, error: new GoTlsError(`local error: tls: ${goAlertText(alert)}`), earlyRecordVersion: 0x0303 };
        case ALERT.protocol_version: {
          const tap = connection.tap;
          return { alert: ALERT.protocol_version, error: new GoTlsError(unsupportedVersionsError(offeredAsGoSeesThem(tap.offeredVersions, tap.clientHelloHadVersions))) };
        }
        default:
          return null;
      }
    },
    malformed: (fault) => goMalformedHandshake(fault, release),
    unparsableCertificate: (parseError) => goUnparsableCertificate('client', parseError),
    handshakeFailure(connection) {
      // Plain HTTP was answered with 400 by notTls; net/http logs nothing for it.
      if (connection.tap.peerNotTls) return undefined;
      return handshakeErrorLine(connection.remote, goServerError(connection));
    },
  };
}

function goServerError(connection: ServerConnection): string {
  const tap = connection.tap;
  if (tap.rejection?.by === 'server') return tap.rejection.error.message;
  const fromClient = tap.alerts.find((a) => a.sender === 'client' && a.description !== ALERT.close_notify);
  if (fromClient) return remoteError(fromClient.description);
  const ours = tap.alerts.find((a) => a.sender === 'server' && !a.emulated);
  if (ours?.description === ALERT.protocol_version) return unsupportedVersionsError(offeredAsGoSeesThem(tap.offeredVersions, tap.clientHelloHadVersions));
  if (ours?.description === ALERT.handshake_failure) return 'tls: no cipher suite supported by both client and server';
  // net/http's read deadline (ReadTimeout) passed while the client had not finished its handshake.
  if (connection.timedOut) return socketError('timeout', connection.local, connection.remote);
  if (tap.peerClose === 'reset') return socketError('reset', connection.local, connection.remote);
  // conn.go readRecordOrCCS: EOF at a record boundary is io.EOF, inside a record io.ErrUnexpectedEOF.
  if (tap.peerClose === 'fin' && tap.endedMidRecord) return 'unexpected EOF';
  return socketError('eof', connection.local, connection.remote);
}

/**
 * Without a supported_versions extension, Go takes every version up to the ClientHello's
 * legacy one (supportedVersionsFromMax), down to TLS 1.0.
 */
function offeredAsGoSeesThem(offered: readonly number[], explicit: boolean): number[] {
  if (explicit) return [...offered];
  const max = offered[0] ?? 0x0303;
  return [0x0304, 0x0303, 0x0302, 0x0301].filter((v) => v <= max);
}
