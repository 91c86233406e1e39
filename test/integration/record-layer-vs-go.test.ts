import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { authorities, identity, startElasticsearch } from '../../src/api.js';
import { FakeElasticsearch } from '../../src/components/elasticsearch.js';
import { FakeFleetServer } from '../../src/components/fleet-server.js';
import type { Pki } from '../../src/pki/store.js';
import { buildGoPeer, goServers, type GoPeerServers } from '../helpers/go-peer.js';
import { scratchDir, sharedPki } from '../helpers/pki.js';
import { goTool } from '../helpers/tools.js';
import { clientHelloRecord, defaultExtensions, extension, record, tls12ClientHelloRecord } from '../unit/wire/helpers/hostile.js';

// Checked when the file loads: a missing Go fails this file with one line, never a skip.
goTool();

/*
 * Issue 9: the fake Fleet Server's record layer held against Go 1.19's own net/http TLS server
 * (test/interop/go) byte for byte. Each case sends both servers the same bytes and expects the
 * same answer on the wire and the same `http: TLS handshake error` line; the expected values
 * are Go's (crypto/tls conn.go readRecordOrCCS, handshake_messages.go, net/http server.go), so
 * a case fails if either side drifts.
 */
let pki: Pki;
let cleanup: () => Promise<void>;
let go: GoPeerServers;
let fleetServer: FakeFleetServer;
let elasticsearch: FakeElasticsearch;

beforeAll(async () => {
  const scratch = await scratchDir();
  cleanup = scratch.cleanup;
  pki = await sharedPki();
  const binary = await buildGoPeer(scratch.dir);
  elasticsearch = await startElasticsearch({ pki });
  [go, fleetServer] = await Promise.all([
    goServers(binary, [{ name: 'fleet', cert: pki.certPath('fleet-cert'), key: pki.keyPath('fleet-cert') }]),
    FakeFleetServer.start({
      identity: identity(pki, 'fleet-cert'), certificateAuthorities: authorities(pki, 'fleet-ca', 'agent-ca'),
      clientAuthentication: 'none', goRelease: '1.19',
      elasticsearch: { url: elasticsearch.url, serviceToken: elasticsearch.serviceToken, connectTo: elasticsearch.endpoint, tls: { certificateAuthorities: authorities(pki, 'es-ca') } },
    }),
  ]);
}, 60_000);

afterAll(async () => {
  await go?.stop();
  await fleetServer?.close();
  await elasticsearch?.close();
  await cleanup?.();
});

interface Answer {
  readonly bytes: Buffer;
  readonly localPort: number;
}

/**
 * Writes `bytes` and reads until the server closes. `end`: half-close right after writing;
 * `after-hello`: half-close once the server's first record (its ServerHello) is in; otherwise
 * the server must close on its own.
 */
function exchange(port: number, bytes: Buffer, end: 'now' | 'after-hello' | 'never'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let localPort = 0;
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => {
      localPort = socket.localPort!;
      if (end === 'now') socket.end(bytes);
      else socket.write(bytes);
    });
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`server on ${port} did not close`)); }, 10_000);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const got = Buffer.concat(chunks);
      if (end === 'after-hello' && got.length >= 5 && got.length >= 5 + got.readUInt16BE(3) && !socket.writableEnded) socket.end();
    });
    socket.on('end', () => { clearTimeout(timer); socket.destroy(); resolve({ bytes: Buffer.concat(chunks), localPort }); });
    socket.on('error', (error) => { clearTimeout(timer); reject(error); });
  });
}

/** A fatal plaintext alert as Go writes it before a version is chosen (record version 3.1). */
const alert10 = (description: number) => `150301000202${description.toString(16).padStart(2, '0')}`;
const UNEXPECTED = 10;
const RECORD_OVERFLOW = 22;
const DECODE_ERROR = 50;
const PROTOCOL_VERSION = 70;

