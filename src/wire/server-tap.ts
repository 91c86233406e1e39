import type { Socket } from 'node:net';
import { HandshakeType, parseClientHello, type HandshakeMessage } from './handshake.js';
import { ContentType, MAX_CIPHERTEXT, type TlsRecord } from './record.js';
import type { Role } from './session.js';
import type { PeerFault, RecordHeader, RecordReadState, Rejection, ServerTapPolicy } from './policy.js';
import { RecordPump } from './pump.js';
import { HeaderRefused } from './record-stream.js';
import { restoreSessionIdEcho, shortenSessionId } from './session-id.js';

/**
 * The server's side of the handshake (Go's handshake_server.go and handshake_server_tls13.go,
 * JSSE's server handshaker): judges the client's certificate when one was asked for, holding
 * the client's flight from OpenSSL until then, answers bytes that are not TLS as the real
 * server does, and, under the server's record rules (Go's conn.go), reads the client's records
 * as that server reads them.
 */
export class ServerTap extends RecordPump {
  /** The client's Certificate has been judged (or none was asked for and the handshake moved on). */
  private clientJudged = false;
  /** A ClientHello was read and the server has not answered it yet: the next record waits. */
  private answeringHello = false;
  /** The client's session id, when it was longer than OpenSSL reads (see session-id.ts). */
  private longSessionId?: Buffer;
  /** Records dropped in a row under the record rules (warning alerts). */
  private ignored = 0;

  constructor(raw: Socket, private readonly policy: ServerTapPolicy = {}) {
    super(raw, 'server', policy.handshakeLimit?.bind(policy), policy.allowHalfOpen === true);
  }

  protected onHandshake(sender: Role, message: HandshakeMessage): void {
    if (sender === 'client' && message.type === HandshakeType.ClientHello && this.policy.clientHello && !this.rejection) {
      const refusal = this.policy.clientHello(parseClientHello(message.body));
      // Refused here, the hello never reaches OpenSSL.
      if (refusal) return this.reject(refusal);
    }
    if (!this.policy.records) return;
    if (sender === 'client' && message.type === HandshakeType.ClientHello) this.answeringHello = true;
    if (sender === 'server' && message.type === HandshakeType.ServerHello) {
      this.answeringHello = false;
      // OpenSSL writes the rest of its flight in the same turn: records behind the hello are read after it.
      setImmediate(() => this.guarded(() => this.drainUnread()));
    }
  }

  protected override onClientCertificate(chain: Buffer[]): void {
    super.onClientCertificate(chain);
    if (this.clientJudged || !this.certificateRequest) return;
    this.clientJudged = true;
    const rejection = this.policy.verifyClient?.(chain) ?? null;
    if (rejection) this.reject(rejection);
  }

  /**
   * The client's flight waits until its Certificate is judged, which may need a secret the
   * key log has not given yet.
   */
  protected mustGate(): boolean {
    if (!this.policy.verifyClient || this.clientJudged) return false;
    return this.certificateRequest !== undefined || this.session.pending > 0;
  }

  protected override readsNow(): boolean {
    return !this.answeringHello;
  }

  protected override acceptsFirstRecord(chunk: Buffer): boolean {
    return this.policy.records?.startsTls(chunk) ?? false;
  }

  protected override checkPeerHeader(header: Buffer): void {
    const rules = this.policy.records;
    if (!rules) return super.checkPeerHeader(header);
    if (rules.header(headerOf(header), this.readState()) || header.readUInt16BE(3) > MAX_CIPHERTEXT) throw new HeaderRefused(header);
  }

  protected override onRefusedHeader(header: Buffer): void {
    const refusal = this.policy.records?.header(headerOf(header), this.readState());
    if (refusal) this.refuse(refusal, header);
    else super.onRefusedHeader(header);
  }

  protected override readPeerRecord(record: TlsRecord): TlsRecord | undefined {
    const rules = this.policy.records;
    if (!rules) return record;
    const state = this.readState();
    const refusal = rules.record(record, state);
    if (refusal === 'ignore') {
      this.ignored += 1;
      if (this.ignored > rules.ignoredLimit.count) this.reject(rules.ignoredLimit.refusal);
      return undefined;
    }
    this.ignored = 0;
    if (refusal === 'close') {
      // The server reads it (the session sees the alert), then closes without a word.
      this.onPeerRecord(record);
      this.stopped = true;
      this.raw.end();
      this.tls?.destroy();
      return undefined;
    }
    if (refusal) {
      this.refuse(refusal, record.raw);
      return undefined;
    }
    if (state.version !== undefined) return record;
    // Before a version is chosen the server reads any record version below 0x1000; OpenSSL only 3.x.
    let read = record.version >> 8 === 3 ? record : withVersion(record, 0x0301);
    const shortened = shortenSessionId(read, rules.sessionIdLimit);
    if (shortened) {
      this.longSessionId = shortened.original;
      read = shortened.record;
    }
    return read;
  }

  /** OpenSSL's plaintext refusal of the hello becomes the real server's, when that differs. */
  protected override onOwnRecord(record: TlsRecord): void {
    if (record.type === ContentType.Alert && this.session.version === undefined && record.fragment.length === 2 && !this.rejection && this.policy.ownRefusal) {
      const refusal = this.policy.ownRefusal(record.fragment[1]!);
      if (refusal) return this.reject(refusal);
    }
    super.onOwnRecord(record);
  }

  protected override onWire(record: TlsRecord): Buffer {
    return this.longSessionId ? restoreSessionIdEcho(record, this.longSessionId).raw : record.raw;
  }

  /**
   * Only inside the handshake: after it, the session does not follow the keys a KeyUpdate
   * brings, so a record it cannot open says nothing about the client.
   */
  protected override onUndecryptable(sender: Role): void {
    const rules = this.policy.records;
    if (rules && sender === 'client' && !this.rejection && !this.session.handshakeComplete('client')) this.reject(rules.undecryptable());
  }

  protected onMalformed(fault: PeerFault): Rejection | null {
    return this.policy.malformed?.(fault) ?? null;
  }

  protected onNotTls(chunk: Buffer): void {
    this.peerNotTls = chunk;
    this.timeline.add(this.peer, 'Plaintext', { bytes: chunk.length });
    this.stopped = true;
    const reply = this.policy.notTls?.(chunk);
    if (reply) this.timeline.bytes(this.role, reply);
    if (reply) this.raw.end(reply);
    else this.raw.end();
    this.tls?.destroy();
  }

  private refuse(refusal: Rejection | 'not-tls', bytes: Buffer): void {
    if (refusal === 'not-tls') this.onNotTls(bytes);
    else this.reject(refusal);
  }

  private readState(): RecordReadState {
    return {
      ...(this.session.version !== undefined ? { version: this.session.version } : {}),
      encrypted: this.session.encrypting('client'),
      handshakeComplete: this.clientHandshakeDone,
    };
  }
}

function headerOf(header: Buffer): RecordHeader {
  return { type: header[0]!, version: header.readUInt16BE(1), length: header.readUInt16BE(3) };
}

function withVersion(record: TlsRecord, version: number): TlsRecord {
  const raw = Buffer.from(record.raw);
  raw.writeUInt16BE(version, 1);
  return { ...record, version, raw, fragment: raw.subarray(5) };
}
