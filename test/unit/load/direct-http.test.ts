import { describe, expect, it } from 'vitest';
import { Received, readRequest } from '../../../src/load/direct-http.js';

const b = (text: string) => Buffer.from(text, 'latin1');
const checkin = (fields: string[], body = '{"status":"online"}') =>
  `POST /api/fleet/agents/a1/checkin HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: ${body.length}\r\n${fields.map((f) => `${f}\r\n`).join('')}\r\n${body}`;

describe('the direct path\'s request reader (what it answers itself, what it leaves to node:http)', () => {
  it('reads a load agent\'s whole request: method, target, lowercased fields, body, and that the connection closes after it', () => {
    expect(readRequest(b(checkin(['Connection: close', 'User-Agent: Elastic Agent v9.2.0'])))).toEqual({
      request: {
        method: 'POST', url: '/api/fleet/agents/a1/checkin', body: '{"status":"online"}',
        headers: { host: '127.0.0.1', 'content-length': '19', connection: 'close', 'user-agent': 'Elastic Agent v9.2.0' },
      },
      close: true,
    });
  });

  it('keeps the connection for the next request when the client did not ask to close it', () => {
    expect(readRequest(b('GET / HTTP/1.1\r\nHost: es\r\nAuthorization: Bearer t\r\n\r\n'))).toMatchObject({ request: { method: 'GET', url: '/', body: '' }, close: false });
    expect(readRequest(b('GET / HTTP/1.1\r\nHost: es\r\nConnection: Keep-Alive\r\n\r\n'))).toMatchObject({ close: false });
  });

  it('waits for the rest of a head or body that has not all arrived', () => {
    const whole = checkin(['connection: close']);
    expect(readRequest(b(whole.slice(0, 30)))).toBe('more');
    expect(readRequest(b(whole.slice(0, -4)))).toBe('more');
  });

  it.each([
    ['HTTP/1.0', 'GET / HTTP/1.0\r\nHost: a\r\n\r\n'],
    ['a method other than GET and POST', 'PUT /x HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['a field given twice', checkin(['connection: close', 'Authorization: ApiKey a', 'authorization: ApiKey b'])],
    ['a chunked body', 'POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['Expect: 100-continue', checkin(['Expect: 100-continue'])],
    ['a pipelined second request', `${checkin([])}GET / HTTP/1.1\r\nHost: a\r\n\r\n`],
    ['a folded field line', checkin([' folded'])],
    ['a field name that is not a token', checkin(['bad name: x'])],
    ['a Connection option other than close and keep-alive', checkin(['Connection: Upgrade'])],
    ['a Content-Length that is not a number', 'POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n1'],
    ['a head larger than node:http allows', `GET / HTTP/1.1\r\nX: ${'a'.repeat(17 * 1024)}`],
  ])('leaves %s to node:http', (_what, request) => {
    expect(readRequest(b(request))).toBe('other');
  });
});

describe('what the direct path keeps of a request that arrives in pieces', () => {
  it('finds the end of a head sent a byte at a time and joins the bytes once, not once per byte', () => {
    const request = checkin(['connection: close', `x-pad: ${'p'.repeat(12_000)}`]);
    const received = new Received();
    const headEnd = request.indexOf('\r\n\r\n');
    for (let i = 0; i < request.length; i++) {
      received.push(b(request[i]!));
      // Known from the byte that completes the CRLF CRLF on, never before.
      expect(received.headEnd()).toBe(i >= headEnd + 3 ? headEnd : -1);
    }
    expect(received.size).toBe(request.length);
    expect(received.joins).toBe(0);
    expect(readRequest(received.take())).toMatchObject({ request: { body: '{"status":"online"}', headers: { 'x-pad': 'p'.repeat(12_000) } }, close: true });
    expect(received.joins).toBe(1);
    // Taken again (the body after the head): no second copy.
    received.take();
    expect(received.joins).toBe(1);
  });

  it('finds a CRLF CRLF split across two chunks, and starts over after clear()', () => {
    const received = new Received();
    received.push(b('GET / HTTP/1.1\r\nHost: a\r\n\r'));
    expect(received.headEnd()).toBe(-1);
    received.push(b('\nrest'));
    expect(received.headEnd()).toBe('GET / HTTP/1.1\r\nHost: a'.length);
    received.clear();
    expect([received.size, received.headEnd()]).toEqual([0, -1]);
  });
});
