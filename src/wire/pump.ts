import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { TlsRecord } from './record.js';
import {
  HandshakeType, MalformedHandshake, OversizedHandshake, parseCertificate, parseCertificateRequest, parseClientHello, type HandshakeMessage,
} from './handshake.js';
import { AlertLevel } from './alerts.js';
import { TLS13, TlsSession, type Role } from './session.js';
import type { AlertSeen, CertificateRequestInfo, PeerFault, Rejection } from './policy.js';
import { RecordStream } from './record-stream.js';

/**
 * The part of a tap both roles share, as Go's conn.go is shared by handshake_client*.go and
 * handshake_server*.go: over the record layer (RecordStream) it reads every record both ways
 * (decrypting with key-log secrets), keeps what a leg report needs, holds back and releases this
 * side's records, and puts a refusal's alert on the wire. What a role decides (when to judge the
 * peer, what to hold, what to do with bytes that are not TLS) lives in ClientTap and ServerTap;
 * a proxy composes one of each.
 */
export abstract class RecordPump extends RecordStream {
  readonly session: TlsSession;
  readonly alerts: AlertSeen[] = [];
  serverChain: Buffer[] = [];
  /** What the client actually put on the wire; null before its Certificate message (or when none was asked for). */
  clientChain: Buffer[] | null = null;
  certificateRequest?: CertificateRequestInfo;
  serverName?: string;
  offeredVersions: number[] = [];
  /** Whether the ClientHello carried supported_versions (TLS 1.3 capable clients do). */
  clientHelloHadVersions = false;
  /** The extension types of the client's hello, in its order (a server's words may name the one missing). */
  clientHelloExtensions: readonly number[] = [];
  rejection?: Rejection & { readonly by: Role };

  protected held: TlsRecord[] = [];
  protected holding = false;

  protected constructor(raw: Socket, role: Role, handshakeLimit?: (type: number) => number, allowHalfOpen = false) {
    super(raw, role, allowHalfOpen);
    this.session = new TlsSession({
      message: (sender, message) => this.onMessage(sender, message),
      alert: (sender, level, description, encrypted) => this.onAlert(sender, level, description, encrypted, false),
      changeCipherSpec: (sender) => this.timeline.add(sender, 'ChangeCipherSpec'),
      applicationData: (sender, length) => this.timeline.add(sender, 'ApplicationData', { bytes: length }),
      opaque: (sender) => this.onUndecryptable(sender),
    });
    if (handshakeLimit) this.session.limitHandshake(this.peer, handshakeLimit);
  }

  /** Connects the TLS socket's key log, which the tap needs to read encrypted records. */
  attach(tls: TLSSocket): void {
    this.tls = tls;
    tls.on('keylog', (line: Buffer) => {
      this.timeline.addKeylog(line);
      // A new secret opens queued peer records, which may be the ones that break a parser.
      this.guarded(() => this.session.addKeylog(line));
      this.finishRejection();
      this.guarded(() => this.flushGated());
    });
  }

  /**
   * Whether the client considers its handshake done: both Finished messages crossed (in TLS 1.3
   * the client's comes last, so a server can still refuse it afterwards; in TLS 1.2 the server's).
   */
  get clientHandshakeDone(): boolean {
    return this.session.handshakeComplete('client') && this.session.handshakeComplete('server');
  }

  /** The role's part of a handshake message, after the shared bookkeeping. */
  protected abstract onHandshake(sender: Role, message: HandshakeMessage): void;
  /** The role's answer to a peer that broke the protocol (null: close without a word). */
  protected abstract onMalformed(fault: PeerFault): Rejection | null;
  /** The client's Certificate message (the server's chain is stored by onMessage). */
  protected onClientCertificate(chain: Buffer[]): void {
    this.clientChain = chain;
  }
  /** A record from `sender` did not decrypt with the key log's secrets (the session reads no further that way). */
  protected onUndecryptable(_sender: Role): void {}
  /** Called after each held record, so the role can replace a complete held flight. */
  protected onHeld(): void {}
  /** Records that must precede this side's refusal on the wire. */
  protected beforeRefusal(_encrypted: boolean): Buffer[] {
    return [];
  }

  protected onPeerRecord(record: TlsRecord): void {
    this.session.feed(this.peer, record);
  }

  protected onOwnRecord(record: TlsRecord): void {
    if (!this.holding) return this.send(record);
    this.held.push(record);
    this.onHeld();
  }

  protected override canEnd(): boolean {
    return !this.holding;
  }

