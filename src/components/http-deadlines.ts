import type http from 'node:http';
import type net from 'node:net';

/**
 * What the real servers do to a connection once its handshake is over: how long they wait for a
 * request's headers, for the next request, for a response to be written, and how they close.
 * Node's own http.Server timeouts answer 408 and keep other hours; both fakes switch those off
 * and apply one of these instead.
 */
export type AfterHandshakeTimeouts = GoServerTimeouts | NettyReadTimeout;

/**
 * Go's net/http.Server fields (0 = none), with Go's meaning (net/http/server.go, `readRequest`
 * and `serve`): the header deadline runs from the start of reading a request (right after the
 * handshake for the first one, from its first byte for later ones); the idle deadline from the
 * end of a response (IdleTimeout, or ReadTimeout when that is 0); the write deadline from the
 * end of a request's headers. A header or idle deadline that passes makes Go close the
 * connection without a reply or a log line (`isCommonNetReadError`): TLS close_notify, then FIN.
 */
export interface GoServerTimeouts {
  readonly kind: 'go';
  readonly readHeaderMs: number;
  readonly readMs: number;
  readonly writeMs: number;
  readonly idleMs: number;
}

/**
 * Elasticsearch's `http.read_timeout` (HttpTransportSettings; default 0, none): Netty's
 * ReadTimeoutHandler closes a channel that read nothing for that long, whatever it was doing,
 * so a client dribbling a byte now and then is never cut. Elasticsearch logs it only at TRACE
 * (`http read timeout, closing connection ...`, AbstractHttpServerTransport.onException).
 */
export interface NettyReadTimeout {
  readonly kind: 'netty';
  readonly readTimeoutMs: number;
}

/** Node's own http.Server options that would otherwise add timeouts of Node's (and a 408). */
export const NO_NODE_TIMEOUTS: http.ServerOptions = { keepAliveTimeout: 0, headersTimeout: 0, requestTimeout: 0 };

/** net/http's tlsHandshakeTimeout: the smallest positive of ReadHeaderTimeout, ReadTimeout and WriteTimeout; 0 if none. */
export function goHandshakeTimeoutMs(timeouts: GoServerTimeouts): number {
  const set = [timeouts.readHeaderMs, timeouts.readMs, timeouts.writeMs].filter((ms) => ms > 0);
  return set.length ? Math.min(...set) : 0;
}

/** One request's side of a component's deadlines: whether its response may still be written, and its end. */
export interface RequestDeadline {
  mayWrite(): boolean;
  /** The body is in: Go's read deadline for the whole request (ReadTimeout) no longer runs. */
  bodyRead(): void;
  finished(): void;
}

interface Watch {
  onRequest(): RequestDeadline;
}

/** Netty's read timeout runs whatever the connection is doing: a request changes nothing. */
const NETTY_REQUEST: RequestDeadline = { mayWrite: () => true, bodyRead: () => undefined, finished: () => undefined };

/** Applies one component's timeouts to every connection an http.Server is handed. */
export class ConnectionDeadlines {
  private readonly watches = new WeakMap<net.Socket, Watch>();

