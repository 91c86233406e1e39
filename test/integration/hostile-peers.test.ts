import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { execa } from 'execa';
import { createPki } from '../../src/api.js';
import type { Pki } from '../../src/pki/store.js';
import { fleetTls } from '../helpers/cli.js';
import { scratchDir } from '../helpers/pki.js';
import { serve, type Served } from '../helpers/serve.js';
import { requireTool } from '../helpers/tools.js';
import { der, issueDer } from '../unit/x509/helpers.js';
import { MALFORMED_HELLOS, handshakeMessage, presentCertificate12, record, sendRaw } from '../unit/wire/helpers/hostile.js';

/*
 * Issue 9: no byte a peer sends takes `serve` (or `probe`) down. Each hostile connection gets what
 * the real component answers: the alerts and log lines below were read off Go 1.19's net/http
 * server and OpenJDK 17's SSLServerSocket given the same bytes (the words come from Go's
 * crypto/tls conn.go readHandshake and handshake_server.go, and JSSE's ClientHello.java).
 */
let pki: Pki;
let dir: string;
let cleanup: () => Promise<void>;
let served: Served;
let fleetCa: string;

beforeAll(async () => {
  ({ dir, cleanup } = await scratchDir());
  pki = await createPki({ dir: path.join(dir, 'certs') });
  fleetCa = await readFile(pki.certPath('fleet-ca'), 'utf8');
  served = await serve(path.join(dir, 'certs'), ['--fleet-server-client-auth', 'optional']);
}, 30_000);
afterAll(async () => {
  await served.stop();
  await cleanup();
});

/** A fatal plaintext alert record as each stack writes it before a version is agreed. */
const goAlert = (description: number) => Buffer.from([21, 3, 1, 0, 2, 2, description]).toString('hex');
const jsseAlert = (description: number) => Buffer.from([21, 3, 3, 0, 2, 2, description]).toString('hex');
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const goLine = (port: number, error: string) => `http: TLS handshake error from 127.0.0.1:${port}: ${error}`;
/** Netty's two lines: the channel (our client port in it), then the JSSE exception. */
const esLines = (port: number, exception: string) => new RegExp(
  `^\\[WARN \\]\\[o\\.e\\.h\\.AbstractHttpServerTransport\\] \\[[^\\]]+\\] caught exception while handling client http traffic, ` +
  `closing connection Netty4HttpChannel\\{localAddress=/127\\.0\\.0\\.1:\\d+, remoteAddress=/127\\.0\\.0\\.1:${port}\\}\\n` +
  `io\\.netty\\.handler\\.codec\\.DecoderException: ${escape(exception)}$`);

const UNEXPECTED = 10;
const BAD_CERTIFICATE = 42;
const ILLEGAL_PARAMETER = 47;
const DECODE_ERROR = 50;
const INTERNAL_ERROR = 80;

/** `go: null`: Go reads the hello and answers it (see the session-id test below). */
const HELLO_CASES: Array<{ name: string; go: [number, string] | null; es: [number, string] }> = [
  { name: 'random shorter than 32 bytes', go: [UNEXPECTED, 'local error: tls: unexpected message'],
    es: [DECODE_ERROR, 'javax.net.ssl.SSLHandshakeException: (decode_error) Illegal handshake message: client_hello'] },
  // Go 1.19 reads a 33-byte session id and answers; JSSE refuses it.
  { name: 'session id of 33 bytes', go: null,
    es: [ILLEGAL_PARAMETER, 'javax.net.ssl.SSLProtocolException: Invalid session ID length (33 bytes)'] },
  { name: 'extensions length that lies', go: [UNEXPECTED, 'local error: tls: unexpected message'],
    es: [DECODE_ERROR, 'javax.net.ssl.SSLHandshakeException: (decode_error) Insufficient extensions data'] },
  { name: 'empty SNI list', go: [UNEXPECTED, 'local error: tls: unexpected message'],
    es: [DECODE_ERROR, 'javax.net.ssl.SSLProtocolException: Invalid server_name extension: incomplete data'] },
  { name: 'handshake claiming 16 MB', go: [INTERNAL_ERROR, 'tls: handshake message of length 16777215 bytes exceeds maximum of 65536 bytes'],
    es: [UNEXPECTED, 'javax.net.ssl.SSLProtocolException: The size of the handshake message (16777215) exceeds the maximum allowed size (32768)'] },
];

