import { createHash } from 'node:crypto';
import { HarnessError } from '../errors.js';
import { ContentType, encodeRecord, type TlsRecord } from './record.js';
import { HandshakeReassembler, HandshakeType, encodeCertificate, encodeHandshake, parseCertificate, type HandshakeMessage } from './handshake.js';
import { finishedVerifyData, tls13Transcript, Tls13RecordProtection } from './tls13.js';
import { finished12, keyBlock, Tls12RecordProtection } from './tls12.js';
import { TLS12, type TlsSession } from './session.js';

/*
 * Go's client leaves out a certificate whose issuer the server's CertificateRequest does not
 * list; OpenSSL sends it anyway and Node offers no hook to decide per request. So the tap lets
 * OpenSSL write its flight and replaces it with the one Go would send: an empty Certificate,
 * no CertificateVerify, and a Finished computed over that transcript.
 *
 * TLS 1.3 derives application keys from the transcript up to the server's Finished, so the
 * rest of the connection is unaffected. TLS 1.2 derives keys from the master secret, which
 * the key log gives as long as Extended Master Secret (which hashes the client's Certificate
 * into it) is off; the server's Finished, computed over the real transcript, is then
 * re-encoded for the transcript OpenSSL believes in.
 */

/** Returns the flight to send instead of `held`, or undefined while OpenSSL's flight is incomplete. */
export function rewriteClientFlight13(session: TlsSession, held: readonly TlsRecord[]): TlsRecord[] | undefined {
  const suite = session.suite;
  const secret = session.trafficSecret('client', 'handshake');
  if (!suite || !secret) return undefined;
  const opener = new Tls13RecordProtection(suite, secret);
  const reassembler = new HandshakeReassembler();
  const passthrough: TlsRecord[] = [];
  let certificate: HandshakeMessage | undefined;
  let finishedAt = -1;
  for (const [index, record] of held.entries()) {
    if (record.type === ContentType.ChangeCipherSpec) {
      passthrough.push(record);
      continue;
    }
    for (const message of reassembler.push(opener.open(record).content)) {
      if (message.type === HandshakeType.Certificate) certificate = message;
      if (message.type === HandshakeType.Finished) finishedAt = index;
    }
    if (finishedAt >= 0) break;
  }
  if (finishedAt < 0 || !certificate) return undefined;

  const context = parseCertificate(certificate.body, true).context;
  const emptyCertificate = encodeCertificate(true, context, []);
  const transcript = [...session.transcript.map((entry) => entry.message.raw), emptyCertificate];
  const hash = tls13Transcript(suite, transcript, session.helloRetry);
  const finished = encodeHandshake(HandshakeType.Finished, finishedVerifyData(suite, secret, hash));
  const sealer = new Tls13RecordProtection(suite, secret);
  const flight = sealer.seal(ContentType.Handshake, Buffer.concat([emptyCertificate, finished]));
  // Whatever OpenSSL wrote after its Finished is under the application key, which is unchanged.
  return [...passthrough, recordOf(flight), ...held.slice(finishedAt + 1)];
}

/** State carried from the client's rewritten flight to the server's Finished. */
export interface Tls12Rewrite {
  awaitingServerFinished: boolean;
  /** The handshake messages OpenSSL believes were exchanged, for the server Finished it expects. */
  openSslTranscript?: Buffer[];
  serverCcsSeen?: boolean;
}