  constructor(server: http.Server, private readonly timeouts: AfterHandshakeTimeouts) {
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      const deadline = this.request(req.socket);
      if (!deadline) return;
      // node:http's own requestTimeout bounds the body on this path.
      deadline.bodyRead();
      // A write after the deadline fails in Go and the connection closes with no response.
      const end = res.end.bind(res) as (...args: unknown[]) => http.ServerResponse;
      (res as { end: unknown }).end = (...args: unknown[]) => {
        if (deadline.mayWrite()) return end(...args);
        req.socket.destroy();
        return res;
      };
      res.once('finish', () => deadline.finished());
    });
  }

  /** A request has arrived on `socket` (its head read): its deadlines, if the socket is watched. */
  request(socket: net.Socket): RequestDeadline | undefined {
    return this.watches.get(socket)?.onRequest();
  }

  /**
   * Starts watching `socket` (what the http.Server reads) as it is handed over. `raw` is the TCP
   * socket underneath when the harness reads it itself (the tapped path), which shows bytes
   * arriving on an idle connection; without it, idleness is judged by the request events alone.
   */
  watch(socket: net.Socket, raw?: net.Socket): void {
    const watch = this.timeouts.kind === 'go' ? this.go(socket, this.timeouts, raw) : this.netty(socket, this.timeouts, raw ?? socket);
    if (watch) this.watches.set(socket, watch);
  }

  private go(socket: net.Socket, t: GoServerTimeouts, raw: net.Socket | undefined): Watch {
    // Go's conn.close: tls.Conn.Close sends close_notify, then the TCP connection closes.
    const deadline = new Deadline(() => socket.destroySoon());
    let state: 'header' | 'request' | 'idle' = 'header';
    const headerMs = t.readHeaderMs || t.readMs;
    // When the request began (its first bytes); unknown after an idle wait the harness cannot see.
    let requestStarted: number | undefined = Date.now();
    deadline.after(headerMs);
    // Go's idle wait ends at the next request's first bytes; its header deadline starts there.
    raw?.on('data', () => { if (state === 'idle') { state = 'header'; requestStarted = Date.now(); deadline.after(headerMs); } });
    socket.once('close', () => deadline.dispose());
    const bodyRead = () => { if (state === 'request') deadline.stop(); };
    const finished = () => {
      if (socket.destroyed) return;
      state = 'idle';
      requestStarted = undefined;
      deadline.after(t.idleMs || t.readMs);
    };
    return {
      onRequest: () => {
        state = 'request';
        const now = Date.now();
        // net/http's readRequest: after the head, the read deadline is the whole request's (ReadTimeout from its start).
        if (t.readMs > 0) deadline.at(Math.max(now + 1, (requestStarted ?? now) + t.readMs));
        else deadline.stop();
        const writeBy = t.writeMs > 0 ? now + t.writeMs : Infinity;
        return { mayWrite: () => Date.now() < writeBy, bodyRead, finished };
      },
    };
  }

  private netty(socket: net.Socket, t: NettyReadTimeout, reads: net.Socket): Watch | undefined {
    if (t.readTimeoutMs <= 0) return undefined;
    // CloseableChannel.closeChannel: SslHandler sends close_notify, then the channel closes.
    const deadline = new Deadline(() => socket.destroySoon());
    deadline.after(t.readTimeoutMs);
    reads.on('data', () => deadline.after(t.readTimeoutMs));
    socket.once('close', () => deadline.dispose());
    return { onRequest: () => NETTY_REQUEST };
  }
}

/**
 * A connection's one deadline, moved as Go moves a conn's (SetReadDeadline): it fires `expire`
 * once the time it is set to has passed. A connection moves it three or four times in a few
 * milliseconds (header, request, idle), nearly always later: the timer underneath is replaced
 * only when the deadline comes earlier than it fires, and otherwise re-armed for the rest
 * when it fires, so a short connection costs one timer instead of one per move.
 */
export class Deadline {
  /** When it expires (epoch ms); Infinity: not set. */
  private due = Infinity;
  private timer: NodeJS.Timeout | undefined;
  /** When the timer underneath fires (epoch ms). */
  private firesAt = Infinity;

  constructor(private readonly expire: () => void) {}

  /** Expires `ms` from now; 0 or less: not set (Go's zero deadline). */
  after(ms: number): void {
    if (ms > 0) this.at(Date.now() + ms);
    else this.due = Infinity;
  }

  /** Expires at `due` (epoch ms). */
  at(due: number): void {
    this.due = due;
    if (due < this.firesAt) this.schedule(due - Date.now());
  }

  /** Not set any more (a timer underneath fires to no effect, unless the deadline is set again by then). */
  stop(): void {
    this.due = Infinity;
  }

  /** The connection is gone: the timer underneath ends too. */
  dispose(): void {
    this.due = Infinity;
    this.clear();
  }

  private schedule(ms: number): void {
    this.clear();
    const wait = Math.max(1, ms);
    this.firesAt = Date.now() + wait;
    this.timer = setTimeout(() => this.fire(), wait);
  }

  private fire(): void {
    this.timer = undefined;
    this.firesAt = Infinity;
    if (this.due === Infinity) return;
    // The timer's clock (the event loop's) may lag Date.now() by a millisecond.
    const left = this.due - Date.now();
    if (left > 1) return this.schedule(left);
    this.due = Infinity;
    this.expire();
  }

  private clear(): void {
    if (this.timer === undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.firesAt = Infinity;
  }
}
