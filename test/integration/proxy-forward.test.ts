import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorities, enrollAgent, identity, startElasticsearch, startFleetServer, startForwardProxy, startSocksProxy } from '../../src/index.js';
import { goRequest } from '../../src/components/go-client.js';
import { parseProxyUrl } from '../../src/components/proxy/proxy-url.js';
import type { FakeElasticsearch } from '../../src/components/elasticsearch.js';
import type { FakeFleetServer } from '../../src/components/fleet-server.js';
import type { Pki } from '../../src/pki/store.js';
import { buildGoPeer, goClient } from '../helpers/go-peer.js';
import { freePort } from '../helpers/net.js';
import { scratchDir, sharedPki } from '../helpers/pki.js';

/**
 * The agent's and Go's proxy dialling through the fake proxies: each failure in the fake's
 * words is held against what Debian's Go 1.19 net/http prints through the same proxy.
 */
let pki: Pki;
let es: FakeElasticsearch;
let fleet: FakeFleetServer;
let binary: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  pki = await sharedPki();
  const scratch = await scratchDir();
  cleanup = scratch.cleanup;
  [es, binary] = await Promise.all([startElasticsearch({ pki }), buildGoPeer(scratch.dir)]);
  fleet = await startFleetServer({ pki, elasticsearch: es });
}, 120_000);

afterAll(async () => {
  await fleet?.close();
  await es?.close();
  await cleanup?.();
});

/** The same GET from the fake Go client and from Go 1.19, through `proxy`. */
async function both(proxy: string, path = '/api/status'): Promise<{ fake: { status?: number; error?: string }; go: { status?: number; error?: string } }> {
  const url = `${fleet.url}${path}`;
  const [fake, [go]] = await Promise.all([
    goRequest({ method: 'GET', url, tls: { certificateAuthorities: authorities(pki, 'fleet-ca') }, proxy: parseProxyUrl(proxy, 'proxy'), goRelease: '1.19' }),
    goClient(binary, [{ url, cas: [pki.certPath('fleet-ca')], proxy }]),
  ]);
  return {
    fake: fake.response ? { status: fake.response.status } : { error: fake.error! },
    go: go!.status ? { status: go!.status } : { error: go!.unwrapped! },
  };
}

