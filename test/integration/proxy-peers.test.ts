import { settledLines } from '../helpers/tools.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorities, startElasticsearch, startFleetServer, startForwardProxy, startSocksProxy } from '../../src/index.js';
import { goRequest } from '../../src/components/go-client.js';
import { parseProxyUrl } from '../../src/components/proxy/proxy-url.js';
import type { ComponentLog } from '../../src/components/log.js';
import type { FakeElasticsearch } from '../../src/components/elasticsearch.js';
import type { FakeFleetServer } from '../../src/components/fleet-server.js';
import type { Pki } from '../../src/pki/store.js';
import { buildGoPeer, goClient } from '../helpers/go-peer.js';
import { freePort } from '../helpers/net.js';
import { scratchDir, sharedPki } from '../helpers/pki.js';
import { startDanted, startTinyproxy, type RealProxy } from '../helpers/proxy-peers.js';

/**
 * The fake proxies held against Debian's tinyproxy 1.11 and dante 1.4 (danted) for the same
 * requests: Go 1.19's error through the real proxy, the fake Go client's through the real proxy,
 * and the fake proxy's log lines against the real one's.
 */
let pki: Pki;
let es: FakeElasticsearch;
let fleet: FakeFleetServer;
let binary: string;
let dir: string;
let cleanup: () => Promise<void>;
let closed: number;
let forbidden: number;

beforeAll(async () => {
  pki = await sharedPki();
  const scratch = await scratchDir();
  ({ dir, cleanup } = scratch);
  [es, binary, closed, forbidden] = await Promise.all([startElasticsearch({ pki }), buildGoPeer(dir), freePort(), freePort()]);
  fleet = await startFleetServer({ pki, elasticsearch: es });
}, 120_000);

afterAll(async () => {
  await fleet?.close();
  await es?.close();
  await cleanup?.();
});

/** Go 1.19 and the fake client, one GET each through `proxy`: status or unwrapped error. */
async function through(proxy: string, port: number): Promise<{ go: string; fake: string }> {
  const url = `https://127.0.0.1:${port}/api/status`;
  const [[go], fake] = await Promise.all([
    goClient(binary, [{ url, cas: [pki.certPath('fleet-ca')], proxy }]),
    goRequest({ method: 'GET', url, tls: { certificateAuthorities: authorities(pki, 'fleet-ca') }, proxy: parseProxyUrl(proxy, 'proxy'), goRelease: '1.19' }),
  ]);
  return { go: go!.status ? String(go!.status) : go!.unwrapped!, fake: fake.response ? String(fake.response.status) : fake.error! };
}


/** One request's lines, with what differs by run (descriptors, ports, byte counts) made generic. */
function shape(lines: readonly string[], ports: Readonly<Record<number, string>>): string[] {
  return lines
    .map((l) => l.replace(/127\.0\.0\.1[.:](\d+)/g, (_m, p: string) => `127.0.0.1:${ports[Number(p)] ?? 'client'}`))
    .map((l) => l.replace(/file descriptor \d+/g, 'file descriptor N').replace(/fd:\d+/g, 'fd:N').replace(/(: |, )\d+ -> /g, '$1B -> ').replace(/ -> \d+(?=[,:])/g, ' -> B'))
    // When each side closes, and what the other was reading then, is the clients' timing, not the proxy's behaviour.
    // A passed session's end line (closed, or an error when the client reset) comes when the client drops its
    // kept-alive connection, which may be after the lines settle.
    .filter((l) => !/^(Closed connection|read_buffer: )|client closed\.|^pass\(\d+\): tcp\/\w+ \]: .*Session duration: /.test(l));
}

async function linesOf(action: () => Promise<void>, read: () => Promise<string[]> | string[]): Promise<string[]> {
  const before = (await settledLines(read)).length;
  await action();
  return (await settledLines(read)).slice(before);
}

describe('tinyproxy, the fake forward proxy and Go 1.19', () => {
  let real: RealProxy;
  beforeAll(async () => {
    real = await startTinyproxy(dir, { auth: { username: 'alice', password: 's3cret' }, connectPorts: [fleet.port, closed] });
  });
  afterAll(async () => real?.stop());

  it('gives Go the same words through tinyproxy and through the fake, and the fake logs what tinyproxy logs', async () => {
    await using fake = await startForwardProxy({ auth: { username: 'alice', password: 's3cret' }, connectPorts: [fleet.port, closed] });
    const ports = { [fleet.port]: 'fleet', [closed]: 'closed', [forbidden]: 'forbidden' };
    const cases: Array<[string, number, string]> = [
      ['', fleet.port, 'Proxy Authentication Required'],
      ['alice:s3cret@', forbidden, 'Access violation'],
      ['alice:s3cret@', closed, 'Unable to connect'],
      ['alice:s3cret@', fleet.port, '200'],
    ];
    for (const [credentials, port, expected] of cases) {
      const realLines = await linesOf(async () => {
        expect(await through(`http://${credentials}127.0.0.1:${real.port}`, port)).toEqual({ go: expected, fake: expected });
      }, () => real.lines());
      const fakeLines = await linesOf(async () => {
        expect(await through(`http://${credentials}127.0.0.1:${fake.port}`, port)).toEqual({ go: expected, fake: expected });
      }, () => fake.log.entries.map((e) => e.message));
      // Two clients each time: compare the set of lines, each as often as it appears.
      expect(shape(fakeLines, ports).sort()).toEqual(shape(realLines, ports).sort());
    }
  });
});

