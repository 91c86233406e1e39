/**
 * The direct path (`fleet-tls load`'s fakes, `direct: true`) answers its plain requests without
 * node:http (src/load/direct-http.ts) and hands anything else to node:http: either way, the same
 * bytes as the tapped path the catalog uses, but for the Date and request id.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import tls from 'node:tls';
import { authorities, identity } from '../../src/api.js';
import { FakeElasticsearch } from '../../src/components/elasticsearch.js';
import { FakeFleetServer } from '../../src/components/fleet-server.js';
import { parse } from '../../src/load/http1.js';
import type { Pki } from '../../src/pki/store.js';
import { only } from '../../src/tls/settings.js';
import { scratchDir, sharedPki } from '../helpers/pki.js';
import { buildGoPeer, goServers, type GoPeerServers } from '../helpers/go-peer.js';
import { goTool } from '../helpers/tools.js';

// Checked when the file loads: a missing Go fails this file with one line, never a skip.
goTool();

let pki: Pki;
/** Go 1.19's own net/http server (test/interop/go), for the heads it refuses. */
let go: GoPeerServers;
let cleanup: () => Promise<void>;
const es: Record<'tapped' | 'direct', FakeElasticsearch> = {} as never;
const fleet: Record<'tapped' | 'direct', FakeFleetServer> = {} as never;
const SERVICE_TOKEN = 'AAEAAWVsYXN0aWMvZmxlZXQtc2VydmVyL3Rlc3Q6ZGlyZWN0LXBhdGg';

beforeAll(async () => {
  pki = await sharedPki();
  const scratch = await scratchDir();
  cleanup = scratch.cleanup;
  const goStarted = buildGoPeer(scratch.dir).then(async (binary) => {
    go = await goServers(binary, [{ name: 'fleet', cert: pki.certPath('fleet-cert'), key: pki.keyPath('fleet-cert') }]);
  });
  for (const path of ['tapped', 'direct'] as const) {
    es[path] = await FakeElasticsearch.start({
      identity: identity(pki, 'es-cert'), serviceToken: SERVICE_TOKEN, nodeName: 'es-node', versions: only('1.3'),
      ...(path === 'direct' ? { direct: true } : {}),
    });
    fleet[path] = await FakeFleetServer.start({
      identity: identity(pki, 'fleet-cert'), certificateAuthorities: authorities(pki, 'agent-ca'), clientAuthentication: 'required', versions: only('1.3'),
      elasticsearch: { url: es[path].url, serviceToken: SERVICE_TOKEN, tls: { certificateAuthorities: authorities(pki, 'es-ca') } },
      ...(path === 'direct' ? { direct: true } : {}),
    });
  }
  await goStarted;
}, 60_000);
afterAll(async () => {
  await go?.stop();
  await Promise.all([...Object.values(fleet), ...Object.values(es)].map((c) => c.close()));
  await cleanup?.();
});

/**
 * Writes each request on one TLS connection (the agent's certificate when `agent`), waiting for
 * each whole response before the next unless `pipelined`; returns the responses, Date and request
 * ids masked, and (`untilClosed`: after waiting for it) whether the server closed the connection.
 */