describe('a Go client through a forward proxy, fake and Go 1.19 side by side', () => {
  it('tunnels through CONNECT with credentials, and words a 407 without them as Go does: the status text alone', async () => {
    await using proxy = await startForwardProxy({ auth: { username: 'alice', password: 's3cret' } });
    const withCredentials = await both(`http://alice:s3cret@127.0.0.1:${proxy.port}`);
    expect(withCredentials).toEqual({ fake: { status: 200 }, go: { status: 200 } });
    const without = await both(proxy.url);
    expect(without).toEqual({ fake: { error: 'Proxy Authentication Required' }, go: { error: 'Proxy Authentication Required' } });
  });

  it('wraps a refused proxy as `proxyconnect tcp: dial tcp ...: connect: connection refused`', async () => {
    const port = await freePort();
    const expected = `proxyconnect tcp: dial tcp 127.0.0.1:${port}: connect: connection refused`;
    expect(await both(`http://127.0.0.1:${port}`)).toEqual({ fake: { error: expected }, go: { error: expected } });
    expect(await both(`socks5://127.0.0.1:${port}`)).toEqual({ fake: { error: expected }, go: { error: expected } });
  });

  it('says the first record is not TLS when an https:// proxy URL meets a plain HTTP proxy', async () => {
    await using proxy = await startForwardProxy();
    const expected = 'proxyconnect tcp: tls: first record does not look like a TLS handshake';
    expect(await both(`https://127.0.0.1:${proxy.port}`)).toEqual({ fake: { error: expected }, go: { error: expected } });
  });

  it('reads an unexpected EOF when an http:// proxy URL meets a TLS proxy, which closes on the plaintext CONNECT', async () => {
    await using proxy = await startForwardProxy({ scheme: 'https', identity: identity(pki, 'fleet-cert') });
    expect(await both(`http://127.0.0.1:${proxy.port}`)).toEqual({ fake: { error: 'unexpected EOF' }, go: { error: 'unexpected EOF' } });
  });

  it('verifies an https proxy with the same CAs as the target, then tunnels', async () => {
    await using proxy = await startForwardProxy({ scheme: 'https', identity: identity(pki, 'fleet-cert') });
    expect(await both(proxy.url)).toEqual({ fake: { status: 200 }, go: { status: 200 } });
  });

  it('words SOCKS5 refusals as x/net does: authentication, ruleset and a refused target', async () => {
    const closed = await freePort();
    await using open = await startSocksProxy({ allowPorts: [fleet.port, closed] });
    await using locked = await startSocksProxy({ auth: { username: 'alice', password: 's3cret' } });
    const prefix = (port: number, target: number) => `socks connect tcp 127.0.0.1:${port}->127.0.0.1:${target}: `;
    expect(await both(open.url)).toEqual({ fake: { status: 200 }, go: { status: 200 } });
    const refusedTarget = await both(`${open.url}`, '').then(async () => {
      const url = `https://127.0.0.1:${closed}/`;
      const [fake, [go]] = await Promise.all([
        goRequest({ method: 'GET', url, proxy: parseProxyUrl(open.url, 'proxy') }),
        goClient(binary, [{ url, proxy: open.url }]),
      ]);
      return { fake: fake.error, go: go!.unwrapped };
    });
    expect(refusedTarget).toEqual({ fake: `${prefix(open.port, closed)}unknown error connection refused`, go: `${prefix(open.port, closed)}unknown error connection refused` });
    expect(await both(`socks5://alice:wrong@127.0.0.1:${locked.port}`)).toEqual({
      fake: { error: `${prefix(locked.port, fleet.port)}username/password authentication failed` },
      go: { error: `${prefix(locked.port, fleet.port)}username/password authentication failed` },
    });
    expect(await both(locked.url)).toEqual({
      fake: { error: `${prefix(locked.port, fleet.port)}no acceptable authentication methods` },
      go: { error: `${prefix(locked.port, fleet.port)}no acceptable authentication methods` },
    });
    expect(await both(`socks5://alice:s3cret@127.0.0.1:${locked.port}`)).toEqual({ fake: { status: 200 }, go: { status: 200 } });
  });
});

