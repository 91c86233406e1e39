import type { Socket } from 'node:net';
import type { HandshakeMessage } from './handshake.js';
import type { Role } from './session.js';
import type { PeerFault, Rejection, ServerTapPolicy } from './policy.js';
import { RecordPump } from './pump.js';

/**
 * The server's side of the handshake (Go's handshake_server.go and handshake_server_tls13.go,
 * JSSE's server handshaker): judges the client's certificate when one was asked for, holding
 * the client's flight from OpenSSL until then, and answers bytes that are not TLS as the real
 * server does.
 */
export class ServerTap extends RecordPump {
  /** The client's Certificate has been judged (or none was asked for and the handshake moved on). */
  private clientJudged = false;

  constructor(raw: Socket, private readonly policy: ServerTapPolicy = {}) {
    super(raw, 'server', policy.handshakeLimit?.bind(policy));
  }

  protected onHandshake(_sender: Role, _message: HandshakeMessage): void {}

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
}