/** What the server put on the wire, in a form both servers share (their flights differ in random bytes). */
type Expected =
  | { alone: string }
  | { nothing: true }
  | { http400: true }
  /** Its flight for a TLS 1.2 hello, then this plaintext alert (version 3.3). */
  | { flight12Then: number }
  /** Its flight for a TLS 1.3 hello, then one encrypted alert record. */
  | { flight13ThenSealedAlert: true }
  /** Its flight and nothing after it (it waited for the client). */
  | { flight: true };

function checkAnswer(bytes: Buffer, expected: Expected): void {
  const hex = bytes.toString('hex');
  if ('alone' in expected) return void expect(hex).toBe(expected.alone);
  if ('nothing' in expected) return void expect(hex).toBe('');
  if ('http400' in expected) return void expect(bytes.toString('latin1')).toBe('HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n');
  expect(hex.slice(0, 6)).toBe('160303');
  const records = splitRecords(bytes);
  const last = records.at(-1)!;
  if ('flight12Then' in expected) return void expect(last.toString('hex')).toBe(`150303000202${expected.flight12Then.toString(16).padStart(2, '0')}`);
  if ('flight13ThenSealedAlert' in expected) {
    // An alert under the handshake key: type 23, 2 bytes + inner type + 16-byte tag.
    expect(last.subarray(0, 5).toString('hex')).toBe('1703030013');
    return;
  }
  expect(records.some((r) => r[0] === 21)).toBe(false);
}

function splitRecords(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at + 5 <= bytes.length; at += 5 + bytes.readUInt16BE(at + 3)) out.push(bytes.subarray(at, at + 5 + bytes.readUInt16BE(at + 3)));
  return out;
}

/** The hello with its one compression method replaced (record, handshake header, version, random, session id, suites, then methods). */
function withCompression(hello: Buffer, method: number): Buffer {
  const copy = Buffer.from(hello);
  let at = 5 + 4 + 2 + 32;
  at += 1 + copy[at]!;
  at += 2 + copy.readUInt16BE(at);
  copy[at + 1] = method;
  return copy;
}

const hello12 = () => tls12ClientHelloRecord();
const hello13 = () => clientHelloRecord();
const after12 = (header: string, body: Buffer = randomBytes(5)) => Buffer.concat([hello12(), Buffer.from(header, 'hex'), body]);