async function exchange(port: number, requests: readonly string[], options: { agent?: boolean; pipelined?: boolean; untilClosed?: boolean; byteByByte?: boolean; bodyAfterMs?: number } = {}): Promise<{ responses: string[]; closed: boolean }> {
  const agent = identity(pki, 'agent-cert');
  const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...(options.agent ? { cert: agent.certPem, key: agent.keyPem } : {}) });
  await new Promise((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
  const responses: string[] = [];
  let received = Buffer.alloc(0);
  let closed = false;
  const next = () => new Promise<void>((resolve, reject) => {
    const check = () => {
      const head = received.indexOf('\r\n\r\n');
      const parsed = head < 0 ? undefined : parse(received, closed);
      if (parsed === undefined || parsed instanceof Error) return closed ? reject(new Error(`incomplete: ${received.toString()}`)) : undefined;
      const length = head + 4 + Buffer.byteLength(parsed.body);
      responses.push(received.subarray(0, length).toString('utf8')
        .replace(/^Date: .*$/m, 'Date: (now)').replace(/^x-request-id: .*$/m, 'x-request-id: (id)'));
      received = received.subarray(length);
      socket.off('data', onData);
      socket.off('end', onEnd);
      resolve();
    };
    const onData = (chunk: Buffer) => { received = Buffer.concat([received, chunk]); check(); };
    const onEnd = () => { closed = true; check(); };
    socket.on('data', onData);
    socket.once('end', onEnd);
    check();
  });
  if (options.pipelined) socket.write(requests.join(''));
  for (const request of requests) {
    if (options.byteByByte) {
      // One TLS record per byte: the server's reads come a byte at a time.
      for (const byte of Buffer.from(request, 'latin1')) socket.write(Buffer.of(byte));
    } else if (options.bodyAfterMs !== undefined) {
      const body = request.indexOf('\r\n\r\n') + 4;
      socket.write(request.slice(0, body));
      await new Promise((resolve) => setTimeout(resolve, options.bodyAfterMs));
      socket.write(request.slice(body));
    } else if (!options.pipelined) {
      socket.write(request, 'latin1');
    }
    await next();
  }
  // A server that keeps the connection: the client ends it. One that closes it: its FIN comes.
  if (options.untilClosed && !closed) closed = await new Promise<boolean>((resolve) => socket.once('end', () => resolve(true)));
  socket.destroy();
  return { responses, closed };
}

const both = async (server: typeof fleet | typeof es, requests: readonly string[], options: Parameters<typeof exchange>[2] = {}) => ({
  tapped: await exchange(server.tapped.port, requests, options),
  direct: await exchange(server.direct.port, requests, options),
});

const enroll = (token: string, connection = 'close') => {
  const body = JSON.stringify({ type: 'PERMANENT', metadata: { local: {}, tags: [] } });
  return `POST /api/fleet/agents/enroll HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: ${connection}\r\n` +
    `user-agent: Elastic Agent v9.2.0\r\nauthorization: ApiKey ${token}\r\n\r\n${body}`;
};

describe('the fake Fleet Server\'s direct path answers as its tapped path does', () => {
  it('writes node:http\'s bytes for a load agent\'s one request (Connection: close), then closes', async () => {
    const status = 'GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n';
    const { tapped, direct } = await both(fleet, [status], { agent: true, untilClosed: true });
    expect(direct).toEqual(tapped);
    expect(direct.closed).toBe(true);
    expect(direct.responses[0]).toBe('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nelastic-api-version: 2023-06-01\r\nx-request-id: (id)\r\n' +
      'content-length: 42\r\nDate: (now)\r\nConnection: close\r\n\r\n{"name":"fleet-server","status":"HEALTHY"}');
  });

  it('answers a refused enrolment (an unknown token, a 401 from Elasticsearch behind it) with the same bytes', async () => {
    const { tapped, direct } = await both(fleet, [enroll(Buffer.from('nobody:nothing').toString('base64'))], { agent: true, untilClosed: true });
    expect(direct).toEqual(tapped);
    expect(direct.responses[0]).toMatch(/^HTTP\/1\.1 401 Unauthorized\r\n[^]*\{"statusCode":401,"error":"ErrUnauthorized","message":"unauthorized"\}$/);
  });

  it('enrolls an agent with the token Fleet Server made, through Elasticsearch\'s direct path', async () => {
    const { responses, closed } = await exchange(fleet.direct.port, [enroll(fleet.direct.enrollmentToken!)], { agent: true, untilClosed: true });
    expect(closed).toBe(true);
    const body = JSON.parse(responses[0]!.slice(responses[0]!.indexOf('\r\n\r\n') + 4)) as { action: string; item: { policy_id: string; access_api_key: string } };
    expect(body).toMatchObject({ action: 'created', item: { policy_id: 'fleet-server-policy' } });
    expect(responses[0]).toMatch(/^HTTP\/1\.1 200 OK\r\ncontent-type: application\/json\r\n/);
  });

  it('keeps a keep-alive connection open between requests and answers each as node:http does', async () => {
    const status = 'GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
    const { tapped, direct } = await both(fleet, [status, status, 'GET /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'], { agent: true });
    expect(direct).toEqual(tapped);
    expect(direct.responses).toHaveLength(3);
    expect(direct.responses[0]).toContain('\r\nConnection: keep-alive\r\n\r\n');
    expect(direct.responses[2]).toMatch(/^HTTP\/1\.1 404 Not Found\r\n[^]*404 page not found\n$/);
  });

  it('hands pipelined, chunked and HTTP/1.0 requests to node:http, with the same answers', async () => {
    const status = 'GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
    const pipelined = await both(fleet, [status, status], { agent: true, pipelined: true });
    expect(pipelined.direct).toEqual(pipelined.tapped);
    expect(pipelined.direct.responses).toHaveLength(2);
    const chunked = 'POST /api/fleet/agents/enroll HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\nUser-Agent: Elastic Agent v9.2.0\r\n\r\n2\r\n{}\r\n0\r\n\r\n';
    const old = 'GET /api/status HTTP/1.0\r\n\r\n';
    for (const request of [chunked, old]) {
      const { tapped, direct } = await both(fleet, [request], { agent: true, untilClosed: true });
      expect(direct).toEqual(tapped);
      expect(direct.closed).toBe(true);
    }
  });
});

/** Go 1.19's answer to a head it refuses: its `400 Bad Request[: reason]` as status and body, then it closes. */
const goRefusal = (reason?: string) => {
  const status = reason ? `400 Bad Request: ${reason}` : '400 Bad Request';
  return `HTTP/1.1 ${status}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n${status}`;
};

describe('heads Go\'s net/http server refuses before any handler: Fleet Server\'s 400s, on both paths, byte for byte as Go 1.19', () => {
  it.each([
    ['no Host field', 'GET /api/status HTTP/1.1\r\nUser-Agent: Elastic Agent v9.2.0\r\n\r\n', 'missing required Host header'],
    ['no Host field, with a body', 'POST /api/fleet/agents/enroll HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}', 'missing required Host header'],
    ['a control character in a field value', 'GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Trace: a\x01b\r\n\r\n', 'invalid header value'],
    ['a NUL in a field value', 'GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Trace: a\x00b\r\n\r\n', 'invalid header value'],
    ['a DEL in a field value', 'GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Trace: a\x7fb\r\n\r\n', 'invalid header value'],
    ['an escape in a field value', 'GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: \x1b[31m\r\n\r\n', 'invalid header value'],
    ['a space in a field name', 'GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX Trace: a\r\n\r\n', 'invalid header name'],
    ['a space before the colon', 'GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Trace : a\r\n\r\n', 'invalid header name'],
    ['a Host with a space', 'GET /api/status HTTP/1.1\r\nHost: fleet server\r\n\r\n', 'malformed Host header'],
    ['two Host fields', 'GET /api/status HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', undefined],
    ['a field line without a colon', 'GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Trace\r\n\r\n', undefined],
    ['a request line of four parts and a bad field name: the request line is judged first', 'GET /a b HTTP/1.1\r\nHost: 127.0.0.1\r\nX Trace: a\r\n\r\n', undefined],
  ])('%s', async (_what, request, reason) => {
    const [tapped, direct, real] = await Promise.all([
      exchange(fleet.tapped.port, [request], { agent: true, untilClosed: true }),
      exchange(fleet.direct.port, [request], { agent: true, untilClosed: true }),
      exchange(go.port('fleet'), [request], { untilClosed: true }),
    ]);
    expect(real).toEqual({ responses: [goRefusal(reason)], closed: true });
    expect(tapped).toEqual(real);
    expect(direct).toEqual(real);
  });

  it('the same refusal when the head comes a byte at a time (node:http\'s parser sees one byte per read)', async () => {
    for (const [request, reason] of [
      ['GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Trace: a\x01b\r\n\r\n', 'invalid header value'],
      ['GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX Trace: a\r\n\r\n', 'invalid header name'],
      ['GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Trace\r\n\r\n', undefined],
    ] as const) {
      const { tapped, direct } = await both(fleet, [request], { agent: true, untilClosed: true, byteByByte: true });
      expect(tapped).toEqual({ responses: [goRefusal(reason)], closed: true });
      expect(direct).toEqual(tapped);
    }
  });

  it('serves what Go reads: a tab and obs-text in a value, an empty Host', async () => {
    const request = 'GET /api/status HTTP/1.1\r\nHost: \r\nX-Trace: a\tb\x80\r\nConnection: close\r\n\r\n';
    const { tapped, direct } = await both(fleet, [request], { agent: true, untilClosed: true });
    expect(direct).toEqual(tapped);
    expect(direct.responses[0]).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\{"name":"fleet-server","status":"HEALTHY"\}$/);
  });
});

