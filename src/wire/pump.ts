import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { ContentType, RecordReader, looksLikeTls, type TlsRecord } from './record.js';
import {
  HandshakeType, MalformedHandshake, OversizedHandshake, parseCertificate, parseCertificateRequest, parseClientHello, type HandshakeMessage,
} from './handshake.js';
import { AlertLevel } from './alerts.js';
import { TLS13, TlsSession, type Role } from './session.js';
import { newTimeline, type Timeline } from './timeline.js';
import type { AlertSeen, CertificateRequestInfo, PeerFault, Rejection } from './policy.js';

/**
 * The part of a tap both roles share, as Go's conn.go is shared by handshake_client*.go and
 * handshake_server*.go: it sits between a Node TLSSocket and its TCP socket, reads every record
 * both ways (decrypting with key-log secrets), keeps the timeline, holds back and releases this
 * side's records, gates the peer's, and puts a refusal's alert on the wire. What a role decides
 * (when to judge the peer, what to hold, what to do with bytes that are not TLS) lives in
 * ClientTap and ServerTap; a proxy composes one of each.
 */
export abstract class RecordPump extends Duplex {
  readonly session: TlsSession;
  readonly timeline: Timeline;
  readonly alerts: AlertSeen[] = [];
  serverChain: Buffer[] = [];
  /** What the client actually put on the wire; null before its Certificate message (or when none was asked for). */
  clientChain: Buffer[] | null = null;
  certificateRequest?: CertificateRequestInfo;
  serverName?: string;
  offeredVersions: number[] = [];
  /** Whether the ClientHello carried supported_versions (TLS 1.3 capable clients do). */
  clientHelloHadVersions = false;
  rejection?: Rejection & { readonly by: Role };
  /** The peer answered with something that is not TLS (its first bytes). */
  peerNotTls?: Buffer;
  /** How the peer ended the TCP connection, once it did. */
  peerClose: 'fin' | 'reset' | null = null;

  protected readonly peer: Role;
  protected held: TlsRecord[] = [];
  protected holding = false;
  protected gatedInbound: TlsRecord[] = [];
  protected stopped = false;
  protected tls?: TLSSocket;
  private readonly inbound = new RecordReader();
  private readonly outbound = new RecordReader();
  private sawInbound = false;
  private outgoing: Buffer[] = [];
  private firstBytes?: Buffer;
  /** A peer's bytes broke a parser: nothing more from it is read. */
  private faulted = false;
  /** Nothing more on this connection is observed: bytes cross unframed both ways. */
  private passthrough = false;