const CASES: Array<{ name: string; bytes: () => Buffer; end?: 'now' | 'after-hello'; answer: Expected; log: string | null }> = [
  { name: 'an SSLv2 ClientHello gets protocol_version', answer: { alone: alert10(PROTOCOL_VERSION) }, log: 'tls: unsupported SSLv2 handshake received',
    bytes: () => Buffer.from('802e0103010015000000100000040000050000ff0000000a00000900000800000600000300000200000100', 'hex') },
  { name: 'a first record longer than any TLS record gets record_overflow before its body', answer: { alone: alert10(RECORD_OVERFLOW) },
    log: 'tls: oversized record received with length 20480', bytes: () => Buffer.from('1603015000', 'hex') },
  { name: 'a first record whose plaintext exceeds 2^14 gets record_overflow once read', answer: { alone: alert10(RECORD_OVERFLOW) },
    log: 'local error: tls: record overflow', bytes: () => Buffer.concat([Buffer.from('1603014500', 'hex'), randomBytes(0x4500)]) },
  { name: 'an empty handshake record gets unexpected_message', answer: { alone: alert10(UNEXPECTED) }, log: 'local error: tls: unexpected message',
    bytes: () => Buffer.from('1603010000', 'hex') },
  { name: 'a first record of application data is not TLS: no alert', answer: { nothing: true },
    log: 'tls: first record does not look like a TLS handshake', bytes: () => Buffer.from('170301000501020304ff', 'hex') },
  { name: 'a first record version of 0x1000 or more is not TLS: no alert', answer: { nothing: true },
    log: 'tls: first record does not look like a TLS handshake', bytes: () => Buffer.from('16100000050102030405', 'hex') },
  { name: 'a ClientHello in a record of version 0x0005 is read (Go checks only < 0x1000)', end: 'after-hello', answer: { flight: true }, log: 'EOF',
    bytes: () => { const r = hello13(); r.writeUInt16BE(0x0005, 1); return r; } },
  { name: 'a fatal alert as first record: no alert back, the remote error logged', answer: { nothing: true },
    log: 'remote error: tls: handshake failure', bytes: () => Buffer.from('15030100020228', 'hex') },
  { name: 'close_notify as first record: EOF', answer: { nothing: true }, log: 'EOF', bytes: () => Buffer.from('15030100020100', 'hex') },
  { name: 'a warning alert before the hello is dropped and the next record read', end: 'now', answer: { nothing: true }, log: 'EOF',
    bytes: () => Buffer.from('15030100020128', 'hex') },
  { name: 'seventeen warning alerts in a row get unexpected_message', answer: { alone: alert10(UNEXPECTED) }, log: 'tls: too many ignored records',
    bytes: () => Buffer.concat(Array.from({ length: 17 }, () => Buffer.from('15030100020128', 'hex'))) },
  { name: 'an HTTP request line after part of a ClientHello gets the 400 answer, unlogged', answer: { http400: true }, log: null,
    bytes: () => Buffer.concat([record(22, hello13().subarray(5, 21)), Buffer.from('GET / HTTP/1.1\r\n\r\n')]) },
  { name: 'TLS 1.2: a record of version 3.1 after the hello gets protocol_version after the flight', answer: { flight12Then: PROTOCOL_VERSION },
    log: 'tls: received record with version 301 when expecting version 303', bytes: () => after12('1603010005') },
  { name: 'TLS 1.2: an unknown content type gets unexpected_message', answer: { flight12Then: UNEXPECTED }, log: 'local error: tls: unexpected message',
    bytes: () => after12('1903030005') },
  { name: 'TLS 1.2: plaintext application data gets unexpected_message', answer: { flight12Then: UNEXPECTED }, log: 'local error: tls: unexpected message',
    bytes: () => after12('1703030005') },
  { name: 'TLS 1.2: a ChangeCipherSpec of two bytes gets decode_error', answer: { flight12Then: DECODE_ERROR }, log: 'local error: tls: error decoding message',
    bytes: () => after12('1403030002', Buffer.from('0101', 'hex')) },
  { name: 'TLS 1.2: an oversized record gets record_overflow', answer: { flight12Then: RECORD_OVERFLOW }, log: 'tls: oversized record received with length 20480',
    bytes: () => after12('1603035000', Buffer.alloc(0)) },
  { name: 'TLS 1.2: an SSLv2 header mid-handshake gets protocol_version', answer: { flight12Then: PROTOCOL_VERSION },
    log: 'tls: unsupported SSLv2 handshake received', bytes: () => after12('8003030005') },
  { name: 'TLS 1.3: a record over 2^14+256 gets a sealed record_overflow', answer: { flight13ThenSealedAlert: true },
    log: 'tls: oversized record received with length 16896', bytes: () => Buffer.concat([hello13(), Buffer.from('1703034200', 'hex')]) },
  { name: 'TLS 1.3: a record the client did not seal gets a sealed bad_record_mac', answer: { flight13ThenSealedAlert: true },
    log: `local error: tls: bad record MAC`, bytes: () => Buffer.concat([hello13(), Buffer.from('1703030005', 'hex'), randomBytes(5)]) },
  { name: 'TLS 1.3: a plaintext alert after the ServerHello does not open either', answer: { flight13ThenSealedAlert: true },
    log: `local error: tls: bad record MAC`, bytes: () => Buffer.concat([hello13(), Buffer.from('15030300020228', 'hex')]) },
  // ClientHellos OpenSSL refuses with its own alert, answered as Go answers them.
  { name: 'a supported_groups list of odd length: Go\'s unexpected_message where OpenSSL says decode_error', answer: { alone: alert10(UNEXPECTED) },
    log: 'local error: tls: unexpected message',
    bytes: () => clientHelloRecord({ extensions: [extension(10, Buffer.from('0003001d00', 'hex')), ...defaultExtensions().filter((e) => e.type !== 10)] }) },
  { name: 'a TLS 1.3 hello without uncompressed among its methods: illegal_parameter', answer: { alone: '1503030002022f' },
    log: 'tls: TLS 1.3 client supports illegal compression methods', bytes: () => withCompression(hello13(), 1) },
  { name: 'a TLS 1.2 hello without uncompressed among its methods: handshake_failure', answer: { alone: '15030300020228' },
    log: 'tls: client does not support uncompressed connections', bytes: () => withCompression(hello12(), 1) },
  { name: 'a hello saying TLS 1.3 only in its legacy version: illegal_parameter', answer: { alone: '1503030002022f' },
    log: 'tls: client used the legacy version field to negotiate TLS 1.3',
    bytes: () => { const r = hello12(); r.writeUInt16BE(0x0304, 9); return r; } },
  { name: 'a client that leaves inside a record header: unexpected EOF', end: 'now', answer: { nothing: true }, log: 'unexpected EOF',
    bytes: () => Buffer.from('160301', 'hex') },
  { name: 'a client that leaves inside a record body: unexpected EOF', end: 'now', answer: { nothing: true }, log: 'unexpected EOF',
    bytes: () => Buffer.from('16030100200100', 'hex') },
  { name: 'a client that leaves after its hello, at a record boundary: EOF', end: 'now', answer: { flight: true }, log: 'EOF', bytes: hello13 },
  { name: 'a client that leaves inside the record after its hello: unexpected EOF', end: 'now', answer: { flight: true }, log: 'unexpected EOF',
    bytes: () => Buffer.concat([hello13(), Buffer.from('1703', 'hex')]) },
];

