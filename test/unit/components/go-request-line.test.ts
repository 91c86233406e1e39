/**
 * The pieces of Go's head reading that node:http lacks (go-request-line.ts); the answers
 * themselves are held against Go 1.19's server in test/integration/direct-path.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { GO_MAX_HEAD_BYTES, GO_TOO_LARGE, goEarlyAnswer, goHeadForNode, goRequestLine } from '../../../src/components/go-request-line.js';

const head = (text: string) => goHeadForNode(Buffer.from(text, 'latin1')).toString('latin1');

describe('goHeadForNode: the head as net/textproto reads it, in a form node:http parses', () => {
  it('folds a continuation into the line before with one space, trimming each part once', () => {
    expect(head('GET / HTTP/1.1\r\nHost: a\r\nX-A: b \r\n  c\r\n\r\nbody')).toBe('GET / HTTP/1.1\r\nHost: a\r\nX-A: b c\r\n\r\nbody');
    // readContinuedLineSlice appends each further continuation to what it has, untrimmed.
    expect(head('GET / HTTP/1.1\r\nX-A: b\r\n \r\n\tc\r\n\r\n')).toBe('GET / HTTP/1.1\r\nX-A: b  c\r\n\r\n');
  });

  it('drops a field with an empty name, its continuation included', () => {
    expect(head('GET / HTTP/1.1\r\n: x\r\n y\r\nHost: a\r\n:\r\n\r\n')).toBe('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  });

  it('reads HTTP/1.2 to 1.9 as HTTP/1.1, and returns a plain head (or one not yet whole) as it is', () => {
    expect(head('GET / HTTP/1.7\r\nHost: a\r\n\r\n')).toBe('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    const plain = Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(goHeadForNode(plain)).toBe(plain);
    const partial = Buffer.from('GET / HTTP/1.1\r\nX-A: b\r\n c');
    expect(goHeadForNode(partial)).toBe(partial);
  });
});

describe('goRequestLine and goEarlyAnswer: what Go answers before the head is whole', () => {
  it('cuts at the first two spaces, as parseRequestLine does', () => {
    expect(goRequestLine('GET /a HTTP/1.1')).toEqual({ method: 'GET', target: '/a', version: { major: 1, minor: 1 } });
    expect(goRequestLine('GET /a b HTTP/1.1')).toBeUndefined();
    expect(goRequestLine('GET /a')).toBeUndefined();
    expect(goRequestLine('GET  HTTP/1.1')).toBeUndefined();
    expect(goRequestLine('GET /a HTTP/10.1')).toBeUndefined();
  });

  it('answers a refused line once its LF is in, a long head at the limit, and waits otherwise', () => {
    expect(goEarlyAnswer(Buffer.from('GET /a\r\n'), -1, '400')).toBe('400');
    expect(goEarlyAnswer(Buffer.from('GET /a HTTP/1.1\r\nHost: a'), -1, '400')).toBeUndefined();
    expect(goEarlyAnswer(Buffer.from('GET /a HTT'), -1, '400')).toBeUndefined();
    const long = Buffer.alloc(GO_MAX_HEAD_BYTES, 'a');
    long.write('GET / HTTP/1.1\r\n');
    expect(goEarlyAnswer(long, -1, '400')).toBe(GO_TOO_LARGE);
    expect(goEarlyAnswer(long.subarray(0, GO_MAX_HEAD_BYTES - 1), -1, '400')).toBeUndefined();
  });
});
