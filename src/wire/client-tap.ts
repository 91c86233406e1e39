import type { Socket } from 'node:net';
import { ContentType, encodeRecord, type TlsRecord } from './record.js';
import { HandshakeType, type HandshakeMessage } from './handshake.js';
import { TLS12, TLS13, type Role } from './session.js';
import { rewriteClientFlight12, rewriteClientFlight13, rewriteServerFinished12, type Tls12Rewrite } from './rewrite.js';
import type { ClientTapPolicy, PeerFault, Rejection } from './policy.js';
import { RecordPump } from './pump.js';

/**
 * The client's side of the handshake (Go's handshake_client.go and handshake_client_tls13.go):
 * judges the server's chain where Go does (TLS 1.2 at ServerHelloDone, TLS 1.3 at the server's
 * Finished), holds OpenSSL's next flight until then, and leaves out a client certificate the
 * server's CertificateRequest does not ask for, as Go's client does.
 */
export class ClientTap extends RecordPump {
  private rewrite12?: Tls12Rewrite;
  /** The server's CertificateRequest does not list our issuer, so the flight is rewritten without it. */
  private withhold = false;

  constructor(raw: Socket, private readonly policy: ClientTapPolicy = {}) {
    super(raw, 'client', policy.handshakeLimit?.bind(policy));
  }

  protected onHandshake(sender: Role, message: HandshakeMessage): void {
    const tls13 = this.session.version === TLS13;
    switch (message.type) {
      case HandshakeType.ServerHello:
        // The client's next flight depends on the server's certificate: hold it until judged.
        if (tls13 && !this.session.helloRetry) this.holding = true;
        break;
      case HandshakeType.ServerHelloDone:
        this.judgeServer();
        break;
      case HandshakeType.Finished:
        if (sender === 'server' && tls13) this.judgeServer();
        break;
      default:
        break;
    }
  }

  /** A TLS 1.2 client holds the server's Finished while its own flight was rewritten. */
  protected mustGate(): boolean {
    return this.rewrite12?.awaitingServerFinished === true;
  }

  protected override releaseGated(record: TlsRecord): TlsRecord | undefined {
    if (this.rewrite12?.awaitingServerFinished) return rewriteServerFinished12(this.session, record, this.rewrite12);
    return record;
  }

  /**
   * A server may refuse the ClientHello with a plaintext alert as its first record (Go and
   * JSSE do for protocol_version); Go's client reads it as `remote error: tls: ...`.
   */
  protected override acceptsFirstRecord(chunk: Buffer): boolean {
    return chunk[0] === ContentType.Alert && chunk[1] === 3;
  }

  /** An answer that is not TLS goes to OpenSSL as it is, which fails the handshake. */
  protected onNotTls(chunk: Buffer): void {
    this.peerNotTls = chunk;
    this.timeline.add(this.peer, 'Plaintext', { bytes: chunk.length });
    this.push(chunk);
  }

  protected onMalformed(fault: PeerFault): Rejection | null {
    return this.policy.malformed?.(fault) ?? null;
  }

  protected override onHeld(): void {
    this.maybeRewrite();
  }

  /**
   * Go's client sends its middlebox ChangeCipherSpec before it reads the server's certificate
   * (handshake_client_tls13.go: sendDummyChangeCipherSpec, then readServerCertificate).
   */
  protected override beforeRefusal(encrypted: boolean): Buffer[] {
    if (!encrypted) return [];
    const ccs = this.held.find((record) => record.type === ContentType.ChangeCipherSpec);
    return [ccs?.raw ?? encodeRecord(ContentType.ChangeCipherSpec, TLS12, Buffer.from([1]))];
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
}
