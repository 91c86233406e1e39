import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { authorities, identity } from '../../src/api.js';
import { FakeElasticsearch } from '../../src/components/elasticsearch.js';
import type { Pki } from '../../src/pki/store.js';
import { javaServers, jsseWordingOf, type JavaServers } from '../helpers/java-peer.js';
import { sharedPki } from '../helpers/pki.js';
import { javaTool } from '../helpers/tools.js';
import { clientHelloRecord, defaultExtensions, extension, tls12ClientHelloRecord } from '../unit/wire/helpers/hostile.js';

// A missing JDK fails this file with one line, never a skip.
javaTool();
vi.setConfig({ testTimeout: 60_000, hookTimeout: 180_000 });

/*
 * Issue 9: the fake Elasticsearch reads a hostile client's records as the JDK's SSLEngine does,
 * not as OpenSSL would. Each case sends the same bytes to OpenJDK's own engine
 * (test/interop/java/TlsPeer.java, driven as Netty drives it) and to the fake, and expects the
 * same alert on the wire and the JDK's exception in the fake's Netty log line. Bytes Netty's
 * SslHandler refuses before the engine sees them (not a TLS record) stay Netty's.
 */
let pki: Pki;
let java: JavaServers;
let fake: FakeElasticsearch;

beforeAll(async () => {
  pki = await sharedPki();
  java = await javaServers([{ name: 'es', cert: pki.certPath('es-cert'), key: pki.keyPath('es-cert'), trust: pki.certPath('es-ca'), clientAuth: 'optional' }]);
  fake = await FakeElasticsearch.start({
    jsse: jsseWordingOf(java.version), identity: identity(pki, 'es-cert'), clientCertificateAuthorities: authorities(pki, 'es-ca'), clientAuthentication: 'optional',
  });
});
afterAll(async () => {
  await java?.stop();
  await fake?.close();
});

/** Writes the bytes and reads until the server closes (`now`: half-closes right after writing). */
function exchange(port: number, bytes: Buffer): Promise<{ bytes: Buffer; localPort: number }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let localPort = 0;
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => {
      localPort = socket.localPort!;
      socket.write(bytes);
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => { socket.destroy(); resolve({ bytes: Buffer.concat(chunks), localPort }); });
    socket.on('error', reject);
  });
}

function records(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at + 5 <= bytes.length; at += 5 + bytes.readUInt16BE(at + 3)) out.push(bytes.subarray(at, at + 5 + bytes.readUInt16BE(at + 3)));
  return out;
}

/** The last record the server wrote: a plaintext alert whole, a protected one by its type alone. */
function lastRecord(bytes: Buffer): string {
  const last = records(bytes).at(-1);
  if (!last) return 'nothing';
  return last[0] === 23 ? 'protected record' : last.toString('hex');
}

const alert = (level: number, description: number) => Buffer.from([21, 3, 3, 0, 2, level, description]).toString('hex');
const hello12 = () => tls12ClientHelloRecord();
const hello13 = () => clientHelloRecord();
const after12 = (header: string, body: Buffer = randomBytes(5)) => Buffer.concat([hello12(), Buffer.from(header, 'hex'), body]);

