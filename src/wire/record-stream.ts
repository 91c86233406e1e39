import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { HarnessError } from '../errors.js';
import { RecordReader, checkRecordHeader, looksLikeTls, type TlsRecord } from './record.js';
import type { Role } from './session.js';
import { newTimeline, type Timeline } from './timeline.js';

/**
 * The record layer under a tap, as Go's conn.go sits under its handshakes: a Duplex between a
 * Node TLSSocket (above) and the TCP socket (below) that frames both directions into records,
 * hands each to the tap, gates the peer's records on the tap's say, and writes this side's
 * flights in one piece. Everything the peer's bytes set off runs guarded: a throw there ends the
 * connection (onPeerFault), never the process, since it would escape a socket's event handler.
 * (Over 250 lines: framing, the role's read gate and the end of the stream are one state machine.)
 */
export abstract class RecordStream extends Duplex {
  readonly timeline: Timeline;
  /** The peer answered with something that is not TLS (its first bytes). */
  peerNotTls?: Buffer;
  /** How the peer ended the TCP connection, once it did. */
  peerClose: 'fin' | 'reset' | null = null;
  /** The peer's bytes ended inside a record (Go's `unexpected EOF`, where a record boundary is `EOF`). */
  endedMidRecord = false;

  protected readonly peer: Role;
  protected gatedInbound: TlsRecord[] = [];
  protected stopped = false;
  protected tls?: TLSSocket;
  /** A peer's bytes broke a parser: nothing more from it is read. */
  protected faulted = false;
  private readonly inbound = new RecordReader((header) => this.checkPeerHeader(header));
  private readonly outbound = new RecordReader();
  private sawInbound = false;
  private outgoing: Buffer[] = [];
  private firstBytes?: Buffer;
  /** Nothing more on this connection is observed: bytes cross unframed both ways. */
  private passthrough = false;
  /** The peer ended while its bytes were unread (readsNow false): OpenSSL hears of it once they are read. */
  private endPending = false;

  /**
   * `allowHalfOpen`: a peer's FIN ends only what it sends, and this side may still answer (a
   * server answering a request half-closed right after it, as Go's net/http always does); the
   * TCP connection ends once this side ends too.
   */
  protected constructor(readonly raw: Socket, readonly role: Role, allowHalfOpen = false) {
    super({ allowHalfOpen });
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
        this.endedMidRecord = true;
        if (!this.stopped) this.push(this.firstBytes);
      }
      if (!this.readsNow() && this.inbound.buffered > 0) {
        this.endPending = true;
        return;
      }
      if (this.inbound.buffered > 0 && !this.passthrough) this.endedMidRecord = true;
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
  /**
   * Whether the role reads the peer's next record now. A real server reads the next record only
   * after answering the last (false: the bytes wait unframed until drainUnread, so each header
   * is judged in the state the server reads it in).
   */
  protected readsNow(): boolean {
    return true;
  }
  /** Judges a peer's record header while framing; throws to refuse it (HeaderRefused to let the role answer). */
  protected checkPeerHeader(header: Buffer): void {
    checkRecordHeader(header);
  }
  /** A header the role refused (HeaderRefused) before its body: the role answers; default a close. */
  protected onRefusedHeader(header: Buffer): void {
    this.abandon(new HarnessError('FTH_WIRE_PROTOCOL', `record header ${header.toString('hex')} refused`));
  }
  /** The peer's record as the role reads it: the record to go on with (maybe normalised), or undefined once refused. */
  protected readPeerRecord(record: TlsRecord): TlsRecord | undefined {
    return record;
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

  /** Reads the records that waited while the role did not read (readsNow), then a pending end. */
  protected drainUnread(): void {
    this.readRecords();
    if (!this.endPending || !this.readsNow() || this.stopped || this.faulted) return;
    this.endPending = false;
    this.endedMidRecord = this.inbound.buffered > 0;
    this.flushGated();
    if (!this.stopped) this.push(null);
  }

  /** Frames and takes the peer's records one at a time, while the role reads. */
  private readRecords(): void {
    while (this.readsNow() && !this.stopped && !this.faulted) {
      let record: TlsRecord | undefined;
      try {
        record = this.inbound.next();
      } catch (error) {
        return this.framingFailure(error as Error);
      }
      if (!record) break;
      this.acceptPeerRecord(record);
      // The tap stops reading at the record after which it observes nothing more, not at the end
      // of the chunk that record came in: what TCP (or a proxy's tunnel) put together in one read
      // must not decide which of the peer's last records the timeline shows.
      if (this.mayPassThrough()) {
        this.passthrough = true;
        const rest = this.inbound.take();
        if (rest.length > 0) this.push(rest);
        return;
      }
    }
    if (this.stopped || this.faulted || !this.readsNow()) return;
    this.flushGated();
    this.maybePassThrough();
  }

  private acceptPeerRecord(record: TlsRecord): void {
    const read = this.readPeerRecord(record);
    if (!read || this.stopped || this.faulted) return;
    this.onPeerRecord(read);
    if (this.stopped || this.faulted) return;
    if (this.gatedInbound.length > 0 || this.mustGate()) this.gatedInbound.push(read);
    else this.push(read.raw);
  }

  private framingFailure(error: Error): void {
    if (error instanceof HeaderRefused) this.onRefusedHeader(error.header);
    else this.abandon(error);
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
    try {
      this.inbound.append(chunk);
    } catch (error) {
      return this.framingFailure(error as Error);
    }
    this.readRecords();
  }

  /**
   * Once the tap reads nothing more, framing each record is wasted work: from a record boundary
   * on, chunks cross as they come. The timeline ends there, with the handshake, its alerts and
   * the closes in it (closes are the socket's, and still recorded).
   */
  private maybePassThrough(): void {
    if (this.inbound.buffered === 0 && this.mayPassThrough()) this.passthrough = true;
  }

  /** Whether nothing more is observed and this side's bytes sit at a record boundary (the peer's are taken whole). */
  private mayPassThrough(): boolean {
    if (this.passthrough || this.stopped || this.faulted || this.gatedInbound.length > 0 || this.observing()) return false;
    return this.outbound.buffered === 0 && this.outgoing.length === 0;
  }
}

/** A record header the role refuses before reading its body; it answers in turn (onRefusedHeader). */
export class HeaderRefused extends HarnessError {
  constructor(readonly header: Buffer) {
    super('FTH_WIRE_PROTOCOL', `record header ${header.toString('hex')} refused`);
  }
}
