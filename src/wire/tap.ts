import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { ContentType, RecordReader, encodeRecord, looksLikeTls, type TlsRecord } from './record.js';
import { HandshakeType, parseCertificate, parseCertificateRequest, parseClientHello, type HandshakeMessage } from './handshake.js';
import { AlertLevel } from './alerts.js';
import { TLS12, TLS13, TlsSession, type Role } from './session.js';
import { rewriteClientFlight12, rewriteClientFlight13, rewriteServerFinished12, type Tls12Rewrite } from './rewrite.js';
import { newTimeline, type Timeline } from './timeline.js';
import type { AlertSeen, CertificateRequestInfo, Rejection, TapPolicy } from './policy.js';

export type { AlertSeen, CertificateRequestInfo, Rejection, TapPolicy };

/**
 * Sits between a Node TLSSocket and its TCP socket, reads every record both ways (decrypting
 * with key-log secrets), and makes the handshake behave like the real component's: it sends
 * the alert Go or Java would send, at the moment they would send it, holds back the client's
 * final flight until the server's certificate is judged, and leaves out a client certificate
 * the server's CertificateRequest does not ask for (as Go's client does).
 */
export class TlsTap extends Duplex {
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

  private readonly inbound = new RecordReader();
  private readonly outbound = new RecordReader();
  private readonly peer: Role;
  private held: TlsRecord[] = [];
  private holding = false;
  private gatedInbound: TlsRecord[] = [];
  /** Server: the client's Certificate has been judged (or none was asked for and the handshake moved on). */
  private clientJudged = false;
  private stopped = false;
  private sawInbound = false;
  private outgoing: Buffer[] = [];
  private firstBytes?: Buffer;
  private rewrite12?: Tls12Rewrite;
  /** Client: the server's CertificateRequest does not list our issuer, so the flight is rewritten without it. */
  private withhold = false;
  private tls?: TLSSocket;

