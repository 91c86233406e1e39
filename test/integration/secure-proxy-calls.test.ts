import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { authorities, identity } from '../../src/index.js';
import { goRequest } from '../../src/components/go-client.js';
import { FakeSecureProxy } from '../../src/components/proxy/secure-proxy.js';
import { sharedPki } from '../helpers/pki.js';

/**
 * The secure proxy's record of its upstream calls is bounded: past the bound an index into
 * `calls` no longer names the same call, so callers mark with `callCount` and take `callsSince`.
 */
describe('FakeSecureProxy.callsSince past the bound on calls', () => {
  it('returns exactly the calls made after a mark once the oldest calls were dropped, where calls.slice(mark) would not', async () => {
    const pki = await sharedPki();
    const upstream = http.createServer((req, res) => res.end(`upstream saw ${req.url}`));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    try {
      await using proxy = await FakeSecureProxy.start({
        identity: identity(pki, 'fleet-cert'), upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`, keepCalls: 3,
      });
      const get = async (n: number) => {
        const exchange = await goRequest({ method: 'GET', url: `https://localhost:${proxy.port}/call/${n}`, connectTo: proxy.endpoint, tls: { certificateAuthorities: authorities(pki, 'fleet-ca') } });
        expect(exchange.response?.body).toBe(`upstream saw /call/${n}`);
      };
      const paths = (calls: readonly { url: string }[]) => calls.map((c) => new URL(c.url).pathname);
      await get(1);
      await get(2);
      const mark = proxy.callCount;
      expect(mark).toBe(2);
      for (const n of [3, 4, 5]) await get(n);
      expect(proxy.callCount).toBe(5);
      expect(paths(proxy.calls)).toEqual(['/call/3', '/call/4', '/call/5']);
      expect(paths(proxy.callsSince(mark))).toEqual(['/call/3', '/call/4', '/call/5']);
      // What slicing by the earlier length gave: two of the three calls lost.
      expect(paths(proxy.calls.slice(mark))).toEqual(['/call/5']);
      expect(paths(proxy.callsSince(4))).toEqual(['/call/5']);
      expect(paths(proxy.callsSince(5))).toEqual([]);
      // A mark older than the bound keeps: the calls since it that are still kept.
      expect(paths(proxy.callsSince(0))).toEqual(['/call/3', '/call/4', '/call/5']);
    } finally {
      await new Promise<void>((resolve) => upstream.close(() => resolve()));
    }
  });
});