describe('serve answers a malformed ClientHello as the real component does and stays up', () => {
  for (const { name, go, es } of HELLO_CASES) {
    if (go) it(`${name}: Fleet Server sends Go's ${go[0]} alert and logs Go's handshake error`, async () => {
      const answer = await sendRaw(served.fleetServerPort, MALFORMED_HELLOS[name]!());
      expect(answer.bytes.toString('hex')).toBe(goAlert(go[0]));
      expect(answer.end).toBe('fin');
      expect(await served.waitForLog(new RegExp(`^${escape(goLine(answer.localPort, go[1]))}$`))).toBe(goLine(answer.localPort, go[1]));
    });

    it(`${name}: Elasticsearch sends JSSE's ${es[0]} alert and logs Netty's caught exception`, async () => {
      const answer = await sendRaw(served.esPort, MALFORMED_HELLOS[name]!());
      expect(answer.bytes.toString('hex')).toBe(jsseAlert(es[0]));
      expect(answer.end).toBe('fin');
      expect(await served.waitForLog(esLines(answer.localPort, es[1]))).toMatch(esLines(answer.localPort, es[1]));
    });
  }
});

describe('serve reads a ClientHello with a 33-byte session id as Go does (compared with Go 1.19 in record-layer-vs-go.test.ts)', () => {
  it('Fleet Server answers with a ServerHello echoing all 33 bytes, and logs EOF once the client leaves', async () => {
    const hello = MALFORMED_HELLOS['session id of 33 bytes']!();
    const sessionId = hello.subarray(5 + 4 + 2 + 32 + 1, 5 + 4 + 2 + 32 + 1 + 33);
    const { serverHello, localPort } = await new Promise<{ serverHello: Buffer; localPort: number }>((resolve, reject) => {
      let got = Buffer.alloc(0);
      const socket = net.connect({ port: served.fleetServerPort, host: '127.0.0.1' }, () => socket.write(hello));
      socket.on('data', (chunk: Buffer) => {
        got = Buffer.concat([got, chunk]);
        if (got.length >= 5 && got.length >= 5 + got.readUInt16BE(3)) {
          resolve({ serverHello: got.subarray(0, 5 + got.readUInt16BE(3)), localPort: socket.localPort! });
          socket.end();
        }
      });
      socket.on('error', reject);
    });
    expect(serverHello.subarray(0, 6).toString('hex')).toBe('160303007b02');
    expect(serverHello[5 + 4 + 2 + 32]).toBe(33);
    expect(serverHello.subarray(5 + 4 + 2 + 32 + 1, 5 + 4 + 2 + 32 + 1 + 33).equals(sessionId)).toBe(true);
    expect(await served.waitForLog(new RegExp(`^${escape(goLine(localPort, 'EOF'))}$`))).toBe(goLine(localPort, 'EOF'));
  });
});

const duplicateExtensions = () => issueDer({ extra: [{ oid: '2.5.29.14', value: der(0x04, Buffer.from([1, 2, 3])) }] });
/** ecdsa-with-SHA256 inside the signed part, ecdsa-with-SHA384 outside it. */
function mismatchedSignatureAlgorithms(): ReturnType<typeof issueDer> {
  const issued = issueDer({});
  const oid = Buffer.from('06082a8648ce3d040302', 'hex');
  const outer = Buffer.from(issued.der);
  outer[outer.lastIndexOf(oid) + oid.length - 1] = 3;
  return { ...issued, der: outer };
}

