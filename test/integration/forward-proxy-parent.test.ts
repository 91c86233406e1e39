import net from 'node:net';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { startForwardProxy } from '../../src/index.js';
import { goRequest } from '../../src/components/go-client.js';
import { parseProxyUrl } from '../../src/components/proxy/proxy-url.js';
import { scratchDir } from '../helpers/pki.js';
import { startTinyproxy, type RealProxy } from '../helpers/proxy-peers.js';
import { startRecordingParent, type RecordingParent } from '../helpers/recording-parent.js';
import { settledLines } from '../helpers/tools.js';

/**
 * The fake forward proxy with a parent (tinyproxy's `Upstream http`) held against Debian's
 * tinyproxy 1.11 with the same parent: a recording server that shows byte for byte what each
 * proxy sent on, and the two proxies' log lines for the same client.
 */
const auth = { username: 'alice', password: 's3cret' };

/** Lines with what differs by run made generic: descriptors, the parent's port. */
function shape(lines: readonly string[], parentPort: number): string[] {
  return lines.map((l) => l.replace(/file descriptor \d+/g, 'file descriptor N').replace(/fd:\d+/g, 'fd:N').replaceAll(`:${parentPort}`, ':PARENT'));
}

async function both<T>(parents: { real: RecordingParent; fake: RecordingParent }, run: (proxy: { port: number; lines: () => Promise<string[]> }, parent: RecordingParent) => Promise<T>, options: { auth?: typeof auth } = {}): Promise<{ real: T; fake: T; realLines: string[]; fakeLines: string[] }> {
  const own = await scratchDir();
  let tiny: RealProxy | undefined;
  try {
    tiny = await startTinyproxy(own.dir, { parent: { host: '127.0.0.1', port: parents.real.port }, ...(options.auth ? { auth: options.auth } : {}) });
    await using fake = await startForwardProxy({ parent: { host: '127.0.0.1', port: parents.fake.port }, ...(options.auth ? { auth: options.auth } : {}) });
    // Each proxy's lines from here on: tinyproxy's start-up and the readiness probe's connection are no part of it.
    const [realBefore, fakeBefore] = [(await settledLines(() => tiny!.lines())).length, fake.log.entries.length];
    const realProxy = { port: tiny.port, lines: async () => (await tiny!.lines()).slice(realBefore) };
    const fakeProxy = { port: fake.port, lines: async () => fake.log.entries.slice(fakeBefore).map((e) => e.message) };
    const [real, fakeResult] = await Promise.all([run(realProxy, parents.real), run(fakeProxy, parents.fake)]);
    const [realLines, fakeLines] = await Promise.all([settledLines(realProxy.lines), settledLines(fakeProxy.lines)]);
    return { real, fake: fakeResult, realLines: shape(realLines, parents.real.port), fakeLines: shape(fakeLines, parents.fake.port) };
  } finally {
    await tiny?.stop();
    await own.cleanup();
  }
}