describe('a slow sender on the direct path', () => {
  it('answers a 12 KB head sent a byte at a time as the tapped path does', async () => {
    const request = `GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: ${'p'.repeat(12_000)}\r\nConnection: close\r\n\r\n`;
    const { tapped, direct } = await both(fleet, [request], { agent: true, untilClosed: true, byteByByte: true });
    expect(direct).toEqual(tapped);
    expect(direct.responses[0]).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\nConnection: close\r\n\r\n\{"name":"fleet-server","status":"HEALTHY"\}$/);
  });
});

describe('Fleet Server\'s read-header timeout on both paths (net/http server.go readRequest: ReadHeaderTimeout bounds the head, ReadTimeout the rest)', () => {
  it('still reads a body that comes after the header timeout, and answers as the tapped path does', async () => {
    const started = await Promise.all((['tapped', 'direct'] as const).map((path) => FakeFleetServer.start({
      identity: identity(pki, 'fleet-cert'), versions: only('1.3'), readHeaderTimeoutMs: 500,
      elasticsearch: { url: es[path].url, serviceToken: SERVICE_TOKEN, tls: { certificateAuthorities: authorities(pki, 'es-ca') } },
      ...(path === 'direct' ? { direct: true } : {}),
    })));
    try {
      const [tapped, direct] = await Promise.all(started.map((server) =>
        exchange(server.port, [enroll(Buffer.from('nobody:nothing').toString('base64'))], { untilClosed: true, bodyAfterMs: 1_200 })));
      expect(direct).toEqual(tapped);
      expect(direct!.closed).toBe(true);
      expect(direct!.responses[0]).toMatch(/^HTTP\/1\.1 401 Unauthorized\r\n[^]*\{"statusCode":401,"error":"ErrUnauthorized","message":"unauthorized"\}$/);
    } finally {
      await Promise.all(started.map((server) => server.close()));
    }
  });

  it('closes a connection whose body stops coming at ReadTimeout, counted from the request\'s start, on the direct path', async () => {
    await using server = await FakeFleetServer.start({
      identity: identity(pki, 'fleet-cert'), versions: only('1.3'), readHeaderTimeoutMs: 300, readTimeoutMs: 700, direct: true,
      elasticsearch: { url: es.direct.url, serviceToken: SERVICE_TOKEN, tls: { certificateAuthorities: authorities(pki, 'es-ca') } },
    });
    const socket = tls.connect({ host: '127.0.0.1', port: server.port, rejectUnauthorized: false });
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('secureConnect', resolve));
    // A head that promises 1000 bytes, then 10 of them and silence: Go's whole-request deadline closes it.
    socket.write('POST /api/fleet/agents/enroll?id= HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"type":"P');
    let answered = '';
    socket.on('data', (chunk: Buffer) => { answered += chunk.toString('latin1'); });
    const closed = await new Promise<boolean>((resolve) => {
      const giveUp = setTimeout(() => resolve(false), 5_000);
      socket.once('end', () => { clearTimeout(giveUp); resolve(true); });
    });
    socket.destroy();
    expect({ closed, answered }).toEqual({ closed: true, answered: '' });
  });
});

