import { describe, expect, it } from 'vitest';
import { requestTarget } from '../../src/request-target.js';

describe('requestTarget', () => {
  it('reads a path and query as WHATWG URL parsing does, whether or not the path is plain', () => {
    const targets = ['/', '/api/status', '/api/fleet/agents/0b1c-AF_9/checkin', '/_security/api_key', '/a//b', '/a/', '/x?y=1&z', '/%41', '/a/./b', '/a/../b', '/a\\b', '/ü', '/a b'];
    for (const target of targets) {
      const url = new URL(target, 'http://server');
      const read = requestTarget(target);
      expect([target, read.pathname, read.searchParams.toString()]).toEqual([target, url.pathname, url.searchParams.toString()]);
    }
  });

  it('keeps a target starting with // as a path instead of reading a host from it', () => {
    expect(requestTarget('//evil/x').pathname).toBe('//evil/x');
    expect(requestTarget('//[').pathname).toBe('//[');
  });
});