  constructor(readonly raw: Socket, readonly role: Role, private readonly policy: TapPolicy = {}) {
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
      this.timeline.addKeylog(line);
      this.session.addKeylog(line);
      this.finishRejection();
      this.flushGated();
    });
  }

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (!this.stopped) {
      // What OpenSSL writes is always well-formed; a parse failure here is a harness bug worth surfacing.
      try {
        for (const record of this.outbound.push(chunk)) this.onOutbound(record);
      } catch (error) {
        return callback(error as Error);
      }
      this.flush();
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

  private onInbound(chunk: Buffer): void {
    this.timeline.bytes(this.peer, chunk);
    if (this.stopped) return;
    if (!this.sawInbound) {
      // Judge the first bytes only once a whole record header is there, as Go does.
      this.firstBytes = this.firstBytes ? Buffer.concat([this.firstBytes, chunk]) : chunk;
      if (this.firstBytes.length < 5) return;
      chunk = this.firstBytes;
      this.sawInbound = true;
      // A server may refuse the ClientHello with a plaintext alert as its first record (Go and
      // JSSE do for protocol_version); Go's client reads it as `remote error: tls: ...`.
      const alertFirst = this.role === 'client' && chunk[0] === ContentType.Alert && chunk[1] === 3;
      if (!looksLikeTls(chunk) && !alertFirst) return this.onNotTls(chunk);
    }
    let records: TlsRecord[];
    try {
      records = this.inbound.push(chunk);
    } catch (error) {
      return this.abandon(error as Error);
    }
    for (const record of records) {
      this.session.feed(this.peer, record);
      if (this.stopped) return;
      if (this.gatedInbound.length > 0 || this.mustGate()) this.gatedInbound.push(record);
      else this.push(record.raw);
    }
    if (this.inbound.failure) return this.abandon(this.inbound.failure);
    this.flushGated();
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
      this.maybeRewrite();
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
  private send(record: TlsRecord): void {
    this.session.feed(this.role, record);
    this.outgoing.push(record.raw);
  }

  private flush(): void {
    if (this.outgoing.length === 0) return;
    const bytes = this.outgoing.length === 1 ? this.outgoing[0]! : Buffer.concat(this.outgoing);
    this.outgoing = [];
    this.timeline.bytes(this.role, bytes);
    this.raw.write(bytes);
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
      case HandshakeType.ServerHello:
        // The client's next flight depends on the server's certificate: hold it until judged.
        if (this.role === 'client' && tls13 && !this.session.helloRetry) this.holding = true;
        break;
      case HandshakeType.CertificateRequest:
        this.certificateRequest = parseCertificateRequest(message.body, tls13);
        break;
      case HandshakeType.Certificate: {
        const chain = parseCertificate(message.body, tls13).certificates;
        if (sender === 'server') this.serverChain = chain;
        else this.onClientCertificate(chain);
        break;
      }
      case HandshakeType.ServerHelloDone:
        if (this.role === 'client') this.judgeServer();
        break;
      case HandshakeType.Finished:
        if (this.role === 'client' && sender === 'server' && tls13) this.judgeServer();
        break;
      default:
        break;
    }
  }

  private onClientCertificate(chain: Buffer[]): void {
    this.clientChain = chain;
    if (this.role !== 'server' || this.clientJudged || !this.certificateRequest) return;
    this.clientJudged = true;
    const rejection = this.policy.verifyClient?.(chain) ?? null;
    if (rejection) this.reject(rejection);
  }

  /**
   * Whether OpenSSL must not see the next inbound record yet: a server holds the client's
   * flight until its Certificate is judged, which may need a secret the key log has not given.
   * A TLS 1.2 client holds the server's Finished while its own flight was rewritten.
   */
  private mustGate(): boolean {
    if (this.rewrite12?.awaitingServerFinished) return true;
    if (this.role !== 'server' || !this.policy.verifyClient || this.clientJudged) return false;
    return this.certificateRequest !== undefined || this.session.pending > 0;
  }

  /** The client's moment of judgement: TLS 1.2 at ServerHelloDone, TLS 1.3 at the server's Finished. */
  private judgeServer(): void {
    const rejection = this.policy.verifyServer?.(this.serverChain) ?? null;
    if (rejection) return this.reject(rejection);
    this.withhold = this.certificateRequest !== undefined && this.policy.sendClientCertificate?.(this.certificateRequest) === false;
    if (!this.withhold) return this.release();
    if (this.session.version === TLS12) {
      this.holding = true;
      this.rewrite12 = { awaitingServerFinished: false };
    }
    this.maybeRewrite();
  }

  /** Once OpenSSL's whole flight is held, replaces it with the flight Go would have sent. */
  private maybeRewrite(): void {
    if (!this.holding || !this.withhold || this.rejection) return;
    const records = this.session.version === TLS13
      ? rewriteClientFlight13(this.session, this.held)
      : this.rewrite12 && rewriteClientFlight12(this.session, this.held, this.rewrite12);
    if (!records) return;
    this.held = [];
    this.holding = false;
    for (const record of records) this.send(record);
    this.flush();
  }

  private release(): void {
    this.holding = false;
    const held = this.held;
    this.held = [];
    for (const record of held) this.send(record);
    this.flush();
  }

  private flushGated(): void {
    while (this.gatedInbound.length > 0 && !this.stopped) {
      const record = this.gatedInbound[0]!;
      if (this.rewrite12?.awaitingServerFinished) {
        const replaced = rewriteServerFinished12(this.session, record, this.rewrite12);
        if (replaced === undefined) return;
        this.gatedInbound.shift();
        this.push(replaced.raw);
        continue;
      }
      if (this.mustGate()) return;
      this.gatedInbound.shift();
      this.push(record.raw);
    }
  }

  /**
   * Refuses the handshake as the real component would: the alert on the wire (encrypted
   * when TLS 1.3 keys are in use), then a plain TCP close; the local TLS socket fails with
   * the component's own error. A TLS 1.3 client decides at the server's Finished, before
   * OpenSSL has logged the key its alert needs: the refusal waits for it, flight still held.
   */
  private reject(rejection: Rejection): void {
    this.rejection = { ...rejection, by: this.role };
    this.holding = true;
    this.finishRejection();
  }

  private finishRejection(): void {
    if (!this.rejection || this.stopped) return;
    const alert = this.session.sealAlert(this.role, this.rejection.alert);
    if (!alert) return;
    this.stopped = true;
    this.holding = false;
    if (alert.encrypted && this.role === 'client') {
      // Go's client sends its middlebox ChangeCipherSpec before it reads the server's certificate
      // (handshake_client_tls13.go: sendDummyChangeCipherSpec, then readServerCertificate).
      const ccs = this.held.find((record) => record.type === ContentType.ChangeCipherSpec);
      this.outgoing.push(ccs?.raw ?? encodeRecord(ContentType.ChangeCipherSpec, TLS12, Buffer.from([1])));
    }
    this.held = [];
    this.outgoing.push(alert.record);
    this.flush();
    this.onAlert(this.role, AlertLevel.fatal, this.rejection.alert, alert.encrypted, true);
    this.raw.end();
    this.tls?.destroy(this.rejection.error);
  }

  /**
   * Whether the client considers its handshake done: both Finished messages crossed (in TLS 1.3
   * the client's comes last, so a server can still refuse it afterwards; in TLS 1.2 the server's).
   */
  get clientHandshakeDone(): boolean {
    return this.session.handshakeComplete('client') && this.session.handshakeComplete('server');
  }

  private onAlert(sender: Role, level: number, description: number, encrypted: boolean, emulated: boolean): void {
    const alert = { sender, level, description, encrypted, afterHandshake: this.clientHandshakeDone, emulated };
    this.alerts.push(alert);
    this.timeline.add(sender, 'Alert', { level, description, encrypted, emulated });
  }

  private onNotTls(chunk: Buffer): void {
    this.peerNotTls = chunk;
    this.timeline.add(this.peer, 'Plaintext', { bytes: chunk.length });
    if (this.role === 'client') {
      this.push(chunk);
      return;
    }
    this.stopped = true;
    const reply = this.policy.notTls?.(chunk);
    if (reply) this.timeline.bytes(this.role, reply);
    if (reply) this.raw.end(reply);
    else this.raw.end();
    this.tls?.destroy();
  }
}