describe('serve refuses a client certificate Go\'s parser refuses, on ports that ask for one', () => {
  const cases = [
    { name: 'duplicate extensions', make: duplicateExtensions, go: 'x509: certificate contains duplicate extensions' },
    { name: 'inner and outer signature algorithms differ', make: mismatchedSignatureAlgorithms,
      go: "x509: inner and outer signature algorithm identifiers don't match" },
  ];
  for (const { name, make, go } of cases) {
    it(`${name}, TLS 1.2: Fleet Server sends bad_certificate and logs Go's parse error`, async () => {
      const answer = await presentCertificate12(served.fleetServerPort, make().der);
      expect(answer.bytes.toString('hex')).toBe('150303000202' + '2a');
      expect(answer.end).toBe('fin');
      const line = goLine(answer.localPort, `tls: failed to parse client certificate: ${go}`);
      expect(await served.waitForLog(new RegExp(`^${escape(line)}$`))).toBe(line);
    });

    it(`${name}, TLS 1.2: Elasticsearch sends bad_certificate and logs JSSE's parse failure`, async () => {
      const answer = await presentCertificate12(served.esPort, make().der);
      expect(answer.bytes.toString('hex')).toBe(jsseAlert(BAD_CERTIFICATE));
      expect(answer.end).toBe('fin');
      const exception = 'javax.net.ssl.SSLHandshakeException: (bad_certificate) Failed to parse client certificates';
      expect(await served.waitForLog(esLines(answer.localPort, exception))).toMatch(esLines(answer.localPort, exception));
    });
  }

  it('inner and outer signature algorithms differ, TLS 1.3 from OpenSSL: Fleet Server refuses with an encrypted bad_certificate', async () => {
    const cert = mismatchedSignatureAlgorithms();
    const pem = `-----BEGIN CERTIFICATE-----\n${cert.der.toString('base64')}\n-----END CERTIFICATE-----\n`;
    const socket = tls.connect({
      port: served.fleetServerPort, host: '127.0.0.1', ca: fleetCa, servername: 'localhost',
      cert: pem, key: cert.key.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, minVersion: 'TLSv1.3',
    });
    const localPort = await new Promise<number>((resolve) => socket.once('connect', () => resolve(socket.localPort!)));
    const error = await new Promise<NodeJS.ErrnoException>((resolve) => socket.once('error', resolve));
    expect(error.code).toBe('ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE');
    const line = goLine(localPort, "tls: failed to parse client certificate: x509: inner and outer signature algorithm identifiers don't match");
    expect(await served.waitForLog(new RegExp(`^${escape(line)}$`))).toBe(line);
  });
});

