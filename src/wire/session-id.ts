import { RECORD_HEADER_LENGTH, type TlsRecord } from './record.js';
import { HandshakeType } from './handshake.js';

/*
 * Go reads a ClientHello's legacy_session_id at any length a byte can say (handshake_messages.go,
 * clientHelloMsg.unmarshal: readUint8LengthPrefixed, no upper bound) and a TLS 1.3 server echoes
 * it whole (handshake_server_tls13.go: hs.hello.sessionId = hs.clientHello.sessionId). OpenSSL
 * refuses one over 32 bytes. So the tap hands OpenSSL the hello with the id cut to 32 bytes and
 * puts the client's own id back into OpenSSL's echo. Both hellos enter the transcripts, so the
 * two ends' keys differ from there on: the client sees Go's ServerHello, and what follows does
 * not decrypt for it (only a hand-made client sends such an id; no TLS stack does).
 */

/** The longest legacy_session_id OpenSSL (and RFC 8446 §4.1.2) accepts. */
const OPENSSL_SESSION_ID_LIMIT = 32;

const SESSION_ID_AT = 2 + 32;

function withFragment(record: TlsRecord, fragment: Buffer): TlsRecord {
  const header = Buffer.from(record.raw.subarray(0, RECORD_HEADER_LENGTH));
  header.writeUInt16BE(fragment.length, 3);
  return { type: record.type, version: record.version, fragment, raw: Buffer.concat([header, fragment]) };
}

/** The hello message at the start of `fragment` when it is one whole message of `type`, split into parts. */
function helloAt(fragment: Buffer, type: number): { body: Buffer; rest: Buffer } | undefined {
  if (fragment.length < 4 + SESSION_ID_AT + 1 || fragment[0] !== type) return undefined;
  const end = 4 + fragment.readUIntBE(1, 3);
  if (end > fragment.length) return undefined;
  const body = fragment.subarray(4, end);
  if (body.length < SESSION_ID_AT + 1 + body[SESSION_ID_AT]!) return undefined;
  return { body, rest: fragment.subarray(end) };
}

function withSessionId(body: Buffer, sessionId: Buffer): Buffer {
  const after = body.subarray(SESSION_ID_AT + 1 + body[SESSION_ID_AT]!);
  return Buffer.concat([body.subarray(0, SESSION_ID_AT), Buffer.from([sessionId.length]), sessionId, after]);
}

function message(type: number, body: Buffer): Buffer {
  const header = Buffer.from([type, 0, 0, 0]);
  header.writeUIntBE(body.length, 1, 3);
  return Buffer.concat([header, body]);
}

/**
 * A ClientHello record whose session id is longer than OpenSSL reads, with the id cut to 32
 * bytes, and the client's own id; undefined for any other record (or a hello split over records).
 */
export function shortenSessionId(record: TlsRecord, limit: number): { record: TlsRecord; original: Buffer } | undefined {
  const hello = helloAt(record.fragment, HandshakeType.ClientHello);
  if (!hello) return undefined;
  const length = hello.body[SESSION_ID_AT]!;
  if (length <= OPENSSL_SESSION_ID_LIMIT || length > limit) return undefined;
  const original = Buffer.from(hello.body.subarray(SESSION_ID_AT + 1, SESSION_ID_AT + 1 + length));
  const body = withSessionId(hello.body, original.subarray(0, OPENSSL_SESSION_ID_LIMIT));
  return { record: withFragment(record, Buffer.concat([message(HandshakeType.ClientHello, body), hello.rest])), original };
}

/** OpenSSL's ServerHello echoing the shortened id, with the client's own id in its place (else unchanged). */
export function restoreSessionIdEcho(record: TlsRecord, original: Buffer): TlsRecord {
  const hello = helloAt(record.fragment, HandshakeType.ServerHello);
  if (!hello || hello.body[SESSION_ID_AT] !== OPENSSL_SESSION_ID_LIMIT) return record;
  const echoed = hello.body.subarray(SESSION_ID_AT + 1, SESSION_ID_AT + 1 + OPENSSL_SESSION_ID_LIMIT);
  if (!echoed.equals(original.subarray(0, OPENSSL_SESSION_ID_LIMIT))) return record;
  return withFragment(record, Buffer.concat([message(HandshakeType.ServerHello, withSessionId(hello.body, original)), hello.rest]));
}
