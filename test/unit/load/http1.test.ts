import { describe, expect, it } from 'vitest';
import { parse } from '../../../src/load/http1.js';

const b = (text: string) => Buffer.from(text, 'latin1');

describe('the load agents\' HTTP/1.1 response reader', () => {
  it('reads a Content-Length body, waiting while it is incomplete', () => {
    const whole = 'HTTP/1.1 200 OK\r\nContent-Length: 11\r\nContent-Type: application/json\r\n\r\n{"ok":true}';
    expect(parse(b(whole), false)).toEqual({ status: 200, body: '{"ok":true}' });
    expect(parse(b(whole.slice(0, -3)), false)).toBeUndefined();
    expect(parse(b(whole.slice(0, 20)), false)).toBeUndefined();
    expect(parse(b(whole.slice(0, -3)), true)).toEqual(new Error('truncated body'));
  });

  it('joins a chunked body, as Go sends a large one', () => {
    const chunked = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n';
    expect(parse(b(chunked), false)).toEqual({ status: 200, body: 'hello, world' });
    expect(parse(b(chunked.slice(0, 40)), false)).toBeUndefined();
  });

  it('takes everything up to the close when neither is given, and keeps the status of an error', () => {
    expect(parse(b('HTTP/1.1 401 Unauthorized\r\n\r\n{"statusCode":401}'), false)).toBeUndefined();
    expect(parse(b('HTTP/1.1 401 Unauthorized\r\n\r\n{"statusCode":401}'), true)).toEqual({ status: 401, body: '{"statusCode":401}' });
  });

  it('refuses what is not HTTP', () => {
    expect(parse(b('\x15\x03\x03\x00\x02\x02\x28\r\n\r\n'), false)).toMatchObject({ code: 'HPE_INVALID_CONSTANT' });
  });
});
