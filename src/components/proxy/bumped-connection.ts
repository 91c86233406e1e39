import type net from 'node:net';
import type tls from 'node:tls';
import { Duplex } from 'node:stream';

/** The bumped connection's plumbing: the client's bytes into a TLS server, and the relay to the real server. */

/**
 * The client's socket as a plain stream for the TLS server: the bytes after CONNECT's blank line
 * arrive here whatever the socket's paused state, which a TLSSocket over the raw handle would not see.
 */
export function streamOf(socket: net.Socket): Duplex {
  const stream = new Duplex({
    read() { socket.resume(); },
    write(chunk: Buffer, _encoding, done) { socket.write(chunk, () => done()); },
    final(done) { socket.end(); done(); },
    destroy(error, done) { socket.destroy(); done(error); },
  });
  socket.on('data', (chunk: Buffer) => { if (!stream.push(chunk)) socket.pause(); });
  socket.once('end', () => stream.push(null));
  socket.once('close', () => stream.destroy());
  return stream;
}

export interface RequestSeen { readonly method: string; readonly path: string }

/**
 * The first request on a bumped connection, read whole (head and Content-Length body) before the
 * proxy answers it: closing on unread bytes would make the kernel reset the connection, and the
 * client would read a reset instead of the answer. Whatever comes after is read and dropped.
 * Bounded: a head over 64 KiB or a body over 1 MiB is no request of an agent's.
 */
export async function firstRequestLine(secure: tls.TLSSocket): Promise<RequestSeen | undefined> {
  return new Promise((resolve) => {
    let text = '';
    let settled = false;
    const done = (request: RequestSeen | undefined) => {
      if (settled) return;
      settled = true;
      resolve(request);
    };
    secure.on('data', (chunk: Buffer) => {
      if (settled) return;
      text += chunk.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) {
        if (text.length > 65_536) done(undefined);
        return;
      }
      const [method = '', path = ''] = text.slice(0, text.indexOf('\r\n')).split(' ');
      const length = Math.min(Number(/\r\ncontent-length:\s*(\d+)/i.exec(text.slice(0, end))?.[1] ?? 0), 1_048_576);
      if (text.length - end - 4 < length) return;
      done(method && path.startsWith('/') ? { method, path } : undefined);
    });
    secure.once('close', () => done(undefined));
  });
}

/**
 * Relays bytes both ways between the bumped client connection and the proxy's own connection,
 * noting the first request line and the first response's status, size and type for the access
 * log. `failed` runs when the upstream connection fails before any answer came back.
 */
export function relay(client: tls.TLSSocket, upstream: tls.TLSSocket, logged: (request: RequestSeen, response: { status: number; bytes: number; type?: string }) => void, failed: (request?: RequestSeen) => void): void {
  let request: RequestSeen | undefined;
  let head = '';
  let answered = false;
  let gaveUp = false;
  let requestText = '';
  client.on('data', (chunk: Buffer) => {
    if (!request && requestText.length < 65_536) {
      requestText += chunk.toString('latin1');
      const [method = '', path = ''] = requestText.split('\r\n')[0]!.split(' ');
      if (requestText.includes('\r\n')) request = { method, path };
    }
    if (!upstream.destroyed && !gaveUp) upstream.write(chunk);
  });
  upstream.on('data', (chunk: Buffer) => {
    if (!answered) {
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end >= 0 || head.length > 65_536) {
        answered = true;
        const status = Number(/^HTTP\/\d\.\d (\d{3})/.exec(head)?.[1] ?? 0);
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        const type = /\r\ncontent-type:\s*([^;\r\n]+)/i.exec(head)?.[1];
        logged(request ?? { method: 'NONE', path: '/' }, { status, bytes: Math.max(end, 0) + 4 + length, ...(type ? { type } : {}) });
      }
    }
    client.write(chunk);
  });
  upstream.on('error', () => {
    if (answered) return void (gaveUp || client.destroy());
    answered = true;
    gaveUp = true;
    upstream.destroy();
    failed(request);
  });
  upstream.once('end', () => { if (answered) client.end(); });
  upstream.once('close', () => {
    if (answered) return;
    answered = true;
    gaveUp = true;
    failed(request);
  });
  client.once('close', () => upstream.destroy());
  client.on('error', () => upstream.destroy());
}
