import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { authorities, identity } from '../../src/api.js';
import { FakeElasticsearch } from '../../src/components/elasticsearch.js';
import { FakeFleetServer, type FleetServerOptions } from '../../src/components/fleet-server.js';
import type { Pki } from '../../src/pki/store.js';
import { sharedPki } from '../helpers/pki.js';

/**
 * What the fakes do with a connection after its handshake, as the real servers do: Fleet Server
 * as Go's http.Server with fleet-server's `server.timeouts`, Elasticsearch as Netty with
 * `http.read_timeout`. Timeouts are short here; nothing asserts how fast anything is.
 */

interface Client {
  readonly socket: tls.TLSSocket;
  /** Everything the server sent after the handshake. */
  received(): string;
  /** Resolves when the server has closed the connection. */
  readonly closed: Promise<void>;
  isOpen(): boolean;
  /** How it ended: `end` for an orderly close (close_notify, then FIN), the error code otherwise. */
  ending(): string | undefined;
}

async function connect(port: number): Promise<Client> {
  const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
  let text = '';
  let open = true;
  socket.on('data', (chunk: Buffer) => { text += chunk.toString('latin1'); });
  let ending: string | undefined;
  socket.on('end', () => { ending ??= 'end'; });
  socket.on('error', (error: NodeJS.ErrnoException) => { ending ??= error.code ?? 'error'; });
  const closed = new Promise<void>((resolve) => socket.once('close', () => { open = false; resolve(); }));
  await new Promise<void>((resolve, reject) => { socket.once('secureConnect', () => resolve()); socket.once('error', reject); });
  return { socket, received: () => text, closed, isOpen: () => open, ending: () => ending };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const STATUS = 'GET /api/status HTTP/1.1\r\nHost: fleet\r\n\r\n';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

async function fleetServer(pki: Pki, timeouts: Partial<FleetServerOptions>): Promise<FakeFleetServer> {
  // Fleet Server's bootstrap needs no Elasticsearch for these: it ends FAILED, and /api/status answers 503.
  const fleet = await FakeFleetServer.start({
    identity: identity(pki, 'fleet-cert'),
    elasticsearch: { url: 'https://127.0.0.1:1', tls: { certificateAuthorities: authorities(pki, 'es-ca') }, serviceToken: 'x' },
    ...timeouts,
  });
  open.push(fleet);
  return fleet;
}

async function elasticsearch(pki: Pki, readTimeoutMs?: number): Promise<FakeElasticsearch> {
  const es = await FakeElasticsearch.start({ identity: identity(pki, 'es-cert'), ...(readTimeoutMs !== undefined ? { readTimeoutMs } : {}) });
  open.push(es);
  return es;
}

describe('Fleet Server after the handshake (Go http.Server with fleet-server\'s server.timeouts)', () => {
  it('closes a TLS connection that sends no request within read_header, in an orderly close with no reply and no log line', async () => {
    const pki = await sharedPki();
    const fleet = await fleetServer(pki, { readHeaderTimeoutMs: 300 });
    const logged = fleet.log.entries.length;
    const client = await connect(fleet.port);
    await client.closed;
    expect(client.received()).toBe('');
    expect(client.ending()).toBe('end');
    expect(fleet.log.entries.slice(logged)).toEqual([]);
  });

  it('closes a slowloris whose headers dribble past read_header without a reply (no 408), and logs nothing', async () => {
    const pki = await sharedPki();
    const fleet = await fleetServer(pki, { readHeaderTimeoutMs: 400 });
    const logged = fleet.log.entries.length;
    const client = await connect(fleet.port);
    client.socket.write('GET /api/status HTTP/1.1\r\nHost: fleet\r\n');
    for (let i = 0; i < 100 && client.isOpen(); i++) {
      client.socket.write(`X-Dribble-${i}: 1\r\n`);
      await sleep(50);
    }
    await client.closed;
    expect(client.received()).toBe('');
    expect(fleet.log.entries.slice(logged)).toEqual([]);
  });

  it('keeps a connection open between requests for idle, not read_header, then closes it silently', async () => {
    const pki = await sharedPki();
    const fleet = await fleetServer(pki, { readHeaderTimeoutMs: 200, idleTimeoutMs: 1_500 });
    const client = await connect(fleet.port);
    client.socket.write(STATUS);
    while (!client.received().includes('"status"')) await sleep(20);
    const first = client.received();
    expect(first).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
    expect(first).not.toMatch(/keep-alive: timeout/i);
    // Past read_header and still open: between requests only idle counts.
    await sleep(600);
    expect(client.isOpen()).toBe(true);
    client.socket.write(STATUS);
    await client.closed;
    expect(client.received().match(/HTTP\/1\.1 503/g)).toHaveLength(2);
    expect(client.ending()).toBe('end');
  });

  it('bounds the handshake by the smallest of read_header, read and write, as net/http does', async () => {
    const pki = await sharedPki();
    const fleet = await fleetServer(pki, { readHeaderTimeoutMs: 60_000, readTimeoutMs: 60_000, writeTimeoutMs: 300 });
    const raw = await import('node:net').then((net) => net.connect({ host: '127.0.0.1', port: fleet.port }));
    await new Promise((resolve) => raw.once('connect', resolve));
    const localPort = raw.localPort;
    raw.resume();
    await new Promise((resolve) => raw.once('close', resolve));
    const server = await fleet.connection(localPort);
    expect(server?.timedOut).toBe(true);
    expect(server?.logLine).toMatch(/^http: TLS handshake error from 127\.0\.0\.1:\d+: read tcp 127\.0\.0\.1:\d+->127\.0\.0\.1:\d+: i\/o timeout$/);
  });
});

describe('Elasticsearch after the handshake (Netty with http.read_timeout)', () => {
  it('keeps an idle TLS connection open by default, as http.read_timeout defaults to none', async () => {
    const pki = await sharedPki();
    const es = await elasticsearch(pki);
    const client = await connect(es.port);
    await sleep(800);
    expect(client.isOpen()).toBe(true);
    client.socket.write('GET / HTTP/1.1\r\nHost: es\r\n\r\n');
    while (!client.received().includes('\r\n\r\n')) await sleep(20);
    expect(client.received()).toMatch(/^HTTP\/1\.1 401 Unauthorized\r\n/);
    client.socket.destroy();
  });

  it('closes a connection that sent nothing for http.read_timeout, in an orderly close with no reply', async () => {
    const pki = await sharedPki();
    const es = await elasticsearch(pki, 300);
    const logged = es.log.entries.length;
    const client = await connect(es.port);
    await client.closed;
    expect(client.received()).toBe('');
    expect(client.ending()).toBe('end');
    // Elasticsearch logs it only at TRACE.
    expect(es.log.entries.slice(logged)).toEqual([]);
  });

  it('does not cut a client that dribbles its headers faster than http.read_timeout, and answers it', async () => {
    const pki = await sharedPki();
    const es = await elasticsearch(pki, 600);
    const client = await connect(es.port);
    client.socket.write('GET / HTTP/1.1\r\nHost: es\r\n');
    for (let i = 0; i < 12; i++) {
      client.socket.write(`X-Dribble-${i}: 1\r\n`);
      await sleep(100);
    }
    client.socket.write('\r\n');
    while (!client.received().includes('\r\n\r\n') && client.isOpen()) await sleep(20);
    expect(client.received()).toMatch(/^HTTP\/1\.1 401 Unauthorized\r\n/);
    client.socket.destroy();
  });
});