const goLine = (port: number, error: string) => `http: TLS handshake error from 127.0.0.1:${port}: ${error}`;

describe('Fleet Server reads a client\'s records as Go 1.19\'s net/http server does', () => {
  for (const { name, bytes, end, answer, log } of CASES) {
    it(name, async () => {
      const sent = bytes();
      const [real, fake] = await Promise.all([
        exchange(go.port('fleet'), sent, end ?? 'never'),
        exchange(fleetServer.endpoint.port, sent, end ?? 'never'),
      ]);
      checkAnswer(real.bytes, answer);
      checkAnswer(fake.bytes, answer);
      const realLog = await go.logLine('fleet', real.localPort);
      const fakeLog = (await fleetServer.connection(fake.localPort))?.logLine;
      expect(realLog).toBe(log === null ? undefined : goLine(real.localPort, log));
      expect(fakeLog).toBe(log === null ? undefined : goLine(fake.localPort, log));
    });
  }
});

describe('a ClientHello with a 33-byte session id, which Go reads and OpenSSL refuses', () => {
  it('Fleet Server answers with Go\'s TLS 1.3 ServerHello echoing all 33 bytes, then logs EOF when the client leaves', async () => {
    const sessionId = randomBytes(33);
    const sent = clientHelloRecord({ sessionId });
    const [real, fake] = await Promise.all([
      exchange(go.port('fleet'), sent, 'after-hello'),
      exchange(fleetServer.endpoint.port, sent, 'after-hello'),
    ]);
    for (const answer of [real, fake]) {
      const serverHello = splitRecords(answer.bytes)[0]!;
      // record header, handshake header, version, random: then the echoed id's length and bytes.
      expect(serverHello.subarray(0, 6).toString('hex')).toBe('160303007b02');
      expect(serverHello[5 + 4 + 2 + 32]).toBe(33);
      expect(serverHello.subarray(5 + 4 + 2 + 32 + 1, 5 + 4 + 2 + 32 + 1 + 33).equals(sessionId)).toBe(true);
    }
    expect(await go.logLine('fleet', real.localPort)).toBe(goLine(real.localPort, 'EOF'));
    expect((await fleetServer.connection(fake.localPort))?.logLine).toBe(goLine(fake.localPort, 'EOF'));
  });
});

