/**
 * Real Node TLS connections on 127.0.0.1 through a byte-recording TCP relay, with the key log
 * lines of both ends. The relay can also take over the server-to-client direction, which is
 * how the alert tests forge a record where Node's own would have been.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { TestPki } from './pki.js';

export interface SessionOptions {
  version: 'TLSv1.2' | 'TLSv1.3';
  ciphers: string;
  /** Client secureOptions; 1 is SSL_OP_NO_EXTENDED_MASTER_SECRET. */
  clientSecureOptions?: number;
  serverCurves?: string;
  clientCurves?: string;
  clientMessage: Buffer;
  serverMessage: Buffer;
}

export interface Capture {
  c2s: Buffer;
  s2c: Buffer;
  keylog: Buffer[];
  clientReceived: Buffer;
  serverReceived: Buffer;
  clientCertificateSeenByServer: Buffer | undefined;
}

/** Writes forged bytes to the client; `thenClose` ends that TCP leg after them, as Go does after an alert. */
export type ToClient = (bytes: Buffer, thenClose?: boolean) => void;

/** Server-to-client interception: gets each chunk and a writer to the client; returns what to forward. */
export type ServerChunkHook = (chunk: Buffer, toClient: ToClient) => Buffer;

interface Relay {
  port: number;
  c2s: Buffer[];
  s2c: Buffer[];
  close(): Promise<void>;
}

function startRelay(target: number, hook?: ServerChunkHook): Promise<Relay> {
  const c2s: Buffer[] = [];
  const s2c: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  // Half-open on both legs: each FIN is passed on as it comes, so a close_notify that one end
  // sends after receiving the other's FIN still gets through (and into the capture).
  const relay = net.createServer({ allowHalfOpen: true }, (inbound) => {
    const outbound = net.connect({ port: target, host: '127.0.0.1', allowHalfOpen: true });
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        inbound.destroy();
        outbound.destroy();
      });
    }
    inbound.on('data', (chunk: Buffer) => {
      c2s.push(chunk);
      outbound.write(chunk);
    });
    outbound.on('data', (chunk: Buffer) => {
      s2c.push(chunk);
      const forward = hook ? hook(chunk, (bytes, thenClose) => (thenClose ? inbound.end(bytes) : inbound.write(bytes))) : chunk;
      if (forward.length > 0) inbound.write(forward);
    });
    inbound.on('end', () => outbound.end());
    outbound.on('end', () => inbound.end());
  });
  return new Promise((resolve) => {
    relay.listen(0, '127.0.0.1', () => {
      resolve({
        port: (relay.address() as net.AddressInfo).port,
        c2s,
        s2c,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            relay.close(() => done());
          }),
      });
    });
  });
}

function serverOptions(pki: TestPki, o: Pick<SessionOptions, 'version' | 'ciphers' | 'serverCurves'>): tls.TlsOptions {
  return {
    key: pki.serverKey,
    cert: pki.serverCert,
    ca: [pki.clientCa],
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: o.version,
    maxVersion: o.version,
    ciphers: o.ciphers,
    ALPNProtocols: ['http/1.1'],
    ...(o.serverCurves ? { ecdhCurve: o.serverCurves } : {}),
  };
}

function clientOptions(pki: TestPki, port: number, o: Pick<SessionOptions, 'version' | 'ciphers' | 'clientCurves' | 'clientSecureOptions'>): tls.ConnectionOptions {
  return {
    host: '127.0.0.1',
    port,
    servername: 'localhost',
    ca: [pki.serverCa],
    key: pki.clientKey,
    cert: pki.clientCert,
    minVersion: o.version,
    maxVersion: o.version,
    ciphers: o.ciphers,
    ALPNProtocols: ['h2', 'http/1.1'],
    ...(o.clientCurves ? { ecdhCurve: o.clientCurves } : {}),
    ...(o.clientSecureOptions !== undefined ? { secureOptions: o.clientSecureOptions } : {}),
  };
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

/**
 * One full exchange: the client writes its message after the handshake, the server answers
 * once it has all of it and ends; both sides close cleanly (close_notify each way).
 */
export async function runSession(pki: TestPki, options: SessionOptions): Promise<Capture> {
  const keylog: Buffer[] = [];
  let serverReceived = Buffer.alloc(0);
  let clientCertificateSeenByServer: Buffer | undefined;
  let serverClosed!: () => void;
  const serverSocketClosed = new Promise<void>((resolve) => (serverClosed = resolve));
  const server = tls.createServer(serverOptions(pki, options), (socket) => {
    clientCertificateSeenByServer = socket.getPeerX509Certificate()?.raw;
    socket.on('data', (chunk: Buffer) => {
      serverReceived = Buffer.concat([serverReceived, chunk]);
      if (serverReceived.length === options.clientMessage.length) socket.end(options.serverMessage);
    });
    socket.on('close', () => serverClosed());
  });
  server.on('keylog', (line: Buffer) => keylog.push(line));
  const relay = await startRelay(await listen(server));
  try {
    const clientReceived = await new Promise<Buffer>((resolve, reject) => {
      let received = Buffer.alloc(0);
      const client = tls.connect(clientOptions(pki, relay.port, options));
      client.on('keylog', (line: Buffer) => keylog.push(line));
      client.on('secureConnect', () => client.write(options.clientMessage));
      client.on('data', (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
      client.on('error', reject);
      client.on('close', () => resolve(received));
    });
    await serverSocketClosed;
    return { c2s: Buffer.concat(relay.c2s), s2c: Buffer.concat(relay.s2c), keylog, clientReceived, serverReceived, clientCertificateSeenByServer };
  } finally {
    await relay.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export interface InjectionResult {
  clientError: NodeJS.ErrnoException | undefined;
  clientHandshakeCompleted: boolean;
  serverKeylog: Buffer[];
}

/**
 * Connects with the relay's server-to-client hook installed; `onSecureConnect` runs when the
 * client's handshake completes and may write forged bytes to the client through the relay.
 */
export async function runWithServerHook(
  pki: TestPki,
  options: Pick<SessionOptions, 'version' | 'ciphers'>,
  makeHook: (serverKeylog: Buffer[]) => { hook: ServerChunkHook; onSecureConnect: () => void },
): Promise<InjectionResult> {
  const serverKeylog: Buffer[] = [];
  const server = tls.createServer(serverOptions(pki, options), (socket) => {
    socket.on('error', () => socket.destroy());
  });
  server.on('keylog', (line: Buffer) => serverKeylog.push(line));
  const { hook, onSecureConnect } = makeHook(serverKeylog);
  const relay = await startRelay(await listen(server), hook);
  try {
    return await new Promise<InjectionResult>((resolve) => {
      let clientError: NodeJS.ErrnoException | undefined;
      let clientHandshakeCompleted = false;
      const client = tls.connect(clientOptions(pki, relay.port, options));
      client.on('secureConnect', () => {
        clientHandshakeCompleted = true;
        onSecureConnect();
        // A forged record the client ignored would otherwise leave the test waiting for ever.
        setTimeout(() => client.destroy(), 5000).unref();
      });
      client.on('data', () => undefined);
      client.on('error', (error: NodeJS.ErrnoException) => (clientError = error));
      client.on('close', () => resolve({ clientError, clientHandshakeCompleted, serverKeylog }));
    });
  } finally {
    await relay.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
