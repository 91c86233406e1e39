import net from 'node:net';
import { HarnessError, systemErrorCode } from '../../errors.js';

/**
 * How long a fake proxy keeps a connection on which nothing moves, either side: tinyproxy's default
 * `Timeout 600` (tinyproxy.conf). Longer than Fleet Server's 5-minute long-poll checkin, so only a
 * peer that stopped (no CONNECT, no ClientHello, an upstream that never answers) is cut.
 */
const IDLE_TIMEOUT_MS = 600_000;

/** Listens for a fake proxy, with the harness's errors for a taken port, and closes every connection on stop. */
export class ProxyListener {
  private readonly sockets = new Set<net.Socket>();

  private constructor(readonly server: net.Server) {}

  static async start(component: string, host: string, port: number, onConnection: (socket: net.Socket) => void): Promise<ProxyListener> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) => {
        reject(systemErrorCode(error) === 'EADDRINUSE'
          ? new HarnessError('FTH_PORT_IN_USE', `${component}: port ${port} on ${host} is already in use`, { cause: error })
          : new HarnessError('FTH_LISTEN_FAILED', `${component}: cannot listen on ${host}:${port}: ${(error as Error).message}`, { cause: error }));
      });
      server.listen(port, host, () => resolve());
    });
    const listener = new ProxyListener(server);
    server.on('connection', (socket) => {
      listener.track(socket);
      socket.on('error', () => {});
      onConnection(socket);
    });
    return listener;
  }

  /** Sockets the proxy opens upstream are closed with it too. */
  track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.setTimeout(IDLE_TIMEOUT_MS, () => socket.destroy());
    socket.once('close', () => this.sockets.delete(socket));
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Small descriptor numbers, lowest free first, as a single-process proxy's log shows them. */
export class Descriptors {
  private readonly used = new Set<number>();
  constructor(private readonly first: number) {}
  take(): number {
    let fd = this.first;
    while (this.used.has(fd)) fd++;
    this.used.add(fd);
    return fd;
  }
  free(fd: number): void {
    this.used.delete(fd);
  }
}

/** Dials the target the client asked for, through `resolve` when the name stands for a fake on this machine. */
export function dialUpstream(target: { host: string; port: number }): Promise<net.Socket | NodeJS.ErrnoException> {
  let upstream: net.Socket;
  try {
    upstream = net.connect(target);
  } catch (error) {
    // A port a peer asked for that TCP has not (CONNECT host:99999) is that peer's failed dial, not ours.
    return Promise.resolve(error as NodeJS.ErrnoException);
  }
  return new Promise((resolve) => {
    upstream.once('connect', () => resolve(upstream));
    upstream.once('error', (error) => resolve(error));
  });
}

/** Where a tunnel to `host:port` really goes (a test's DNS: every name to the fake behind it). */
export type Resolve = (host: string, port: number) => { host: string; port: number };

/** Both ways until either side closes; counts bytes each way for the proxy's closing line. */
export function splice(client: net.Socket, upstream: net.Socket, done: (counts: { fromClient: number; toClient: number }) => void): void {
  const counts = { fromClient: 0, toClient: 0 };
  client.on('data', (chunk: Buffer) => { counts.fromClient += chunk.length; });
  upstream.on('data', (chunk: Buffer) => { counts.toClient += chunk.length; });
  client.pipe(upstream);
  upstream.pipe(client);
  upstream.on('error', () => {});
  let finished = false;
  const end = () => {
    if (finished) return;
    finished = true;
    client.destroy();
    upstream.destroy();
    done(counts);
  };
  client.once('close', end);
  upstream.once('close', end);
  // A side already gone (a client that reset while the proxy dialled) emits no 'close' again.
  if (client.destroyed || upstream.destroyed) end();
}