export function rewriteClientFlight12(session: TlsSession, held: readonly TlsRecord[], state: Tls12Rewrite): TlsRecord[] | undefined {
  const ccs = held.findIndex((record) => record.type === ContentType.ChangeCipherSpec);
  if (ccs < 0 || held.length <= ccs + 1) return undefined;
  const { suite, keys, master } = tls12Keys(session);
  if (session.extendedMasterSecret) {
    throw new HarnessError('FTH_WIRE_UNSUPPORTED', 'cannot leave out the client certificate: the server negotiated Extended Master Secret');
  }
  const reassembler = new HandshakeReassembler();
  const original = held.slice(0, ccs).filter((r) => r.type === ContentType.Handshake).flatMap((r) => reassembler.push(r.fragment));
  const clientKeyExchange = original.find((m) => m.type === HandshakeType.ClientKeyExchange);
  if (!clientKeyExchange) throw new HarnessError('FTH_WIRE_PROTOCOL', 'the client flight has no ClientKeyExchange');
  const clientSealer = new Tls12RecordProtection(suite, keys.clientKey, keys.clientIv);
  const originalFinished = new Tls12RecordProtection(suite, keys.clientKey, keys.clientIv).open(held[ccs + 1]!).content;

  const prefix = session.transcript.map((entry) => entry.message.raw);
  const emptyCertificate = encodeCertificate(false, Buffer.alloc(0), []);
  const wireTranscript = [...prefix, emptyCertificate, clientKeyExchange.raw];
  const verifyData = finished12(suite, master, 'client finished', hashOf(suite.hash, wireTranscript));
  const finished = encodeHandshake(HandshakeType.Finished, verifyData);

  state.openSslTranscript = [...prefix, ...original.map((m) => m.raw), originalFinished];
  state.awaitingServerFinished = true;
  return [
    recordOf(encodeRecord(ContentType.Handshake, TLS12, Buffer.concat([emptyCertificate, clientKeyExchange.raw]))),
    held[ccs]!,
    recordOf(clientSealer.seal(ContentType.Handshake, finished)),
    ...held.slice(ccs + 2),
  ];
}

/**
 * Passes the server's records to OpenSSL, replacing its Finished with the one OpenSSL expects.
 * Returns undefined when the record cannot be handled yet (no keys).
 */
export function rewriteServerFinished12(session: TlsSession, record: TlsRecord, state: Tls12Rewrite): TlsRecord | undefined {
  if (record.type === ContentType.ChangeCipherSpec) {
    state.serverCcsSeen = true;
    return record;
  }
  if (!state.serverCcsSeen) {
    // A NewSessionTicket before the server's ChangeCipherSpec belongs to both transcripts.
    if (record.type === ContentType.Handshake) {
      for (const message of new HandshakeReassembler().push(record.fragment)) state.openSslTranscript?.push(message.raw);
    }
    return record;
  }
  const { suite, keys, master } = tls12Keys(session);
  const opener = new Tls12RecordProtection(suite, keys.serverKey, keys.serverIv);
  opener.open(record);
  const expected = finished12(suite, master, 'server finished', hashOf(suite.hash, state.openSslTranscript ?? []));
  const explicitNonce = suite.aead === 'chacha20-poly1305' ? undefined : record.fragment.subarray(0, 8);
  const sealer = new Tls12RecordProtection(suite, keys.serverKey, keys.serverIv);
  state.awaitingServerFinished = false;
  return recordOf(sealer.seal(ContentType.Handshake, encodeHandshake(HandshakeType.Finished, expected), explicitNonce));
}

function tls12Keys(session: TlsSession) {
  const suite = session.suite;
  const master = session.masterSecret();
  if (!suite || !master || !session.clientRandom || !session.serverRandom) {
    throw new HarnessError('FTH_WIRE_PROTOCOL', 'TLS 1.2 keys are not known yet');
  }
  if (!suite.aead) throw new HarnessError('FTH_WIRE_UNSUPPORTED', `cannot emulate Go's client certificate choice over ${suite.iana}`);
  return { suite, master, keys: keyBlock(suite, master, session.clientRandom, session.serverRandom) };
}

function hashOf(algorithm: string, messages: readonly Buffer[]): Buffer {
  const hash = createHash(algorithm);
  for (const message of messages) hash.update(message);
  return hash.digest();
}

function recordOf(raw: Buffer): TlsRecord {
  return { type: raw[0]!, version: raw.readUInt16BE(1), fragment: raw.subarray(5), raw };
}