describe('serve takes TLS 1.3 KeyUpdates as Go does', () => {
  it('answers a client that asks for two key updates (openssl s_client typing k twice), then serves its request', async () => {
    const openssl = requireTool(['openssl'], 'openssl');
    const child = execa(openssl, ['s_client', '-connect', `127.0.0.1:${served.fleetServerPort}`, '-tls1_3',
      '-CAfile', pki.certPath('fleet-ca'), '-servername', 'localhost'], { reject: false, stdin: 'pipe' });
    const typed = async (text: string) => {
      child.stdin!.write(text);
      await new Promise((r) => setTimeout(r, 300));
    };
    await new Promise((r) => setTimeout(r, 500));
    await typed('k\n');
    await typed('k\n');
    await typed('GET /api/status HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    await new Promise((r) => setTimeout(r, 500));
    child.stdin!.end();
    const result = await child;
    expect(result.stderr.match(/^KEYUPDATE$/gm)).toEqual(['KEYUPDATE', 'KEYUPDATE']);
    expect(result.stdout).toContain('HTTP/1.1 200 OK');
    expect(result.stdout).toContain('{"name":"fleet-server","status":"HEALTHY"}');
  });
});

describe('request targets the WHATWG URL parser refuses', () => {
  /** The status line a server answers `GET TARGET` with, over TLS without verification (the target is the point). */
  const statusOf = (port: number, target: string) => new Promise<string>((resolve, reject) => {
    const socket = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => {
      socket.write(`GET ${target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
    });
    socket.once('data', (chunk: Buffer) => { resolve(chunk.toString('latin1').split('\r\n')[0]!); socket.destroy(); });
    socket.on('error', reject);
  });

  it('routes `//` and `//[` as paths: Fleet Server answers 404, Elasticsearch 400, and neither dies', async () => {
    expect(await statusOf(served.fleetServerPort, '//')).toBe('HTTP/1.1 404 Not Found');
    expect(await statusOf(served.esPort, '//[')).toBe('HTTP/1.1 400 Bad Request');
    expect(served.process.exitCode).toBeNull();
  });
});

describe('after every hostile peer above', () => {
  it('serve is still running and Fleet Server still answers a proper client that half-closes after its request with 200', async () => {
    expect(served.process.exitCode).toBeNull();
    const body = await new Promise<string>((resolve, reject) => {
      const socket = tls.connect({ port: served.fleetServerPort, host: '127.0.0.1', ca: fleetCa, servername: 'localhost', allowHalfOpen: true } as tls.ConnectionOptions, () => {
        // Half-closed right after the request, as `curl` and `openssl s_client` with stdin closed do: Go answers, then closes.
        socket.end('GET /api/status HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
      });
      let text = '';
      socket.on('data', (chunk: Buffer) => { text += chunk.toString(); });
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(body).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(body.endsWith('{"name":"fleet-server","status":"HEALTHY"}')).toBe(true);
  });
});

describe('probe against a hostile server', () => {
  /** A server that reads the ClientHello and answers `reply`, recording what the client sends next. */
  async function hostileServer(reply: Buffer): Promise<{ port: number; received: () => Buffer; close: () => void }> {
    const received: Buffer[] = [];
    const server = net.createServer((socket) => {
      let answered = false;
      socket.on('data', (chunk: Buffer) => {
        if (answered) return void received.push(chunk);
        answered = true;
        socket.write(reply);
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { port: (server.address() as net.AddressInfo).port, received: () => Buffer.concat(received), close: () => server.close() };
  }

  it('a truncated ServerHello: the agent sends unexpected_message and reports Go\'s local error, exit 1', async () => {
    const server = await hostileServer(record(22, handshakeMessage(2, Buffer.from('0303aabbccdd', 'hex')), 0x0303));
    try {
      const result = await fleetTls(['probe', '--json', '--tls', '1.2', `https://127.0.0.1:${server.port}/api/status`]);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toBe('');
      const report = JSON.parse(result.stdout) as { modes: Record<string, { ok: boolean; message: string }> };
      expect(report.modes.full!.ok).toBe(false);
      expect(report.modes.full!.message).toMatch(/: local error: tls: unexpected message$/);
      expect(server.received().subarray(0, 7).toString('hex')).toBe(goAlert(UNEXPECTED));
    } finally {
      server.close();
    }
  });

  it('a server certificate Go\'s parser refuses: the agent sends bad_certificate and reports the parse error, exit 1', async () => {
    const cert = mismatchedSignatureAlgorithms();
    const server = tls.createServer({
      cert: `-----BEGIN CERTIFICATE-----\n${cert.der.toString('base64')}\n-----END CERTIFICATE-----\n`,
      key: cert.key.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      maxVersion: 'TLSv1.2',
    });
    const serverErrors: string[] = [];
    server.on('tlsClientError', (error: NodeJS.ErrnoException) => serverErrors.push(error.code ?? error.message));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as net.AddressInfo).port;
      const result = await fleetTls(['probe', '--json', `https://127.0.0.1:${port}/api/status`]);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toBe('');
      const report = JSON.parse(result.stdout) as { modes: Record<string, { ok: boolean; message: string }> };
      expect(report.modes.full!.message).toMatch(/: tls: failed to parse certificate from server: x509: inner and outer signature algorithm identifiers don't match$/);
      expect(serverErrors).toContain('ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE');
    } finally {
      server.close();
    }
  });
});
