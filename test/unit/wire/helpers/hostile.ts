/**
 * Hand-built ClientHellos for hostile-peer tests: a valid TLS 1.3-capable hello by default,
 * with each field overridable so a test can make exactly one thing wrong, and a raw client
 * that writes them and collects what the server answers until it closes.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';

export interface HelloParts {
  readonly random?: Buffer;
  readonly sessionId?: Buffer;
  readonly extensions?: ReadonlyArray<{ type: number; data: Buffer }>;
  /** Added to the extensions block's length field (a length that lies). */
  readonly extensionsLengthDelta?: number;
  readonly serverName?: string | null;
}

const u8 = (n: number) => Buffer.from([n]);
const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const u24 = (n: number) => Buffer.from([n >> 16, (n >> 8) & 0xff, n & 0xff]);
const vec8 = (b: Buffer) => Buffer.concat([u8(b.length), b]);
const vec16 = (b: Buffer) => Buffer.concat([u16(b.length), b]);

export function extension(type: number, data: Buffer): { type: number; data: Buffer } {
  return { type, data };
}

/** server_name with one host_name entry (RFC 6066 §3). */
export function sniExtension(host: string): { type: number; data: Buffer } {
  return extension(0, vec16(Buffer.concat([u8(0), vec16(Buffer.from(host))])));
}

export function defaultExtensions(serverName: string | null = null): Array<{ type: number; data: Buffer }> {
  return [
    ...(serverName ? [sniExtension(serverName)] : []),
    extension(10, vec16(Buffer.concat([u16(0x001d), u16(0x0017)]))), // supported_groups: x25519, P-256
    extension(11, vec8(u8(0))), // ec_point_formats: uncompressed
    extension(13, vec16(Buffer.concat([0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601].map(u16)))),
    extension(43, vec8(Buffer.concat([u16(0x0304), u16(0x0303)]))), // supported_versions
    extension(51, vec16(Buffer.concat([u16(0x001d), vec16(randomBytes(32))]))), // key_share x25519
  ];
}

/** The handshake message (type, length, body) of a ClientHello. */
export function clientHelloMessage(parts: HelloParts = {}): Buffer {
  const extensions = parts.extensions ?? defaultExtensions(parts.serverName ?? null);
  const block = Buffer.concat(extensions.map((e) => Buffer.concat([u16(e.type), vec16(e.data)])));
  const suites = [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8];
  const body = Buffer.concat([
    u16(0x0303),
    parts.random ?? randomBytes(32),
    vec8(parts.sessionId ?? randomBytes(32)),
    vec16(Buffer.concat(suites.map(u16))),
    vec8(u8(0)),
    u16(block.length + (parts.extensionsLengthDelta ?? 0)),
    block,
  ]);
  return handshakeMessage(1, body);
}

export function handshakeMessage(type: number, body: Buffer, claimedLength = body.length): Buffer {
  return Buffer.concat([u8(type), u24(claimedLength), body]);
}

export function record(type: number, fragment: Buffer, version = 0x0301): Buffer {
  return Buffer.concat([u8(type), u16(version), u16(fragment.length), fragment]);
}

export function clientHelloRecord(parts: HelloParts = {}): Buffer {
  return record(22, clientHelloMessage(parts));
}

/** The five malformed ClientHellos of issue 9, by name. */
export const MALFORMED_HELLOS: Readonly<Record<string, () => Buffer>> = {
  // 21 bytes: a body of version and 10 bytes where Go reads a 32-byte random.
  'random shorter than 32 bytes': () => record(22, handshakeMessage(1, Buffer.concat([u16(0x0303), randomBytes(10)]))),
  'session id of 33 bytes': () => clientHelloRecord({ sessionId: randomBytes(33) }),
  'extensions length that lies': () => clientHelloRecord({ extensionsLengthDelta: 9 }),
  'empty SNI list': () => clientHelloRecord({ extensions: [extension(0, vec16(Buffer.alloc(0))), ...defaultExtensions()] }),
  'handshake claiming 16 MB': () => record(22, handshakeMessage(1, randomBytes(100), 0xffffff)),
};

export interface RawAnswer {
  readonly bytes: Buffer;
  /** The client's port, which the server's log line names. */
  readonly localPort: number;
  /** How the server ended the connection. */
  readonly end: 'fin' | 'reset' | 'timeout';
}

/** Writes `bytes` to host:port and collects the answer until the server closes (or `timeoutMs`). */
export function sendRaw(port: number, bytes: Buffer, timeoutMs = 5_000, host = '127.0.0.1'): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let localPort = 0;
    const socket = net.connect({ port, host }, () => {
      localPort = socket.localPort ?? 0;
      socket.write(bytes);
    });
    const done = (end: RawAnswer['end']) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ bytes: Buffer.concat(chunks), end, localPort });
    };
    const timer = setTimeout(() => done('timeout'), timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => done('fin'));
    socket.on('error', (error: NodeJS.ErrnoException) => done(error.code === 'ECONNRESET' ? 'reset' : 'fin'));
  });
}

/** A ClientHello a TLS 1.2-only client sends: no supported_versions, ECDHE with AES-GCM. */
export function tls12ClientHelloRecord(): Buffer {
  const extensions = defaultExtensions().filter((e) => e.type !== 43 && e.type !== 51);
  return clientHelloRecord({ extensions, sessionId: Buffer.alloc(0) });
}

/**
 * A TLS 1.2 client that presents `certificateDer` without ever loading it into a TLS stack (an
 * OpenSSL client refuses to load some certificates Go's parser refuses too): it reads the
 * server's first flight up to ServerHelloDone and answers with a plaintext Certificate message.
 * Resolves with what the server sent after that, and how it closed.
 */
export function presentCertificate12(port: number, certificateDer: Buffer, timeoutMs = 5_000): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const after: Buffer[] = [];
    let pending = Buffer.alloc(0);
    let sent = false;
    let localPort = 0;
    const socket = net.connect({ port, host: '127.0.0.1' }, () => {
      localPort = socket.localPort ?? 0;
      socket.write(tls12ClientHelloRecord());
    });
    const done = (end: RawAnswer['end']) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ bytes: Buffer.concat(after), end, localPort });
    };
    const timer = setTimeout(() => done('timeout'), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      if (sent) return void after.push(chunk);
      pending = Buffer.concat([pending, chunk]);
      // ServerHelloDone is an empty handshake message: type 14, length 0.
      if (pending.includes(Buffer.from([14, 0, 0, 0]))) {
        sent = true;
        const list = Buffer.concat([u24(certificateDer.length), certificateDer]);
        socket.write(record(22, handshakeMessage(11, Buffer.concat([u24(list.length), list])), 0x0303));
      }
    });
    socket.on('end', () => done('fin'));
    socket.on('error', (error: NodeJS.ErrnoException) => done(error.code === 'ECONNRESET' ? 'reset' : 'fin'));
  });
}