  /** Once both sides have sent application data the session reads nothing more. */
  protected observing(): boolean {
    return this.holding || this.rejection !== undefined || this.session.pending > 0 ||
      !this.session.sentApplicationData('client') || !this.session.sentApplicationData('server');
  }

  /**
   * Whatever a peer's bytes made throw ends this connection as the real component would end
   * it: the role's policy names the alert (Go's readHandshake and JSSE differ), else a close.
   */
  protected onPeerFault(error: unknown): void {
    if (this.faulted || this.stopped) return;
    this.faulted = true;
    this.gatedInbound = [];
    const reason = error instanceof Error ? error.message : String(error);
    const fault: PeerFault = error instanceof OversizedHandshake
      ? { kind: 'oversized', reason, handshakeType: error.handshakeType, claimedLength: error.claimedLength }
      : error instanceof MalformedHandshake
        ? { kind: 'undecodable', reason, handshakeType: error.handshake.type, body: error.handshake.body }
        : { kind: 'undecodable', reason };
    this.timeline.add(this.peer, 'Malformed', { reason });
    let rejection: Rejection | null = null;
    try {
      rejection = this.onMalformed(fault);
    } catch {
      rejection = null;
    }
    if (rejection && !this.rejection) this.reject(rejection);
    else this.abandon(error instanceof Error ? error : new Error(reason));
  }

  /** Queues one of OpenSSL's records for the wire and records it as sent. */
  protected send(record: TlsRecord): void {
    this.session.feed(this.role, record);
    this.queue(this.onWire(record));
  }

  /** The bytes of one of OpenSSL's records as the real component puts them on the wire (the session reads OpenSSL's). */
  protected onWire(record: TlsRecord): Buffer {
    return record.raw;
  }

  /** Sends OpenSSL's held records as they are. */
  protected release(): void {
    this.holding = false;
    const held = this.held;
    this.held = [];
    for (const record of held) this.send(record);
    this.flush();
  }

  private onMessage(sender: Role, message: HandshakeMessage): void {
    this.timeline.addMessage(sender, message, this.session);
    const tls13 = this.session.version === TLS13;
    switch (message.type) {
      case HandshakeType.ClientHello: {
        const hello = parseClientHello(message.body);
        this.serverName = hello.serverName;
        this.offeredVersions = hello.supportedVersions;
        this.clientHelloHadVersions = hello.extensions.some((extension) => extension.type === 43);
        this.clientHelloExtensions = hello.extensions.map((extension) => extension.type);
        break;
      }
      case HandshakeType.CertificateRequest:
        this.certificateRequest = parseCertificateRequest(message.body, tls13);
        break;
      case HandshakeType.Certificate: {
        const chain = parseCertificate(message.body, tls13).certificates;
        if (sender === 'server') this.serverChain = chain;
        else this.onClientCertificate(chain);
        break;
      }
      default:
        break;
    }
    this.onHandshake(sender, message);
  }

  /**
   * Refuses the handshake as the real component would: the alert on the wire (encrypted
   * when TLS 1.3 keys are in use), then a plain TCP close; the local TLS socket fails with
   * the component's own error. A TLS 1.3 client decides at the server's Finished, before
   * OpenSSL has logged the key its alert needs: the refusal waits for it, flight still held.
   */
  protected reject(rejection: Rejection): void {
    this.rejection = { ...rejection, by: this.role };
    this.holding = true;
    this.finishRejection();
  }

  private finishRejection(): void {
    if (!this.rejection || this.stopped) return;
    const alert = this.session.sealAlert(this.role, this.rejection.alert, this.rejection.earlyRecordVersion, this.rejection.level ?? AlertLevel.fatal);
    if (!alert) return;
    this.stopped = true;
    this.holding = false;
    for (const record of this.beforeRefusal(alert.encrypted)) this.queue(record);
    this.held = [];
    this.queue(alert.record);
    this.flush();
    this.onAlert(this.role, this.rejection.level ?? AlertLevel.fatal, this.rejection.alert, alert.encrypted, true);
    this.raw.end();
    this.tls?.destroy(this.rejection.error);
  }

  private onAlert(sender: Role, level: number, description: number, encrypted: boolean, emulated: boolean): void {
    const alert = { sender, level, description, encrypted, afterHandshake: this.clientHandshakeDone, emulated };
    this.alerts.push(alert);
    this.timeline.add(sender, 'Alert', { level, description, encrypted, emulated });
  }
}