describe('the fake Elasticsearch\'s direct path answers Fleet Server\'s calls as its tapped path does', () => {
  it('the same bytes for an authenticated call, an unknown route and a refused token, on one keep-alive connection', async () => {
    const call = (path: string, token = SERVICE_TOKEN) => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: Fleet-Server/9.2.0\r\nAuthorization: Bearer ${token}\r\n\r\n`;
    const { tapped, direct } = await both(es, [call('/_security/_authenticate'), call('/_nowhere'), call('/', 'bogus')]);
    expect(direct).toEqual(tapped);
    expect(direct.responses[0]).toMatch(/^HTTP\/1\.1 200 OK\r\nX-elastic-product: Elasticsearch\r\ncontent-type: application\/json\r\ncontent-length: \d+\r\nDate: \(now\)\r\nConnection: keep-alive\r\n\r\n\{/);
    expect(direct.responses[2]).toMatch(/^HTTP\/1\.1 401 Unauthorized\r\n/);
  });
});

describe('closing a component with direct-path connections open', () => {
  const ownElasticsearch = () => FakeElasticsearch.start({ identity: identity(pki, 'es-cert'), serviceToken: SERVICE_TOKEN, direct: true });
  /** A keep-alive connection whose first request the direct path has answered. */
  async function answeredConnection(port: number): Promise<tls.TLSSocket> {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
    await new Promise((resolve) => socket.once('secureConnect', resolve));
    const answered = new Promise((resolve) => socket.once('data', resolve));
    socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${SERVICE_TOKEN}\r\n\r\n`);
    await answered;
    return socket;
  }

  it('ends a keep-alive connection the direct path answered, and close() resolves', async () => {
    const own = await ownElasticsearch();
    const socket = await answeredConnection(own.port);
    const ended = new Promise((resolve) => socket.once('close', resolve));
    await own.close();
    await ended;
    expect(socket.destroyed).toBe(true);
  });

  it('ends a connection still in its handshake, and close() resolves without waiting for it', async () => {
    const own = await ownElasticsearch();
    const raw = net.connect({ host: '127.0.0.1', port: own.port });
    raw.on('error', () => {});
    await new Promise((resolve) => raw.once('connect', resolve));
    // Half a record header: the server waits for the rest of a ClientHello that never comes.
    raw.write(Buffer.from([0x16, 0x03]));
    const ended = new Promise((resolve) => raw.once('close', resolve));
    await own.close();
    await ended;
    expect(raw.destroyed).toBe(true);
  });

  it('answers a client\'s FIN between keep-alive requests with its own, as node:http does', async () => {
    const own = await ownElasticsearch();
    const socket = await answeredConnection(own.port);
    const ended = new Promise((resolve) => socket.once('end', resolve));
    socket.end();
    await ended;
    expect(socket.readableEnded).toBe(true);
    await own.close();
  });
});

