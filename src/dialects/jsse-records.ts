import { ALERT, alertName } from '../wire/alerts.js';
import { ContentType, MAX_PLAINTEXT, TLS13 } from '../wire/record.js';
import type { RecordHeader, RecordRefusal, RecordRules, Rejection } from '../wire/tap.js';
import { JavaSslException, jsseException, type JsseWording } from './java.js';

/*
 * How Elasticsearch's HTTPS port reads a client's records: Netty's SslHandler frames them
 * (SslUtils.getEncryptedPacketLength: content types 20 to 24 with major version 3 are TLS,
 * anything else is a NotSslRecordException, which Elasticsearch logs as plaintext on an https
 * channel, without an alert), then the JDK's SSLEngine judges each whole record
 * (SSLEngineInputRecord, Alert.java, ChangeCipherSpec.java, SSLCipher.java). Checked against
 * OpenJDK 17's SSLEngine given the same bytes in test/integration/jsse-records.test.ts; where
 * OpenSSL answers otherwise (its own alert, or waiting), these are JSSE's answers.
 */

const TLS_TYPES = new Set([20, 21, 22, 23, 24]);
/** AES-GCM's and ChaCha20-Poly1305's tag: JSSE refuses a protected record no longer than it. */
const AEAD_TAG = 16;

function nettyFrames(type: number, version: number, length: number): boolean {
  return TLS_TYPES.has(type) && version >> 8 === 3 && length > 0;
}

export function jsseServerRecords(wording: JsseWording): RecordRules {
  const refuse = (className: string, alert: number, message: string, causes: readonly string[] = []): Rejection =>
    jsseException(className, alert, message, causes, wording);
  return {
    // JSSE reads a legacy_session_id of 32 bytes at most (the malformed-hello words say so).
    sessionIdLimit: 32,

    startsTls: (first) => first.length >= 5 && nettyFrames(first[0]!, first.readUInt16BE(1), first.readUInt16BE(3)) && first.readUInt16BE(3) <= MAX_PLAINTEXT,

    header(header: RecordHeader) {
      return nettyFrames(header.type, header.version, header.length) ? undefined : 'not-tls';
    },

    record(record, state): RecordRefusal | undefined {
      const { fragment } = record;
      if (state.encrypted) {
        // TLS 1.3 opens every record but ChangeCipherSpec; one too short to hold a tag fails first.
        if (state.version === TLS13 && record.type !== ContentType.ChangeCipherSpec && fragment.length <= AEAD_TAG) {
          const message = `Insufficient buffer remaining for AEAD cipher fragment (${fragment.length}). Needs to be more than tag size (${AEAD_TAG})`;
          return refuse('SSLHandshakeException', ALERT.handshake_failure, message, [`javax.crypto.BadPaddingException: ${message}`]);
        }
        if (state.version === TLS13 && record.type !== ContentType.ChangeCipherSpec && record.type !== ContentType.ApplicationData) return tagMismatch(wording);
        return undefined;
      }
      switch (record.type) {
        case ContentType.Alert:
          return plaintextAlert(fragment, state.handshakeComplete, refuse);
        case ContentType.ChangeCipherSpec:
          // Before any hello, a record that is not a handshake is no TLS JSSE knows.
          if (state.version === undefined) return unrecognised();
          return fragment.length !== 1 || fragment[0] !== 1
            ? refuse('SSLProtocolException', ALERT.unexpected_message, 'Malformed or unexpected ChangeCipherSpec message')
            : undefined;
        case ContentType.ApplicationData:
          if (state.version === undefined) return unrecognised();
          return refuse('SSLProtocolException', ALERT.unexpected_message, 'Receiving application data before handshake complete');
        case ContentType.Handshake:
          // A second ClientHello in the clear, once the server's flight is out (TLS 1.2).
          if (state.version !== undefined && state.version !== TLS13 && fragment[0] === 1) {
            return refuse('SSLProtocolException', ALERT.unexpected_message, 'Unexpected handshake message: client_hello');
          }
          return undefined;
        default:
          return undefined;
      }
    },

    undecryptable: () => tagMismatch(wording),

    // JSSE ignores no record during the handshake (a warning alert is fatal there): never reached.
    // Made only if asked for: an exception built at every start captured a stack for nothing.
    ignoredLimit: {
      count: Number.MAX_SAFE_INTEGER,
      get refusal() {
        return jsseException('SSLException', ALERT.unexpected_message, 'too many ignored records', [], wording);
      },
    },
  };
}

/** SSLEngineInputRecord: the first record is neither a handshake nor an SSLv2 hello (no alert name, on every JDK). */
function unrecognised(): Rejection {
  return new JavaSslException(['javax.net.ssl.SSLException: Unrecognized SSL message, plaintext connection?'], ALERT.internal_error).toRejection();
}

function tagMismatch(wording: JsseWording): Rejection {
  return jsseException('SSLException', ALERT.bad_record_mac, 'Tag mismatch!', ['javax.crypto.AEADBadTagException: Tag mismatch!'], wording);
}

/**
 * Alert.java's consumer: an alert that is not two bytes is illegal; during the handshake a
 * fatal one ends it (the tap reports `Received fatal alert`), close_notify is a protocol error
 * and a warning is refused with handshake_failure; after it, JSSE reads on.
 */
function plaintextAlert(fragment: Buffer, complete: boolean, refuse: (c: string, a: number, m: string) => Rejection): RecordRefusal | undefined {
  if (fragment.length !== 2) return refuse('SSLHandshakeException', ALERT.illegal_parameter, 'Invalid Alert message: no sufficient data');
  if (complete) return fragment[0] === 2 || fragment[1] === ALERT.close_notify ? 'close' : undefined;
  if (fragment[0] === 2) return 'close';
  if (fragment[1] === ALERT.close_notify) {
    // JSSE answers with its own close_notify; Elasticsearch logs this only at DEBUG.
    return { ...refuse('SSLProtocolException', ALERT.unexpected_message, 'Received close_notify during handshake'), alert: ALERT.close_notify, level: 1 };
  }
  return refuse('SSLHandshakeException', ALERT.handshake_failure, `Received handshake warning: ${alertName(fragment[1]!)}`);
}
