import { ALERT, goAlertText } from '../wire/alerts.js';
import { ContentType, MAX_PLAINTEXT, TLS13 } from '../wire/record.js';
import type { RecordHeader, RecordReadState, RecordRefusal, RecordRules, Rejection } from '../wire/tap.js';
import { GoTlsError } from './go.js';

/*
 * How Go's crypto/tls reads a client's records (conn.go readRecordOrCCS and halfConn.decrypt,
 * Go 1.19 to 1.25 alike), held against Go 1.19's net/http server in
 * test/integration/record-layer-vs-go.test.ts. Go judges a header before reading its body, and
 * reads the next record only after answering the last: a ClientHello's whole flight leaves
 * before any refusal of what came behind it.
 */

/** maxCiphertext and maxCiphertextTLS13 (crypto/tls common.go). */
const MAX_CIPHERTEXT = MAX_PLAINTEXT + 2048;
const MAX_CIPHERTEXT_TLS13 = MAX_PLAINTEXT + 256;
/** No TLS record has type 0x80; an SSLv2 ClientHello starts with it (conn.go). */
const SSLV2 = 0x80;

/** sendAlert's error: what net/http logs after Go refused with `alert`. */
function localError(alert: number): Rejection {
  return { alert, error: new GoTlsError(`local error: tls: ${goAlertText(alert)}`) };
}

/** A RecordHeaderError (its text is `tls: ` and the message) after the alert Go sent. */
function headerError(alert: number, message: string): Rejection {
  return { alert, error: new GoTlsError(`tls: ${message}`) };
}

/** Before a version is chosen, Go takes only alert and handshake records below version 0x1000. */
function looksLikeHandshake(header: RecordHeader): boolean {
  return (header.type === ContentType.Alert || header.type === ContentType.Handshake) && header.version < 0x1000;
}

function oversized(header: RecordHeader, state: RecordReadState): boolean {
  return header.length > (state.version === TLS13 ? MAX_CIPHERTEXT_TLS13 : MAX_CIPHERTEXT);
}

/** Go's %x of a version: `303`. */
const hex = (n: number) => n.toString(16);

export const GO_SERVER_RECORDS: RecordRules = {
  // Go's readClientHello reads any id a length byte can give (handshake_messages.go).
  sessionIdLimit: 255,

  startsTls: (first) => first[0] === SSLV2 || looksLikeHandshake({ type: first[0]!, version: first.readUInt16BE(1), length: 0 }),

  header(header, state) {
    if (!state.handshakeComplete && header.type === SSLV2) return headerError(ALERT.protocol_version, 'unsupported SSLv2 handshake received');
    if (state.version !== undefined && state.version !== TLS13 && header.version !== state.version) {
      return headerError(ALERT.protocol_version, `received record with version ${hex(header.version)} when expecting version ${hex(state.version)}`);
    }
    // A RecordHeaderError with the connection: net/http answers what looks like HTTP with a 400, else logs it.
    if (state.version === undefined && !looksLikeHandshake(header)) return 'not-tls';
    if (oversized(header, state)) return headerError(ALERT.record_overflow, `oversized record received with length ${header.length}`);
    return undefined;
  },

  record(record, state): RecordRefusal | undefined {
    const length = record.fragment.length;
    if (state.encrypted) {
      // TLS 1.3 opens every record but ChangeCipherSpec (the additional data is the header);
      // one the client did not seal does not open: bad_record_mac before its type is looked at.
      if (state.version === TLS13 && record.type !== ContentType.ChangeCipherSpec && record.type !== ContentType.ApplicationData) {
        return localError(ALERT.bad_record_mac);
      }
    } else if (length > MAX_PLAINTEXT) {
      return localError(ALERT.record_overflow);
    }
    switch (record.type) {
      case ContentType.Alert:
        return state.encrypted ? undefined : plaintextAlert(record.fragment, state);
      case ContentType.ChangeCipherSpec:
        return length !== 1 || record.fragment[0] !== 1 ? localError(ALERT.decode_error) : undefined;
      case ContentType.Handshake:
        return !state.encrypted && length === 0 ? localError(ALERT.unexpected_message) : undefined;
      case ContentType.ApplicationData:
        // Application data is always protected (conn.go: c.in.cipher == nil).
        return state.encrypted ? undefined : localError(ALERT.unexpected_message);
      default:
        return localError(ALERT.unexpected_message);
    }
  },

  undecryptable: () => localError(ALERT.bad_record_mac),

  // maxUselessRecords (common.go): the 17th ignored record in a row is refused (retryReadRecord).
  ignoredLimit: { count: 16, refusal: { alert: ALERT.unexpected_message, error: new GoTlsError('tls: too many ignored records') } },
};

/**
 * A plaintext alert (conn.go readRecordOrCCS): close_notify is EOF; before TLS 1.3 a warning is
 * dropped and the next record read, an error ends the handshake as `remote error: tls: ...`.
 */
function plaintextAlert(fragment: Buffer, state: RecordReadState): RecordRefusal {
  if (fragment.length !== 2) return localError(ALERT.unexpected_message);
  if (fragment[1] === ALERT.close_notify || state.version === TLS13) return 'close';
  if (fragment[0] === 1) return 'ignore';
  return fragment[0] === 2 ? 'close' : localError(ALERT.unexpected_message);
}
