import type { Socket } from 'node:net';

/** Go's io.ErrUnexpectedEOF and io.EOF, the two ways a short read ends. */
export class ShortRead extends Error {
  constructor(readonly partial: boolean) {
    super(partial ? 'unexpected EOF' : 'EOF');
  }
}

/**
 * Reads a socket's bytes by count or up to a delimiter, for the few exchanges (a CONNECT
 * answer, SOCKS replies) that happen before TLS takes the socket over. Bounded: a peer that
 * sends a head larger than `limit` is cut off rather than buffered without end.
 */
export class SocketReader {
  private buffer = Buffer.alloc(0);
  private ended = false;
  private wake?: () => void;
  private readonly onData = (chunk: Buffer) => { this.buffer = Buffer.concat([this.buffer, chunk]); this.wake?.(); };
  private readonly onEnd = () => { this.ended = true; this.wake?.(); };

  constructor(private readonly socket: Socket, private readonly limit = 64 * 1024) {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onEnd);
    socket.on('error', this.onEnd);
  }

  async read(count: number): Promise<Buffer> {
    await this.until(() => this.buffer.length >= count);
    if (this.buffer.length < count) throw new ShortRead(this.buffer.length > 0);
    const out = this.buffer.subarray(0, count);
    this.buffer = this.buffer.subarray(count);
    return out;
  }

  /** Up to and including `delimiter`; what the peer sent if it closed first. */
  async readUntil(delimiter: string): Promise<{ head: Buffer; complete: boolean }> {
    await this.until(() => this.buffer.includes(delimiter) || this.buffer.length >= this.limit);
    const at = this.buffer.indexOf(delimiter);
    if (at < 0) {
      const head = this.buffer;
      this.buffer = Buffer.alloc(0);
      return { head, complete: false };
    }
    const head = this.buffer.subarray(0, at + delimiter.length);
    this.buffer = this.buffer.subarray(at + delimiter.length);
    return { head, complete: true };
  }

  /** Stops reading; whatever else arrived is dropped, as Go drops its bufio.Reader after CONNECT. */
  release(): void {
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.off('close', this.onEnd);
    this.socket.off('error', this.onEnd);
    // Paused until the next reader (the TLS tap, Node's HTTP client) listens, so no byte is lost;
    // an explicit pause() is not undone by a new 'data' listener, hence the hook.
    this.socket.pause();
    const resume = (event: string | symbol) => {
      if (event !== 'data') return;
      this.socket.off('newListener', resume);
      process.nextTick(() => this.socket.resume());
    };
    this.socket.on('newListener', resume);
  }

  private async until(ready: () => boolean): Promise<void> {
    while (!ready() && !this.ended) {
      await new Promise<void>((resolve) => { this.wake = resolve; });
      this.wake = undefined;
    }
  }
}