describe('a request half-closed right after it', () => {
  /** One request over TLS, the write side ended with it: the server's whole answer. */
  const halfClosed = (port: number, request: string) => new Promise<string>((resolve, reject) => {
    const socket = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false, allowHalfOpen: true } as tls.ConnectionOptions, () => socket.end(request));
    let text = '';
    socket.on('data', (chunk: Buffer) => { text += chunk.toString('latin1'); });
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });

  it('Go and Fleet Server both answer it, then close', async () => {
    const [real, fake] = await Promise.all([
      halfClosed(go.port('fleet'), 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'),
      halfClosed(fleetServer.endpoint.port, 'GET /api/status HTTP/1.1\r\nHost: localhost\r\n\r\n'),
    ]);
    expect(real).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nclient certificate: none\n$/);
    expect(fake).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\n\{"name":"fleet-server","status":"HEALTHY"\}$/);
  });

  it('Elasticsearch answers it too, then closes', async () => {
    const answer = await halfClosed(elasticsearch.endpoint.port,
      `GET / HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${elasticsearch.serviceToken}\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(answer).toContain('"tagline":"You Know, for Search"');
  });
});

describe('a request target with a `%` that does not decode', () => {
  /** One request over TLS (`Connection: close`): the server's whole answer. */
  const ask = (port: number, request: string) => new Promise<string>((resolve, reject) => {
    const socket = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => socket.write(request));
    let text = '';
    socket.on('data', (chunk: Buffer) => { text += chunk.toString('latin1'); });
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
  const GO_400 = 'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request';

  for (const target of ['/%', '/api/status%zz', '/api/%2']) {
    it(`in the path (${target}): Go and Fleet Server write net/http's 400 and close, whatever the route`, async () => {
      const request = `GET ${target} HTTP/1.1\r\nHost: localhost\r\n\r\n`;
      const [real, fake] = await Promise.all([ask(go.port('fleet'), request), ask(fleetServer.endpoint.port, request)]);
      expect(real).toBe(GO_400);
      expect(fake).toBe(GO_400);
    });
  }

  it('in the query (/api/status?a=%): Go does not decode it, and Fleet Server answers the route', async () => {
    const [real, fake] = await Promise.all([
      ask(go.port('fleet'), 'GET /?a=% HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'),
      ask(fleetServer.endpoint.port, 'GET /api/status?a=% HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'),
    ]);
    expect(real).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(fake).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\{"name":"fleet-server","status":"HEALTHY"\}$/);
  });

  // RestRequest.params: RestUtils.decodeQueryString throws, BadParameterException wraps it, and
  // RestController.dispatchBadRequest answers 400 whatever the route (elastic/elasticsearch
  // server/src/main/java/org/elasticsearch/rest/RestRequest.java, RestUtils.java).
  for (const [target, message] of [
    ['/?a=%', 'unterminated escape sequence at end of string: %'],
    ['/_cluster/health?level=%2', 'partial escape sequence at end of string: %2'],
    ['/no/such/route?pretty&x%zz=1', "invalid escape sequence `%zz' at index 1 of: x%zz"],
  ] as const) {
    it(`in an Elasticsearch query string (${target}): 400 with BadParameterException's body, before any route`, async () => {
      const answer = await ask(elasticsearch.endpoint.port,
        `GET ${target} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${elasticsearch.serviceToken}\r\nConnection: close\r\n\r\n`);
      const [head, body] = answer.split('\r\n\r\n') as [string, string];
      expect(head.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
      const outer = { type: 'bad_parameter_exception', reason: `java.lang.IllegalArgumentException: ${message}` };
      expect(JSON.parse(body)).toEqual({ error: { root_cause: [outer], ...outer, caused_by: { type: 'illegal_argument_exception', reason: message } }, status: 400 });
    });
  }

  it('in an Elasticsearch path parameter: RestController\'s 405 with RestUtils\' words and the methods the path allows, not a 500', async () => {
    const answer = await ask(elasticsearch.endpoint.port,
      `PUT /logs%zz HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${elasticsearch.serviceToken}\r\nConnection: close\r\n\r\n`);
    const [head, body] = answer.split('\r\n\r\n') as [string, string];
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 405 Method Not Allowed');
    expect(head).toMatch(/\r\nallow: PUT,DELETE,HEAD\r\n/);
    expect(JSON.parse(body)).toEqual({ error: "invalid escape sequence `%zz' at index 4 of: logs%zz, allowed: [PUT, DELETE, HEAD]", status: 405 });
  });
});