describe('tinyproxy chained to a parent proxy it cannot reach, the fake and Go 1.19', () => {
  it('answers CONNECT 502 "Unable to connect to upstream proxy", which Go reports by its text alone, with tinyproxy\'s lines', async () => {
    const own = await scratchDir();
    const parent = { host: '127.0.0.1', port: closed };
    const real = await startTinyproxy(own.dir, { parent });
    try {
      await using fake = await startForwardProxy({ parent });
      const expected = 'Unable to connect to upstream proxy';
      const ports = { [fleet.port]: 'fleet', [closed]: 'parent' };
      const realLines = await linesOf(async () => {
        expect(await through(`http://127.0.0.1:${real.port}`, fleet.port)).toEqual({ go: expected, fake: expected });
      }, () => real.lines());
      const fakeLines = await linesOf(async () => {
        expect(await through(`http://127.0.0.1:${fake.port}`, fleet.port)).toEqual({ go: expected, fake: expected });
      }, () => fake.log.entries.map((e) => e.message));
      // tinyproxy names the requested host by itself, the port apart; here that is 127.0.0.1 too.
      expect(shape(fakeLines, ports).sort()).toEqual(shape(realLines, ports).sort());
    } finally {
      await real.stop();
      await own.cleanup();
    }
  });
});

describe('dante, the fake SOCKS5 server and Go 1.19', () => {
  it('gives Go the same words through danted and through the fake for a pass, a block and a refused target', async () => {
    const real = await startDanted(dir, { allowPorts: [fleet.port, closed] });
    try {
      await using fake = await startSocksProxy({ allowPorts: [fleet.port, closed] });
      for (const [port, words] of [[fleet.port, '200'], [forbidden, 'unknown error connection not allowed by ruleset'], [closed, 'unknown error connection refused']] as const) {
        const expectedFor = (proxyPort: number) => (words === '200' ? '200' : `socks connect tcp 127.0.0.1:${proxyPort}->127.0.0.1:${port}: ${words}`);
        const realLines = await linesOf(async () => {
          expect(await through(`socks5://127.0.0.1:${real.port}`, port)).toEqual({ go: expectedFor(real.port), fake: expectedFor(real.port) });
        }, () => real.lines());
        const fakeLines = await linesOf(async () => {
          expect(await through(`socks5://127.0.0.1:${fake.port}`, port)).toEqual({ go: expectedFor(fake.port), fake: expectedFor(fake.port) });
        }, () => fake.log.entries.map((e) => e.message));
        const ports = { [fleet.port]: 'fleet', [closed]: 'closed', [forbidden]: 'forbidden', [real.port]: 'socks', [fake.port]: 'socks' };
        // The bound address of an upstream dante could not reach differs (it names its own socket, the fake 0.0.0.0).
        const generic = (lines: string[]) => shape(lines, ports).map((l) => l.replace(/, B -> (127\.0\.0\.1:client|0\.0\.0\.0\.0) /, ', B -> UPSTREAM ')).sort();
        expect(generic(fakeLines)).toEqual(generic(realLines));
      }
    } finally {
      await real.stop();
    }
  });

  it('refuses without the username method and with unknown credentials, in x/net\'s words and dante\'s lines', async () => {
    const real = await startDanted(dir, { username: true });
    try {
      await using fake = await startSocksProxy({ auth: { username: 'alice', password: 's3cret' } });
      for (const [credentials, words, line] of [
        ['', 'no acceptable authentication methods', /^block\(1\): tcp\/accept \]: .*: error after reading \d+ bytes in 0 seconds: client offered no acceptable authentication method$/],
        ['bob:x@', 'username/password authentication failed', /^block\(1\): tcp\/accept \]: .*: error after reading \d+ bytes in 0 seconds: could not access user "bob"'s records in the system password file: no system error$/],
      ] as const) {
        const realLines = await linesOf(async () => {
          const expected = `socks connect tcp 127.0.0.1:${real.port}->127.0.0.1:${fleet.port}: ${words}`;
          expect(await through(`socks5://${credentials}127.0.0.1:${real.port}`, fleet.port)).toEqual({ go: expected, fake: expected });
        }, () => real.lines());
        const fakeLines = await linesOf(async () => {
          const expected = `socks connect tcp 127.0.0.1:${fake.port}->127.0.0.1:${fleet.port}: ${words}`;
          expect(await through(`socks5://${credentials}127.0.0.1:${fake.port}`, fleet.port)).toEqual({ go: expected, fake: expected });
        }, () => fake.log.entries.map((e) => e.message));
        expect(realLines.filter((l) => line.test(l))).toHaveLength(2);
        const ports = { [real.port]: 'socks', [fake.port]: 'socks' };
        expect(shape(fakeLines, ports).sort()).toEqual(shape(realLines, ports).sort());
      }
    } finally {
      await real.stop();
    }
  });
});

export type { ComponentLog };