  protected constructor(readonly raw: Socket, readonly role: Role, handshakeLimit?: (type: number) => number) {
    super({ allowHalfOpen: false });
    this.peer = role === 'client' ? 'server' : 'client';
    this.timeline = newTimeline();
    // Go enables TCP_NODELAY on every connection; without it a small write after a flight
    // waits out the peer's delayed ACK (40 ms on Linux).
    raw.setNoDelay(true);
    this.session = new TlsSession({
      message: (sender, message) => this.onMessage(sender, message),
      alert: (sender, level, description, encrypted) => this.onAlert(sender, level, description, encrypted, false),
      changeCipherSpec: (sender) => this.timeline.add(sender, 'ChangeCipherSpec'),
      applicationData: (sender, length) => this.timeline.add(sender, 'ApplicationData', { bytes: length }),
    });
    if (handshakeLimit) this.session.limitHandshake(this.peer, handshakeLimit);
    raw.on('data', (chunk: Buffer) => this.onInbound(chunk));
    raw.on('end', () => {
      this.peerClose ??= 'fin';
      this.timeline.add(this.peer, 'Close');
      // A peer that sent fewer bytes than a record header and left: hand them over as they are.
      if (!this.sawInbound && this.firstBytes) {
        this.sawInbound = true;
        if (!this.stopped) this.push(this.firstBytes);
      }
      this.flushGated();
      if (!this.stopped) this.push(null);
    });
    raw.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNRESET') {
        this.peerClose = 'reset';
        this.timeline.add(this.peer, 'Reset');
      }
      this.destroy(error);
    });
    raw.on('close', () => this.destroy());
  }

  /** Connects the TLS socket's key log, which the tap needs to read encrypted records. */
  attach(tls: TLSSocket): void {
    this.tls = tls;
    tls.on('keylog', (line: Buffer) => {
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

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.passthrough) {
      this.raw.write(chunk);
      return callback();
    }
    if (!this.stopped) {
      // What OpenSSL writes is always well-formed; a parse failure here is a harness bug worth surfacing.
      try {
        for (const record of this.outbound.push(chunk)) this.onOutbound(record);
      } catch (error) {
        return callback(error as Error);
      }
      this.flush();
      this.maybePassThrough();
    }
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.stopped && !this.holding) this.raw.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.raw.destroy();
    callback(error);
  }

  /** The role's part of a handshake message, after the shared bookkeeping. */
  protected abstract onHandshake(sender: Role, message: HandshakeMessage): void;
  /** The peer's Certificate message (the server's chain is already stored). */
  protected onClientCertificate(chain: Buffer[]): void {
    this.clientChain = chain;
  }
  /** Whether OpenSSL must not see the next inbound record yet. */
  protected abstract mustGate(): boolean;
  /** An inbound record leaving the gate: the role may replace it, or keep waiting (undefined). */
  protected releaseGated(record: TlsRecord): TlsRecord | undefined {
    return this.mustGate() ? undefined : record;
  }
  /** Whether the first bytes, though not a handshake record, are still read as TLS. */
  protected acceptsFirstRecord(_chunk: Buffer): boolean {
    return false;
  }
  protected abstract onNotTls(chunk: Buffer): void;
  /** The role's answer to a peer that broke the protocol (null: close without a word). */
  protected abstract onMalformed(fault: PeerFault): Rejection | null;
  /** Called after each held record, so the role can replace a complete held flight. */
  protected onHeld(): void {}
  /** Records that must precede this side's refusal on the wire. */
  protected beforeRefusal(_encrypted: boolean): Buffer[] {
    return [];
  }

  /**
   * Runs work driven by the peer's bytes. Whatever those bytes make a parser (or a policy) throw
   * ends this connection as the real component would end it, never the process: the throw
   * would otherwise escape the socket's event handler.
   */
  private guarded(work: () => void): void {
    if (this.faulted) return;
    try {
      work();
    } catch (error) {
      this.onPeerFault(error);
    }
  }

  private onPeerFault(error: unknown): void {
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

  private onInbound(chunk: Buffer): void {
    if (this.stopped || this.faulted) return;
    this.guarded(() => this.readInbound(chunk));
  }

  private readInbound(chunk: Buffer): void {
    if (this.passthrough) {
      this.push(chunk);
      return;
    }
    if (!this.sawInbound) {
      // Judge the first bytes only once a whole record header is there, as Go does.
      this.firstBytes = this.firstBytes ? Buffer.concat([this.firstBytes, chunk]) : chunk;
      if (this.firstBytes.length < 5) return;
      chunk = this.firstBytes;
      this.sawInbound = true;
      if (!looksLikeTls(chunk) && !this.acceptsFirstRecord(chunk)) return this.onNotTls(chunk);
    }
    let records: TlsRecord[];
    try {
      records = this.inbound.push(chunk);
    } catch (error) {
      return this.abandon(error as Error);
    }
    for (const record of records) {
      this.session.feed(this.peer, record);
      if (this.stopped || this.faulted) return;
      if (this.gatedInbound.length > 0 || this.mustGate()) this.gatedInbound.push(record);
      else this.push(record.raw);
    }
    if (this.inbound.failure) return this.abandon(this.inbound.failure);
    this.flushGated();
    this.maybePassThrough();
  }

  /**
   * Once both sides have sent application data the session reads nothing more (what follows is
   * encrypted under keys it no longer follows), so framing each record is wasted work: from a
   * record boundary on, chunks cross as they come. Timelines end there, with the handshake,
   * its alerts and the closes already in them (the closes are the socket's, still recorded).
   */
  private maybePassThrough(): void {
    if (this.passthrough || this.stopped || this.holding || this.rejection || this.gatedInbound.length > 0) return;
    if (!this.session.sentApplicationData('client') || !this.session.sentApplicationData('server')) return;
    if (this.session.pending > 0 || this.inbound.buffered > 0 || this.outbound.buffered > 0) return;
    this.passthrough = true;
  }

  /** The byte stream is not TLS any more (a malformed record): close, as a TLS stack would. */
  private abandon(error: Error): void {
    this.stopped = true;
    this.timeline.add(this.peer, 'Malformed', { reason: error.message });
    this.raw.destroy();
    this.tls?.destroy(error);
  }

  private onOutbound(record: TlsRecord): void {
    if (this.holding) {
      this.held.push(record);
      this.onHeld();
      return;
    }
    this.send(record);
  }

  /**
   * Queues one of OpenSSL's records for the wire and records it as sent. A flight leaves in one
   * write (see flush), as Go's and OpenSSL's do: records written one by one reach a peer in
   * separate segments, and a peer that refuses the first and closes with the rest unread makes
   * its kernel answer with a reset that destroys its own alert.
   */
  protected send(record: TlsRecord): void {
    this.session.feed(this.role, record);
    this.outgoing.push(record.raw);
  }

  protected flush(): void {
    if (this.outgoing.length === 0) return;
    const bytes = this.outgoing.length === 1 ? this.outgoing[0]! : Buffer.concat(this.outgoing);
    this.outgoing = [];
    this.raw.write(bytes);
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

  protected flushGated(): void {
    while (this.gatedInbound.length > 0 && !this.stopped) {
      const released = this.releaseGated(this.gatedInbound[0]!);
      if (released === undefined) return;
      this.gatedInbound.shift();
      this.push(released.raw);
    }
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
    const alert = this.session.sealAlert(this.role, this.rejection.alert, this.rejection.earlyRecordVersion);
    if (!alert) return;
    this.stopped = true;
    this.holding = false;
    this.outgoing.push(...this.beforeRefusal(alert.encrypted));
    this.held = [];
    this.outgoing.push(alert.record);
    this.flush();
    this.onAlert(this.role, AlertLevel.fatal, this.rejection.alert, alert.encrypted, true);
    this.raw.end();
    this.tls?.destroy(this.rejection.error);
  }

  private onAlert(sender: Role, level: number, description: number, encrypted: boolean, emulated: boolean): void {
    const alert = { sender, level, description, encrypted, afterHandshake: this.clientHandshakeDone, emulated };
    this.alerts.push(alert);
    this.timeline.add(sender, 'Alert', { level, description, encrypted, emulated });
  }
}

/** Whether a record is a plaintext alert, which a server may send as its first record. */
export function isPlainAlertRecord(chunk: Buffer): boolean {
  return chunk[0] === ContentType.Alert && chunk[1] === 3;
}
