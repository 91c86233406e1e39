import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { RecordReader, looksLikeTls, type TlsRecord } from './record.js';
import type { Role } from './session.js';
import { newTimeline, type Timeline } from './timeline.js';

/**
 * The record layer under a tap, as Go's conn.go sits under its handshakes: a Duplex between a
 * Node TLSSocket (above) and the TCP socket (below) that frames both directions into records,
 * hands each to the tap, gates the peer's records on the tap's say, and writes this side's
 * flights in one piece. Everything the peer's bytes set off runs guarded: a throw there ends the
 * connection (onPeerFault), never the process, since it would escape a socket's event handler.
 */
export abstract class RecordStream extends Duplex {
  readonly timeline: Timeline;
  /** The peer answered with something that is not TLS (its first bytes). */
  peerNotTls?: Buffer;
  /** How the peer ended the TCP connection, once it did. */
  peerClose: 'fin' | 'reset' | null = null;

  protected readonly peer: Role;
  protected gatedInbound: TlsRecord[] = [];
  protected stopped = false;
  protected tls?: TLSSocket;
  /** A peer's bytes broke a parser: nothing more from it is read. */
  protected faulted = false;
  private readonly inbound = new RecordReader();
  private readonly outbound = new RecordReader();
  private sawInbound = false;
  private outgoing: Buffer[] = [];
  private firstBytes?: Buffer;
  /** Nothing more on this connection is observed: bytes cross unframed both ways. */
  private passthrough = false;

  protected constructor(readonly raw: Socket, readonly role: Role) {
    super({ allowHalfOpen: false });
    this.peer = role === 'client' ? 'server' : 'client';
    this.timeline = newTimeline();
    // Go enables TCP_NODELAY on every connection; without it a small write after a flight
    // waits out the peer's delayed ACK (40 ms on Linux).
    raw.setNoDelay(true);
    raw.on('data', (chunk: Buffer) => {
      this.timeline.bytes(this.peer, chunk);
      if (!this.stopped && !this.faulted) this.guarded(() => this.readInbound(chunk));
    });
    raw.on('end', () => {
      this.peerClose ??= 'fin';
      this.timeline.add(this.peer, 'Close');
      // A peer that sent fewer bytes than a record header and left: hand them over as they are.
      if (!this.sawInbound && this.firstBytes) {
        this.sawInbound = true;
        if (!this.stopped) this.push(this.firstBytes);
      }
      this.guarded(() => this.flushGated());
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

  /** One of the peer's records, in order; the stream forwards it unless the tap gates it. */
  protected abstract onPeerRecord(record: TlsRecord): void;
  /** One of OpenSSL's records on its way out (the tap sends it, holds it or replaces it). */
  protected abstract onOwnRecord(record: TlsRecord): void;
  /** Whether OpenSSL must not see the next inbound record yet. */
  protected abstract mustGate(): boolean;
  /** Whether the tap still reads the connection (false: it may cross unframed). */
  protected abstract observing(): boolean;
  /** The peer's bytes made something throw. */
  protected abstract onPeerFault(error: unknown): void;
  protected abstract onNotTls(chunk: Buffer): void;
  /** Whether OpenSSL's end may reach the wire now (not while the tap holds a flight back). */
  protected canEnd(): boolean {
    return true;
  }
  /** Whether the first bytes, though not a handshake record, are still read as TLS. */
  protected acceptsFirstRecord(_chunk: Buffer): boolean {
    return false;
  }
  /** An inbound record leaving the gate: the role may replace it, or keep waiting (undefined). */
  protected releaseGated(record: TlsRecord): TlsRecord | undefined {
    return this.mustGate() ? undefined : record;
  }

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.passthrough) {
      this.timeline.bytes(this.role, chunk);
      this.raw.write(chunk);
      return callback();
    }
    if (!this.stopped) {
      // What OpenSSL writes is always well-formed; a parse failure here is a harness bug worth surfacing.
      try {
        for (const record of this.outbound.push(chunk)) this.onOwnRecord(record);
      } catch (error) {
        return callback(error as Error);
      }
      this.flush();
      this.maybePassThrough();
    }
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.stopped && this.canEnd()) this.raw.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.raw.destroy();
    callback(error);
  }

  /** Runs work driven by the peer's bytes (or by a key log line that unblocks them). */
  protected guarded(work: () => void): void {
    if (this.faulted) return;
    try {
      work();
    } catch (error) {
      this.onPeerFault(error);
    }
  }

  /** Queues a record for the wire; a flight leaves in one write (see flush). */
  protected queue(raw: Buffer): void {
    this.outgoing.push(raw);
  }

  /**
   * Writes the queued records at once, as Go's and OpenSSL's stacks write a flight: records
   * written one by one reach a peer in separate segments, and a peer that refuses the first and
   * closes with the rest unread makes its kernel answer with a reset that destroys its own alert.
   */
  protected flush(): void {
    if (this.outgoing.length === 0) return;
    const bytes = this.outgoing.length === 1 ? this.outgoing[0]! : Buffer.concat(this.outgoing);
    this.outgoing = [];
    this.timeline.bytes(this.role, bytes);
    this.raw.write(bytes);
  }

  protected flushGated(): void {
    while (this.gatedInbound.length > 0 && !this.stopped) {
      const released = this.releaseGated(this.gatedInbound[0]!);
      if (released === undefined) return;
      this.gatedInbound.shift();
      this.push(released.raw);
    }
  }

  /** The byte stream is not TLS any more (a malformed record): close, as a TLS stack would. */
  protected abandon(error: Error): void {
    this.stopped = true;
    this.timeline.add(this.peer, 'Malformed', { reason: error.message });
    this.raw.destroy();
    this.tls?.destroy(error);
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
      this.onPeerRecord(record);
      if (this.stopped || this.faulted) return;
      if (this.gatedInbound.length > 0 || this.mustGate()) this.gatedInbound.push(record);
      else this.push(record.raw);
    }
    if (this.inbound.failure) return this.abandon(this.inbound.failure);
    this.flushGated();
    this.maybePassThrough();
  }

  /**
   * Once the tap reads nothing more, framing each record is wasted work: from a record boundary
   * on, chunks cross as they come. The timeline ends there, with the handshake, its alerts and
   * the closes in it (closes are the socket's, and still recorded).
   */
  private maybePassThrough(): void {
    if (this.passthrough || this.stopped || this.gatedInbound.length > 0 || this.observing()) return;
    if (this.inbound.buffered > 0 || this.outbound.buffered > 0 || this.outgoing.length > 0) return;
    this.passthrough = true;
  }
}