/** [case, bytes, the server's last record, the JDK's exception (null: Elasticsearch logs nothing at WARN)]. */
const CASES: ReadonlyArray<readonly [string, () => Buffer, string, RegExp | null]> = [
  ['application data as the first record: internal_error', () => Buffer.from('170301000501020304ff', 'hex'), alert(2, 80),
    /^javax\.net\.ssl\.SSLException: Unrecognized SSL message, plaintext connection\?$/],
  ['a ChangeCipherSpec as the first record: internal_error', () => Buffer.from('140301000101', 'hex'), alert(2, 80),
    /^javax\.net\.ssl\.SSLException: Unrecognized SSL message, plaintext connection\?$/],
  ['a fatal alert as the first record: nothing back, the alert named', () => Buffer.from('15030100020228', 'hex'), 'nothing',
    /^javax\.net\.ssl\.SSLHandshakeException: (\(handshake_failure\) )?Received fatal alert: handshake_failure$/],
  ['close_notify before the hello: JSSE\'s own close_notify, logged only at DEBUG', () => Buffer.from('15030100020100', 'hex'), alert(1, 0), null],
  ['a warning alert before the hello: handshake_failure', () => Buffer.from('15030100020128', 'hex'), alert(2, 40),
    /^javax\.net\.ssl\.SSLHandshakeException: (\(handshake_failure\) )?Received handshake warning: handshake_failure$/],
  ['TLS 1.2: plaintext application data after the flight: unexpected_message', () => after12('1703030005'), alert(2, 10),
    /^javax\.net\.ssl\.SSLProtocolException: (\(unexpected_message\) )?Receiving application data before handshake complete$/],
  ['TLS 1.2: a ChangeCipherSpec of two bytes: unexpected_message', () => after12('1403030002', Buffer.from('0101', 'hex')), alert(2, 10),
    /^javax\.net\.ssl\.SSLProtocolException: (\(unexpected_message\) )?Malformed or unexpected ChangeCipherSpec message$/],
  ['TLS 1.2: an alert of three bytes: illegal_parameter', () => after12('1503030003', Buffer.from('020202', 'hex')), alert(2, 47),
    /^javax\.net\.ssl\.SSLHandshakeException: (\(illegal_parameter\) )?Invalid Alert message: no sufficient data$/],
  ['TLS 1.2: a second ClientHello: unexpected_message', () => Buffer.concat([hello12(), hello12()]), alert(2, 10),
    /^javax\.net\.ssl\.SSLProtocolException: (\(unexpected_message\) )?Unexpected handshake message: client_hello$/],
  ['TLS 1.3: a record too short for a tag: handshake_failure, sealed', () => Buffer.concat([hello13(), Buffer.from('1703030005', 'hex'), randomBytes(5)]), 'protected record',
    /^javax\.net\.ssl\.SSLHandshakeException: (\(handshake_failure\) )?Insufficient buffer remaining for AEAD cipher fragment \(5\)\. Needs to be more than tag size \(16\)$/],
  ['TLS 1.3: a plaintext alert after the ServerHello is read as protected too', () => Buffer.concat([hello13(), Buffer.from('15030300020228', 'hex')]), 'protected record',
    /^javax\.net\.ssl\.SSLHandshakeException: (\(handshake_failure\) )?Insufficient buffer remaining for AEAD cipher fragment \(2\)\. Needs to be more than tag size \(16\)$/],
  ['TLS 1.3: a record that does not open: bad_record_mac, sealed', () => Buffer.concat([hello13(), Buffer.from('140303000101', 'hex'), Buffer.from('1703030025', 'hex'), randomBytes(0x25)]),
    'protected record', /^javax\.net\.ssl\.SSLException: (\(bad_record_mac\) )?Tag mismatch!$/],
  ['a ClientHello repeating an extension: illegal_parameter', () => clientHelloRecord({ extensions: [...defaultExtensions(), extension(10, Buffer.from('0002001d', 'hex'))] }),
    alert(2, 47), /^javax\.net\.ssl\.SSLHandshakeException: (\(illegal_parameter\) )?Duplicate extension with ID: 10$/],
  ['a TLS 1.3 ClientHello without key_share: missing_extension, named', () => clientHelloRecord({ extensions: defaultExtensions().filter((e) => e.type !== 51) }),
    alert(2, 109), /^javax\.net\.ssl\.SSLHandshakeException: (\(missing_extension\) )?No key_share extension to work with the supported_groups extension$/],
  ['a TLS 1.3 ClientHello without supported_groups: missing_extension, named', () => clientHelloRecord({ extensions: defaultExtensions().filter((e) => e.type !== 10) }),
    alert(2, 109), /^javax\.net\.ssl\.SSLHandshakeException: (\(missing_extension\) )?No supported_groups extension to work with the key_share extension$/],
  ['a TLS 1.3 ClientHello without signature_algorithms: missing_extension, named', () => clientHelloRecord({ extensions: defaultExtensions().filter((e) => e.type !== 13) }),
    alert(2, 109), /^javax\.net\.ssl\.SSLHandshakeException: (\(missing_extension\) )?No mandatory signature_algorithms extension in the received ClientHello handshake message$/],
];

describe('Elasticsearch reads a hostile client\'s records as the JDK\'s SSLEngine does', () => {
  it.each(CASES)('%s', async (_name, bytes, last, exception) => {
    const sent = bytes();
    const [real, ours] = await Promise.all([exchange(java.port('es'), sent), exchange(fake.endpoint.port, sent)]);
    expect(lastRecord(real.bytes)).toBe(last);
    expect(lastRecord(ours.bytes)).toBe(last);
    const event = await java.event('es', real.localPort);
    expect(event).toMatchObject({ event: 'failed' });
    const thrown = event?.event === 'failed' ? event.chain[0]! : '';
    const logged = (await fake.connection(ours.localPort))?.logLine;
    if (exception === null) {
      expect(thrown).toMatch(/Received close_notify during handshake$/);
      expect(logged).toBeUndefined();
      return;
    }
    expect(thrown).toMatch(exception);
    expect(logged?.split('\n')[1]).toBe(`io.netty.handler.codec.DecoderException: ${thrown}`);
  });
});
