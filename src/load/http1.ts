import type { Socket } from 'node:net';

/**
 * The agents' HTTP/1.1, one request per connection (`Connection: close`), written and read
 * directly on the TLS socket: node:http's client machinery cost a tenth of a handshake here.
 * Reads a Content-Length, chunked or close-delimited body; enough for Fleet Server's answers.
 */
export function exchange(socket: Socket, host: string, path: string, headers: Readonly<Record<string, string>>, body: string): Promise<{ status: number; body: string }> {
  const lines = [`POST ${path} HTTP/1.1`, `host: ${host}`, 'content-type: application/json', `content-length: ${Buffer.byteLength(body)}`, 'connection: close'];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return new Promise((resolve, reject) => {
    let received: Buffer = Buffer.alloc(0);
    const settle = (result: { status: number; body: string } | Error) => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', reject);
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const onData = (chunk: Buffer) => {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      const parsed = parse(received, false);
      if (parsed) settle(parsed);
    };
    const onEnd = () => settle(parse(received, true) ?? Object.assign(new Error('the server closed the connection before a whole response'), { code: 'ECONNRESET' }));
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('error', reject);
    socket.write(`${lines.join('\r\n')}\r\n\r\n${body}`);
  });
}

/** A complete response in `data`, or undefined while more is to come (`ended`: no more will). */
export function parse(data: Buffer, ended: boolean): { status: number; body: string } | Error | undefined {
  const head = data.indexOf('\r\n\r\n');
  if (head < 0) return ended ? new Error('no HTTP response') : undefined;
  const [statusLine = '', ...fields] = data.subarray(0, head).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
  if (!status) return Object.assign(new Error(`not an HTTP response: ${statusLine.slice(0, 40)}`), { code: 'HPE_INVALID_CONSTANT' });
  const header = (name: string) => fields.find((f) => f.toLowerCase().startsWith(`${name}:`))?.slice(name.length + 1).trim().toLowerCase();
  const rest = data.subarray(head + 4);
  const length = header('content-length');
  if (length !== undefined) return rest.length >= Number(length) ? { status, body: rest.subarray(0, Number(length)).toString('utf8') } : ended ? new Error('truncated body') : undefined;
  if (header('transfer-encoding') === 'chunked') {
    const chunks: Buffer[] = [];
    for (let at = 0; ;) {
      const eol = rest.indexOf('\r\n', at);
      if (eol < 0) return ended ? new Error('truncated chunked body') : undefined;
      const size = parseInt(rest.subarray(at, eol).toString('latin1'), 16);
      if (Number.isNaN(size)) return new Error('malformed chunked body');
      if (size === 0) return { status, body: Buffer.concat(chunks).toString('utf8') };
      if (rest.length < eol + 2 + size + 2) return ended ? new Error('truncated chunked body') : undefined;
      chunks.push(rest.subarray(eol + 2, eol + 2 + size));
      at = eol + 2 + size + 2;
    }
  }
  return ended ? { status, body: rest.toString('utf8') } : undefined;
}