describe('a forward proxy with a parent proxy, the fake and tinyproxy 1.11', () => {
  it('sends a plain request to the parent in absolute form, with tinyproxy\'s headers, and the client gets the parent\'s answer', async () => {
    const parents = { real: await startRecordingParent(false), fake: await startRecordingParent(false) };
    try {
      const outcome = await both(parents, async (proxy, parent) => {
        const exchange = await goRequest({
          method: 'GET', url: 'http://es.example.internal:9200/_cluster/health?local=true', headers: { 'x-opaque-id': 'proxyfix' },
          proxy: parseProxyUrl(`http://alice:s3cret@127.0.0.1:${proxy.port}`, 'proxy'), goRelease: '1.19',
        });
        const recorded = await parent.next((e) => e.head !== undefined);
        await parent.next((e) => e.closed === true);
        return { status: exchange.response?.status, body: exchange.response?.body, head: recorded.head, via: exchange.response?.headers.via };
      }, { auth });
      expect(outcome.fake).toEqual(outcome.real);
      expect(outcome.fake.status).toBe(200);
      expect(outcome.fake.body).toBe('parent');
      // The parent's answer reaches the client with tinyproxy's own Via.
      expect(outcome.fake.via).toBe(`1.1 ${hostname()} (tinyproxy/1.11.1)`);
      // BasicAuth consumed the credentials: the parent never sees them; the client's own header passes on.
      expect(outcome.fake.head).toMatch(/^GET http:\/\/es\.example\.internal:9200\/_cluster\/health\?local=true HTTP\/1\.1\r\nHost: es\.example\.internal:9200\r\nConnection: close\r\nVia: 1\.1 \S+ \(tinyproxy\/1\.11\.1\)\r\nx-opaque-id: proxyfix\r\n\r\n$/);
      expect(outcome.fakeLines).toEqual(outcome.realLines);
      expect(outcome.fakeLines).toEqual([
        'Connect (file descriptor N): 127.0.0.1',
        'Request (file descriptor N): GET http://es.example.internal:9200/_cluster/health?local=true HTTP/1.1',
        'Found upstream proxy http 127.0.0.1:PARENT for es.example.internal',
        'opensock: opening connection to 127.0.0.1:PARENT',
        'opensock: getaddrinfo returned for 127.0.0.1:PARENT',
        'Established connection to upstream proxy "127.0.0.1" using file descriptor N.',
        'Closed connection between local client (fd:N) and remote client (fd:N)',
      ]);
    } finally {
      await Promise.all([parents.real.stop(), parents.fake.stop()]);
    }
  });

  it('sends CONNECT to the parent as the client gave it, with Host, Connection: close, Via and the client\'s other headers', async () => {
    const parents = { real: await startRecordingParent(false), fake: await startRecordingParent(false) };
    try {
      const outcome = await both(parents, async (proxy, parent) => {
        const socket = net.connect(proxy.port, '127.0.0.1');
        socket.write('CONNECT fleet.example.internal:8220 HTTP/1.1\r\nHost: fleet.example.internal:8220\r\nUser-Agent: Go-http-client/1.1\r\nProxy-Connection: keep-alive\r\n\r\n');
        const answer = await new Promise<string>((resolve) => socket.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1'))));
        const recorded = await parent.next((e) => e.head !== undefined);
        socket.destroy();
        await parent.next((e) => e.closed === true);
        return { status: answer.split('\r\n')[0], head: recorded.head };
      });
      expect(outcome.fake.head).toEqual(outcome.real.head);
      expect(outcome.fake.head).toMatch(/^CONNECT fleet\.example\.internal:8220 HTTP\/1\.1\r\nHost: fleet\.example\.internal:8220\r\nConnection: close\r\nVia: 1\.1 \S+ \(tinyproxy\/1\.11\.1\)\r\nUser-Agent: Go-http-client\/1\.1\r\n\r\n$/);
      expect([outcome.fake.status, outcome.real.status]).toEqual(['HTTP/1.0 200 Connection established', 'HTTP/1.0 200 Connection established']);
      expect(outcome.fakeLines).toEqual(outcome.realLines);
    } finally {
      await Promise.all([parents.real.stop(), parents.fake.stop()]);
    }
  });

  it('passes on a request body the client sends after its head while the parent waits for it before answering', async () => {
    const parents = { real: await startRecordingParent(false), fake: await startRecordingParent(false) };
    try {
      const outcome = await both(parents, async (proxy, parent) => {
        const socket = net.connect(proxy.port, '127.0.0.1');
        socket.write('POST http://es.example.internal:9200/_bulk HTTP/1.1\r\nHost: es.example.internal:9200\r\nContent-Type: application/x-ndjson\r\nContent-Length: 3\r\n\r\n');
        const recorded = await parent.next((e) => e.head !== undefined);
        socket.write('{}\n');
        const body = await parent.next((e) => e.body !== undefined);
        const answer = await new Promise<string>((resolve) => socket.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1'))));
        socket.destroy();
        await parent.next((e) => e.closed === true);
        return { head: recorded.head, body: body.body, status: answer.split('\r\n')[0] };
      });
      expect(outcome.fake).toEqual(outcome.real);
      expect(outcome.fake.body).toBe('{}\n');
      expect(outcome.fake.status).toBe('HTTP/1.0 200 OK');
      expect(outcome.fake.head).toMatch(/^POST http:\/\/es\.example\.internal:9200\/_bulk HTTP\/1\.1\r\nHost: es\.example\.internal:9200\r\nConnection: close\r\nVia: 1\.1 \S+ \(tinyproxy\/1\.11\.1\)\r\nContent-Type: application\/x-ndjson\r\nContent-Length: 3\r\n\r\n$/);
    } finally {
      await Promise.all([parents.real.stop(), parents.fake.stop()]);
    }
  });

  it('without a parent, sends a plain request to the target in origin form with the same headers', async () => {
    const targets = { real: await startRecordingParent(false), fake: await startRecordingParent(false) };
    const own = await scratchDir();
    try {
      const tiny = await startTinyproxy(own.dir, {});
      try {
        await using fake = await startForwardProxy();
        const heads = await Promise.all(([[tiny.port, targets.real], [fake.port, targets.fake]] as const).map(async ([port, target]) => {
          const exchange = await goRequest({
            method: 'GET', url: `http://127.0.0.1:${target.port}/_cluster/health?local=true`, headers: { 'x-opaque-id': 'proxyfix', 'proxy-connection': 'keep-alive' },
            proxy: parseProxyUrl(`http://127.0.0.1:${port}`, 'proxy'), goRelease: '1.19',
          });
          expect(exchange.response?.body).toBe('parent');
          return (await target.next((e) => e.head !== undefined)).head!.replace(`:${target.port}`, ':TARGET');
        }));
        expect(heads[1]).toBe(heads[0]);
        expect(heads[1]).toMatch(/^GET \/_cluster\/health\?local=true HTTP\/1\.1\r\nHost: 127\.0\.0\.1:TARGET\r\nConnection: close\r\nVia: 1\.1 \S+ \(tinyproxy\/1\.11\.1\)\r\nx-opaque-id: proxyfix\r\n\r\n$/);
      } finally {
        await tiny.stop();
      }
    } finally {
      await Promise.all([targets.real.stop(), targets.fake.stop(), own.cleanup()]);
    }
  });

  it('answers a plain request with the server\'s head as tinyproxy rewrites it: Via added after the server\'s first, hop-by-hop headers and repeated names dropped', async () => {
    // A server whose answer carries everything tinyproxy 1.11's process_server_headers touches.
    const odd = net.createServer((socket) => socket.once('data', () => socket.end([
      'HTTP/1.0 203 Odd Words', 'X-First:   spaced ', 'Connection: X-Drop, close', 'X-Drop: 1', 'Proxy-Authenticate: Basic', 'Keep-Alive: timeout=1',
      'Via: 1.0 a', 'via: 1.1 b', 'Set-Cookie: a=1', 'Set-Cookie: b=2', 'Proxy-Connection: keep-alive', 'Content-Length: 2', '', 'ok'].join('\r\n'))));
    await new Promise<void>((resolve) => odd.listen(0, '127.0.0.1', resolve));
    const port = (odd.address() as net.AddressInfo).port;
    const own = await scratchDir();
    try {
      const tiny = await startTinyproxy(own.dir, {});
      try {
        await using fake = await startForwardProxy();
        const ask = (proxyPort: number, version: string) => new Promise<string>((resolve) => {
          let answer = '';
          const client = net.connect(proxyPort, '127.0.0.1', () => client.write(`GET http://127.0.0.1:${port}/ ${version}\r\nHost: 127.0.0.1:${port}\r\n\r\n`));
          client.on('data', (chunk: Buffer) => { answer += chunk.toString('latin1'); });
          client.on('error', () => {});
          client.on('close', () => resolve(answer));
        });
        const [real11, fake11, real10, fake10] = await Promise.all([ask(tiny.port, 'HTTP/1.1'), ask(fake.port, 'HTTP/1.1'), ask(tiny.port, 'HTTP/1.0'), ask(fake.port, 'HTTP/1.0')]);
        expect([fake11, fake10]).toEqual([real11, real10]);
        expect(real11).toBe(`HTTP/1.0 203 Odd Words\r\nVia: 1.0 a, 1.1 ${hostname()} (tinyproxy/1.11.1)\r\nX-First: spaced \r\nSet-Cookie: a=1\r\nContent-Length: 2\r\n\r\nok`);
        // The Via entry carries the client's HTTP version.
        expect(real10).toContain(`\r\nVia: 1.0 a, 1.0 ${hostname()} (tinyproxy/1.11.1)\r\n`);
      } finally {
        await tiny.stop();
      }
    } finally {
      odd.close();
      await own.cleanup();
    }
  });

  for (const [how, leave, words] of [
    ['closes', (s: net.Socket) => s.destroy(), 'Broken pipe'],
    ['resets', (s: net.Socket) => s.resetAndDestroy(), 'Connection reset by peer'],
  ] as const) {
    it(`closes both connections once the parent answers when the client ${how} its connection while the proxy still dials the parent, with tinyproxy's "${words}" line`, async () => {
      const parents = { real: await startRecordingParent(true), fake: await startRecordingParent(true) };
      try {
        const outcome = await both(parents, async (proxy, parent) => {
          const socket = net.connect(proxy.port, '127.0.0.1');
          socket.on('error', () => {});
          socket.write('CONNECT fleet.example.internal:8220 HTTP/1.1\r\nHost: fleet.example.internal:8220\r\n\r\n');
          // The proxy is in its dial: the parent's accept queue is full.
          for (let i = 0; i < 200 && !(await proxy.lines()).some((l) => l.startsWith('opensock: getaddrinfo returned')); i++) await new Promise((r) => setTimeout(r, 25));
          leave(socket);
          await new Promise((r) => socket.once('close', r));
          parent.release();
          const recorded = await parent.next((e) => e.head !== undefined);
          // Before the fix the fake held its tunnel to the parent open until its 600 s idle cut.
          const closed = await parent.next((e) => e.n === recorded.n && e.closed === true);
          return { head: recorded.head, closed: closed.closed };
        });
        expect(outcome.fake).toEqual(outcome.real);
        expect(outcome.fakeLines).toEqual(outcome.realLines);
        expect(outcome.fakeLines.at(-1)).toBe(`process_server_headers failed: ${words}. host "fleet.example.internal" using file descriptor N.`);
      } finally {
        await Promise.all([parents.real.stop(), parents.fake.stop()]);
      }
    });
  }
});