/**
 * Everything a server sends for `request` (latin1) until it closes, or what it sent by
 * `waitMs` (15 s, inside the test's own limit, so a loaded machine is not mistaken for a server
 * that keeps the connection open); the client ends its side after the request when
 * `end`. A reset after the answer (Go resets a connection it closes with bytes unread) is noted, not thrown.
 */
async function answerTo(port: number, request: string | Buffer, options: { agent?: boolean; end?: boolean; waitMs?: number } = {}): Promise<{ text: string; closed: boolean }> {
  const agent = identity(pki, 'agent-cert');
  const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, allowHalfOpen: true, ...(options.agent ? { cert: agent.certPem, key: agent.keyPem } : {}) } as tls.ConnectionOptions);
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('secureConnect', resolve));
  const bytes = typeof request === 'string' ? Buffer.from(request, 'latin1') : request;
  if (options.end) socket.end(bytes); else socket.write(bytes);
  let text = '';
  socket.on('data', (chunk: Buffer) => { text += chunk.toString('latin1'); });
  const closed = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), options.waitMs ?? 15_000);
    socket.once('close', () => { clearTimeout(timer); resolve(true); });
    socket.once('end', () => { clearTimeout(timer); resolve(true); });
  });
  socket.destroy();
  return { text: text.replace(/^Date: .*\r\n/m, '').replace(/^x-request-id: .*\r\n/m, ''), closed };
}

/** The same bytes to Go 1.19's server and both of Fleet Server's paths. */
const toAll = (request: string | Buffer, options: Parameters<typeof answerTo>[2] = {}) => Promise.all([
  answerTo(go.port('fleet'), request, options),
  answerTo(fleet.tapped.port, request, { ...options, agent: true }),
  answerTo(fleet.direct.port, request, { ...options, agent: true }),
]);

const statusLine = (text: string) => text.slice(0, text.indexOf('\r\n'));
const GO_505 = 'HTTP/1.1 505 HTTP Version Not Supported: unsupported protocol version\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n505 HTTP Version Not Supported: unsupported protocol version';
const GO_431 = 'HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n431 Request Header Fields Too Large';