describe('the fake agent through a forward proxy', () => {
  it('enrolls through CONNECT, and the report has an agent → proxy leg with the proxy\'s own lines', async () => {
    await using proxy = await startForwardProxy({ auth: { username: 'alice', password: 's3cret' } });
    const result = await enrollAgent({ pki, fleetServer: fleet, proxy: { url: `http://alice:s3cret@127.0.0.1:${proxy.port}`, fake: proxy } });
    expect(result.ok).toBe(true);
    expect(result.proxyLeg).toMatchObject({ from: 'agent', to: 'proxy', ok: true, url: proxy.url, http: { method: 'CONNECT', path: `127.0.0.1:${fleet.port}`, status: 200 } });
    expect(result.proxyLeg!.logs.proxy).toMatch(/^Connect \(file descriptor \d+\): 127\.0\.0\.1\nRequest \(file descriptor \d+\): CONNECT 127\.0\.0\.1:\d+ HTTP\/1\.1\n/);
    expect(result.proxyLeg!.logs.proxy).toContain(`Established connection to host "127.0.0.1" using file descriptor`);
    expect(result.leg).toMatchObject({ from: 'agent', to: 'fleet-server', ok: true, serverCertificate: { subject: expect.stringContaining('CN=fleet-server') } });
  });

  it('fails to enroll with the proxy\'s 407 in Go\'s words, and the agent → fleet-server leg is never attempted', async () => {
    await using proxy = await startForwardProxy({ auth: { username: 'alice', password: 's3cret' } });
    const result = await enrollAgent({ pki, fleetServer: fleet, proxy: { url: proxy.url, fake: proxy } });
    expect(result.ok).toBe(false);
    expect(result.proxyLeg).toMatchObject({
      to: 'proxy', ok: false, rejectedBy: 'server', phase: 'http', http: { method: 'CONNECT', status: 407 },
      logs: { agent: expect.stringContaining('fail to enroll: fail to execute request to fleet-server: Proxy Authentication Required') },
    });
    expect(result.leg).toMatchObject({ to: 'fleet-server', ok: false, skipped: 'the proxy did not open a connection to Fleet Server' });
  });

  it('writes the CONNECT request byte for byte as Go 1.19 does, with --proxy-header and the URL\'s credentials', async () => {
    const heads: string[] = [];
    const capture = net.createServer((socket) => {
      let head = '';
      socket.on('data', (chunk: Buffer) => {
        head += chunk.toString('latin1');
        if (head.includes('\r\n\r\n')) {
          heads.push(head);
          socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
        }
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => capture.listen(0, '127.0.0.1', resolve));
    try {
      const proxy = `http://alice:s3cret@127.0.0.1:${(capture.address() as net.AddressInfo).port}`;
      const url = `${fleet.url}/api/status`;
      const [fake, [go]] = await Promise.all([
        goRequest({ method: 'GET', url, proxy: parseProxyUrl(proxy, 'proxy', { 'x-corp-token': 'abc' }) }),
        goClient(binary, [{ url, proxy, proxyHeaders: { 'x-corp-token': 'abc' } }]),
      ]);
      expect([fake.error, go!.unwrapped]).toEqual(['Forbidden', 'Forbidden']);
      expect(heads).toHaveLength(2);
      expect(heads[0]).toBe(heads[1]);
      expect(heads[0]).toBe(`CONNECT 127.0.0.1:${fleet.port} HTTP/1.1\r\nHost: 127.0.0.1:${fleet.port}\r\nUser-Agent: Go-http-client/1.1\r\nProxy-Authorization: Basic ${Buffer.from('alice:s3cret').toString('base64')}\r\nX-Corp-Token: abc\r\n\r\n`);
    } finally {
      capture.close();
    }
  });

  it('--proxy-disabled goes direct; a SOCKS block reaches the agent in x/net\'s words', async () => {
    await using proxy = await startSocksProxy({ allowPorts: [] });
    const disabled = await enrollAgent({ pki, fleetServer: fleet, proxy: { url: proxy.url, disable: true, fake: proxy } });
    expect(disabled.ok).toBe(true);
    expect(disabled.proxyLeg).toBeUndefined();
    expect(proxy.log.entries).toEqual([]);
    const blocked = await enrollAgent({ pki, fleetServer: fleet, proxy: { url: proxy.url, fake: proxy } });
    expect(blocked.proxyLeg).toMatchObject({ ok: false, logs: { agent: expect.stringContaining(`socks connect tcp 127.0.0.1:${proxy.port}->127.0.0.1:${fleet.port}: unknown error connection not allowed by ruleset`) } });
    expect(blocked.proxyLeg!.logs.proxy).toContain('blocked by higher-level socks-rule #1');
  });
});

describe('the fake forward proxy against a careless client', () => {
  it('answers a CONNECT to a port TCP has not with 400, and goes on serving', async () => {
    await using proxy = await startForwardProxy();
    /** The status line the proxy answers a request with. */
    const statusOf = async (request: string) => new Promise<string>((resolve, reject) => {
      const socket = net.connect(proxy.port, '127.0.0.1', () => socket.write(request));
      socket.once('data', (chunk: Buffer) => {
        resolve(chunk.toString('latin1').split('\r\n')[0]!);
        socket.destroy();
      });
      socket.on('error', reject);
    });
    expect(await statusOf('CONNECT 127.0.0.1:99999 HTTP/1.1\r\nHost: 127.0.0.1:99999\r\n\r\n')).toBe('HTTP/1.1 400 Bad Request');
    expect(await statusOf(`CONNECT 127.0.0.1:${fleet.port} HTTP/1.1\r\nHost: 127.0.0.1:${fleet.port}\r\n\r\n`)).toBe('HTTP/1.0 200 Connection established');
  });
});