describe('request lines Go 1.19 refuses as soon as it reads them, on both paths', () => {
  it.each([
    ['two parts (HTTP/0.9\'s form), with fields after', 'GET /api/status\r\nHost: 127.0.0.1\r\n\r\n'],
    ['two parts and nothing after: answered before any field line comes', 'GET /api/status\r\n'],
    ['two parts ended by a bare LF', 'GET /api/status\n'],
    ['one word', 'GET\r\n'],
    ['an empty line', '\r\n'],
    ['a method that is not a token', 'G(T /api/status HTTP/1.1\r\n'],
    ['a version that is not HTTP/X.Y', 'GET /api/status HTTP/1.1x\r\n'],
    ['a control byte in the target', 'GET /api/\x01status HTTP/1.1\r\n'],
  ])('%s: its plain 400, then it closes', async (_what, request) => {
    const [real, tapped, direct] = await toAll(request);
    expect(real).toEqual({ text: goRefusal(), closed: true });
    expect(tapped).toEqual(real);
    expect(direct).toEqual(real);
  });

  it.each([
    ['HTTP/0.9', 'GET /api/status HTTP/0.9\r\nHost: 127.0.0.1\r\n\r\n'],
    ['HTTP/2.0 (not the preface)', 'GET /api/status HTTP/2.0\r\nHost: 127.0.0.1\r\n\r\n'],
  ])('a version %s: read whole, then its 505 unsupported protocol version', async (_what, request) => {
    const [real, tapped, direct] = await toAll(request);
    expect(real).toEqual({ text: GO_505, closed: true });
    expect(tapped).toEqual(real);
    expect(direct).toEqual(real);
  });

  it('serves HTTP/1.2 as HTTP/1.x (node:http\'s parser refuses it)', async () => {
    const [real, tapped, direct] = await toAll('GET /api/status HTTP/1.2\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    expect(real.text).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*client certificate: none\n$/);
    for (const fake of [tapped, direct]) expect(fake).toEqual({ text: expect.stringMatching(/^HTTP\/1\.1 200 OK\r\n[^]*\{"name":"fleet-server","status":"HEALTHY"\}$/), closed: true });
  });

  it('answers part of a head and the client\'s FIN with the plain 400, as Go does', async () => {
    for (const request of ['GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n', 'GET /api/sta']) {
      const [real, tapped, direct] = await toAll(request, { end: true });
      expect(real).toEqual({ text: goRefusal(), closed: true });
      expect(tapped).toEqual(real);
      expect(direct).toEqual(real);
    }
  });
});

describe('a refused head pipelined behind a request still being answered', () => {
  it('waits for that answer, as Go reads the next request only once it has written it (the enrolment asks Elasticsearch first)', async () => {
    const refused = 'GET /api/status HTTP/1.1\r\n\r\n';
    for (const port of [fleet.tapped.port, fleet.direct.port]) {
      const answer = await answerTo(port, enroll(Buffer.from('nobody:nothing').toString('base64'), 'keep-alive') + refused, { agent: true });
      expect({ statuses: answer.text.split('HTTP/1.1 ').map((part) => part.slice(0, 3)), closed: answer.closed }).toEqual({ statuses: ['', '401', '400'], closed: true });
      expect(answer.text.endsWith(goRefusal('missing required Host header'))).toBe(true);
    }
  });
});

describe('folded field lines and empty field names, which Go 1.19 reads (net/textproto) and node:http refuses, on both paths', () => {
  it.each([
    ['a folded value (space)', 'X-Trace: a\r\n b'],
    ['a folded value (tab)', 'X-Trace: a\r\n\tb'],
    ['an empty field name', ': x'],
    ['an empty field name and no value', ':'],
  ])('%s: served', async (_what, field) => {
    const [real, tapped, direct] = await toAll(`GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n${field}\r\nConnection: close\r\n\r\n`);
    expect(real).toEqual({ text: expect.stringMatching(/^HTTP\/1\.1 200 OK\r\n[^]*client certificate: none\n$/), closed: true });
    for (const fake of [tapped, direct]) expect(fake).toEqual({ text: expect.stringMatching(/^HTTP\/1\.1 200 OK\r\n[^]*\{"name":"fleet-server","status":"HEALTHY"\}$/), closed: true });
  });

  it.each([
    ['every line ended by a bare LF', 'GET /api/status HTTP/1.1\nHost: 127.0.0.1\nConnection: close\n\n'],
    ['CRLF lines and a bare-LF blank line', 'GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\n'],
    ['bare-LF lines and a CRLF blank line', 'GET /api/status HTTP/1.1\nHost: 127.0.0.1\nConnection: close\n\r\n'],
  ])('a head with %s: whole, served and closed as Go serves it (it was never answered)', async (_what, request) => {
    const [real, tapped, direct] = await toAll(request);
    expect(real).toEqual({ text: expect.stringMatching(/^HTTP\/1\.1 200 OK\r\n[^]*client certificate: none\n$/), closed: true });
    for (const fake of [tapped, direct]) expect(fake).toEqual({ text: expect.stringMatching(/^HTTP\/1\.1 200 OK\r\n[^]*\{"name":"fleet-server","status":"HEALTHY"\}$/), closed: true });
  });

  it('reads the folded value as Go does: `Connection:` folded onto `close` closes after the answer', async () => {
    const [real, tapped, direct] = await toAll('GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection:\r\n close\r\n\r\n');
    for (const answer of [real, tapped, direct]) expect({ status: statusLine(answer.text), closed: answer.closed }).toEqual({ status: 'HTTP/1.1 200 OK', closed: true });
  });

  it.each([
    ['a Host folded onto an empty line keeps a trailing space', 'Host: 127.0.0.1\r\n \r\n', 'malformed Host header'],
    ['a control byte in a folded value', 'Host: 127.0.0.1\r\nX-Trace: a\r\n b\x01\r\n', 'invalid header value'],
    ['a folded first field line', ' Host: 127.0.0.1\r\n', undefined],
  ])('%s: Go\'s 400', async (_what, fields, reason) => {
    const [real, tapped, direct] = await toAll(`GET /api/status HTTP/1.1\r\n${fields}\r\n`);
    expect(real).toEqual({ text: goRefusal(reason), closed: true });
    expect(tapped).toEqual(real);
    expect(direct).toEqual(real);
  });
});

describe('heads over Go\'s limit (DefaultMaxHeaderBytes + 4096 bytes, CRLF CRLF included): its 431, on both paths', () => {
  const LIMIT = (1 << 20) + 4096;
  /** A GET whose head is `total` bytes long. */
  const headOf = (total: number) => {
    const start = 'GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-Pad: ';
    return `${start}${'p'.repeat(total - start.length - 4)}\r\n\r\n`;
  };

  it('serves a head of exactly the limit and answers one byte more with 431', async () => {
    // One after the other: Go resets 500 ms after its 431 (bytes left unread), and a client busy
    // with another megabyte could read the answer after the reset has dropped it.
    const atLimit = await toAll(headOf(LIMIT));
    const over = await toAll(headOf(LIMIT + 1));
    expect(atLimit.map((answer) => statusLine(answer.text))).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
    const [real, tapped, direct] = over;
    expect(real).toEqual({ text: GO_431, closed: true });
    expect(tapped).toEqual(real);
    expect(direct).toEqual(real);
  });

  it('answers a head that never ends with 431 once the limit has come, without reading the rest', async () => {
    // 64 KiB past the limit of one field line and no end: each server stops at the limit. More
    // would only lengthen the client's writes, which race Go's reset 500 ms after its 431.
    const endless = Buffer.concat([Buffer.from('GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: '), Buffer.alloc(LIMIT + (64 << 10), 'p')]);
    const [real, tapped, direct] = await toAll(endless);
    expect(real).toEqual({ text: GO_431, closed: true });
    expect(tapped).toEqual(real);
    expect(direct).toEqual(real);
  });

  it('answers a too-large head pipelined after a request with that request\'s answer, then 431', async () => {
    const first = 'GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
    const answers = await toAll(first + headOf(LIMIT + 100_000));
    for (const answer of answers) {
      expect(answer.closed).toBe(true);
      expect(answer.text.split('HTTP/1.1 ').map((part) => part.slice(0, 3))).toEqual(['', '200', '431']);
      expect(answer.text.endsWith(GO_431)).toBe(true);
    }
  });

  it('answers a too-large head on a kept-alive connection\'s second request with 431 too', async () => {
    const first = 'GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
    const answers = await Promise.all([go.port('fleet'), fleet.tapped.port, fleet.direct.port].map(async (port, i) => {
      const agent = identity(pki, 'agent-cert');
      const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...(i > 0 ? { cert: agent.certPem, key: agent.keyPem } : {}) });
      socket.on('error', () => {});
      await new Promise((resolve) => socket.once('secureConnect', resolve));
      let text = '';
      socket.on('data', (chunk: Buffer) => { text += chunk.toString('latin1'); });
      const answered = new Promise((resolve) => socket.once('data', resolve));
      socket.write(first);
      await answered;
      socket.write(headOf(LIMIT + 100_000));
      await new Promise((resolve) => { socket.once('end', resolve); socket.once('close', resolve); });
      socket.destroy();
      return text;
    }));
    for (const text of answers) {
      expect(text.split('HTTP/1.1 ').map((part) => part.slice(0, 3))).toEqual(['', '200', '431']);
      expect(text.endsWith(GO_431)).toBe(true);
    }
  });
});
