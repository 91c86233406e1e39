import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { TLS12, TLS13 } from '../../../src/wire/record.js';
import { HandshakeType, parseCertificate, parseCertificateRequest, parseServerHello } from '../../../src/wire/handshake.js';
import { suiteByName, type SuiteInfo } from '../../../src/wire/suites.js';
import { SecretStore, parseKeylogLine } from '../../../src/wire/keylog.js';
import { RunningTranscript, finishedVerifyData, tls13Transcript, transcriptHash } from '../../../src/wire/tls13.js';
import { finished12 } from '../../../src/wire/tls12.js';
import { makePki, removePki, subjectDer, type TestPki } from './helpers/pki.js';
import { runSession, runWithServerHook, type Capture } from './helpers/live.js';
import { forgeAfterServerFinished } from './helpers/forge.js';
import { decode, indexOfType, ofType, type Decoded } from './helpers/decode.js';

let pki: TestPki;
beforeAll(() => {
  pki = makePki();
});
afterAll(() => removePki(pki));

// Larger than one record (2^14), so application data spans records in both directions.
const clientMessage = Buffer.concat([Buffer.from('GET /api/status from the agent\n'), randomBytes(20000)]);
const serverMessage = Buffer.concat([Buffer.from('HTTP/1.1 200 OK from the fleet server\n'), randomBytes(17000)]);

function storeFrom(capture: Capture): SecretStore {
  const store = new SecretStore();
  for (const line of capture.keylog) store.set(parseKeylogLine(line));
  return store;
}

/** What every session must show once decrypted, whatever the version. */
function expectCommon(capture: Capture, decoded: Decoded, suite: SuiteInfo): void {
  expect(capture.serverReceived).toEqual(clientMessage);
  expect(capture.clientReceived).toEqual(serverMessage);
  expect(decoded.suite).toBe(suite);
  // Every record was either plaintext by protocol or opened: `decode` throws otherwise.
  for (const side of [decoded.client, decoded.server]) {
    expect(side.plaintextRecords + side.encryptedRecords + side.changeCipherSpecs).toBe(side.records.length);
    expect(side.alerts).toEqual([{ level: 1, description: 0, encrypted: true }]);
  }
  expect(decoded.client.applicationData).toEqual(clientMessage);
  expect(decoded.server.applicationData).toEqual(serverMessage);
  expect(decoded.clientHellos[0]!.serverName).toBe('localhost');
  expect(decoded.clientHellos[0]!.alpn).toEqual(['h2', 'http/1.1']);
  expect(decoded.clientHellos[0]!.cipherSuites).toContain(suite.id);
  expect(capture.clientCertificateSeenByServer).toEqual(pki.der.clientCert);
}

function certificateChecks(decoded: Decoded, tls13: boolean): void {
  const serverCertificate = ofType(decoded.server.messages, HandshakeType.Certificate);
  expect(serverCertificate).toHaveLength(1);
  expect(parseCertificate(serverCertificate[0]!.body, tls13).certificates).toEqual([pki.der.serverCert]);
  const clientCertificate = ofType(decoded.client.messages, HandshakeType.Certificate);
  expect(clientCertificate).toHaveLength(1);
  expect(parseCertificate(clientCertificate[0]!.body, tls13)).toEqual({ context: Buffer.alloc(0), certificates: [pki.der.clientCert] });
  const request = ofType(decoded.server.messages, HandshakeType.CertificateRequest);
  expect(request).toHaveLength(1);
  const parsed = parseCertificateRequest(request[0]!.body, tls13);
  expect(parsed.certificateAuthorities).toEqual([subjectDer(pki.der.clientCa)]);
  expect(parsed.certificateAuthorities[0]!.toString('latin1')).toContain('FTH Wire Test Client CA');
  expect(parsed.signatureAlgorithms).toContain(0x0403); // ecdsa_secp256r1_sha256, for the EC client key
  expect(parsed.certificateTypes).toEqual(tls13 ? [] : expect.arrayContaining([1, 64]));
}

function checkTls13(capture: Capture, suite: SuiteInfo, expectHelloRetry: boolean): void {
  const store = storeFrom(capture);
  const decoded = decode(capture.c2s, capture.s2c, store);
  expectCommon(capture, decoded, suite);
  expect(decoded.version).toBe(TLS13);
  expect(decoded.helloRetry).toBe(expectHelloRetry);
  expect(decoded.clientHellos).toHaveLength(expectHelloRetry ? 2 : 1);
  certificateChecks(decoded, true);

  const server = decoded.server.messages;
  const client = decoded.client.messages;
  expect(server.map((m) => m.type)).toEqual([
    ...(expectHelloRetry ? [HandshakeType.ServerHello] : []),
    HandshakeType.ServerHello,
    HandshakeType.EncryptedExtensions,
    HandshakeType.CertificateRequest,
    HandshakeType.Certificate,
    HandshakeType.CertificateVerify,
    HandshakeType.Finished,
    HandshakeType.NewSessionTicket,
    HandshakeType.NewSessionTicket,
  ]);
  const hellos = expectHelloRetry ? 2 : 1;
  expect(client.map((m) => m.type)).toEqual([
    ...Array<number>(hellos).fill(HandshakeType.ClientHello),
    HandshakeType.Certificate,
    HandshakeType.CertificateVerify,
    HandshakeType.Finished,
  ]);

  // Protocol order: CH1 [HRR CH2] SH EE CR Cert CV Fin(server), then the client's flight.
  const serverFinished = indexOfType(server, HandshakeType.Finished);
  const ordered = expectHelloRetry
    ? [client[0]!, server[0]!, client[1]!, ...server.slice(1, serverFinished + 1)]
    : [client[0]!, ...server.slice(0, serverFinished + 1)];
  const clientFlight = client.slice(hellos);
  const clientRandom = decoded.clientHellos[0]!.random;
  const serverSecret = store.get(clientRandom, 'SERVER_HANDSHAKE_TRAFFIC_SECRET')!;
  const clientSecret = store.get(clientRandom, 'CLIENT_HANDSHAKE_TRAFFIC_SECRET')!;
  const serverHash = tls13Transcript(suite, ordered.slice(0, -1).map((m) => m.raw), expectHelloRetry);
  expect(finishedVerifyData(suite, serverSecret, serverHash)).toEqual(server[serverFinished]!.body);
  const clientHash = transcriptHash(suite, [...ordered, ...clientFlight.slice(0, -1)].map((m) => m.raw));
  expect(finishedVerifyData(suite, clientSecret, clientHash)).toEqual(clientFlight.at(-1)!.body);

  const running = new RunningTranscript(suite);
  for (const m of [...ordered, ...clientFlight.slice(0, -1)]) running.add(m.raw);
  expect(running.digest()).toEqual(clientHash);
}

function checkTls12(capture: Capture, suite: SuiteInfo, ems: boolean): void {
  const store = storeFrom(capture);
  const decoded = decode(capture.c2s, capture.s2c, store);
  expectCommon(capture, decoded, suite);
  expect(decoded.version).toBe(TLS12);
  expect(decoded.clientHellos[0]!.extendedMasterSecret).toBe(ems);
  expect(decoded.serverHello.extendedMasterSecret).toBe(ems);
  certificateChecks(decoded, false);

  const server = decoded.server.messages;
  const client = decoded.client.messages;
  expect(server.map((m) => m.type)).toEqual([
    HandshakeType.ServerHello,
    HandshakeType.Certificate,
    HandshakeType.ServerKeyExchange,
    HandshakeType.CertificateRequest,
    HandshakeType.ServerHelloDone,
    HandshakeType.NewSessionTicket,
    HandshakeType.Finished,
  ]);
  expect(client.map((m) => m.type)).toEqual([
    HandshakeType.ClientHello,
    HandshakeType.Certificate,
    HandshakeType.ClientKeyExchange,
    HandshakeType.CertificateVerify,
    HandshakeType.Finished,
  ]);
  // Each side's Finished is its first encrypted record: sequence 0 after its ChangeCipherSpec.
  expect(decoded.client.changeCipherSpecs).toBe(1);
  expect(decoded.server.changeCipherSpecs).toBe(1);

  const master = store.get(decoded.clientHellos[0]!.random, 'CLIENT_RANDOM')!;
  expect(master).toHaveLength(48);
  const done = indexOfType(server, HandshakeType.ServerHelloDone);
  const beforeClientFinished = [client[0]!, ...server.slice(0, done + 1), ...client.slice(1, -1)];
  const clientVerify = finished12(suite, master, 'client finished', transcriptHash(suite, beforeClientFinished.map((m) => m.raw)));
  expect(clientVerify).toEqual(client.at(-1)!.body);
  // The server's Finished covers the client's Finished and the NewSessionTicket sent before it.
  const beforeServerFinished = [...beforeClientFinished, client.at(-1)!, ...server.slice(done + 1, -1)];
  const serverVerify = finished12(suite, master, 'server finished', transcriptHash(suite, beforeServerFinished.map((m) => m.raw)));
  expect(serverVerify).toEqual(server.at(-1)!.body);
}

describe('live Node TLS 1.3 sessions, decrypted from the key log', () => {
  for (const name of ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256']) {
    it(`decrypts every record, parses both certificates and the CA list, and recomputes both Finished messages with ${name}`, async () => {
      const suite = suiteByName(name)!;
      const capture = await runSession(pki, { version: 'TLSv1.3', ciphers: name, clientMessage, serverMessage });
      checkTls13(capture, suite, false);
    });
  }

  it('folds ClientHello1 into message_hash after a HelloRetryRequest and still matches both Finished messages', async () => {
    const suite = suiteByName('TLS_AES_128_GCM_SHA256')!;
    // The client's first key share is X25519, which the server refuses: it must ask again for P-256.
    const capture = await runSession(pki, {
      version: 'TLSv1.3',
      ciphers: suite.iana,
      clientCurves: 'X25519:P-256',
      serverCurves: 'P-256',
      clientMessage,
      serverMessage,
    });
    checkTls13(capture, suite, true);
    const decoded = decode(capture.c2s, capture.s2c, storeFrom(capture));
    expect(decoded.clientHellos.map((h) => h.keyShareGroups)).toEqual([[0x001d], [0x0017]]);
    const hrr = parseServerHello(decoded.server.messages[0]!.body);
    expect(hrr.isHelloRetryRequest).toBe(true);
    expect(hrr.keyShareGroup).toBe(0x0017);
  });
});

describe('live Node TLS 1.2 sessions, decrypted from the key log', () => {
  for (const name of ['ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-RSA-CHACHA20-POLY1305']) {
    for (const ems of [true, false]) {
      it(`decrypts every record and recomputes both Finished messages with ${name} ${ems ? 'and' : 'without'} Extended Master Secret`, async () => {
        const suite = suiteByName(name)!;
        const capture = await runSession(pki, {
          version: 'TLSv1.2',
          ciphers: name,
          ...(ems ? {} : { clientSecureOptions: 1 }),
          clientMessage,
          serverMessage,
        });
        checkTls12(capture, suite, ems);
      });
    }
  }
});

describe('forged alerts reach a Node client as if the server had sent them', () => {
  const cases: Array<[string, number, string]> = [
    ['TLS_AES_128_GCM_SHA256', 48, 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA'],
    ['TLS_AES_256_GCM_SHA384', 42, 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE'],
    ['TLS_CHACHA20_POLY1305_SHA256', 116, 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'],
  ];
  for (const [name, description, code] of cases) {
    it(`makes the client report ${code} for alert ${description} sealed at server application sequence 0 with ${name}`, async () => {
      const result = await runWithServerHook(pki, { version: 'TLSv1.3', ciphers: name }, forgeAfterServerFinished('TLSv1.3', description, 0n));
      expect(result.clientHandshakeCompleted).toBe(true);
      expect(result.clientError?.code).toBe(code);
    });
  }

  it('makes the client report a bad record MAC when the forged alert uses the wrong sequence number', async () => {
    const result = await runWithServerHook(pki, { version: 'TLSv1.3', ciphers: 'TLS_AES_128_GCM_SHA256' }, forgeAfterServerFinished('TLSv1.3', 48, 1n));
    expect(result.clientHandshakeCompleted).toBe(true);
    expect(result.clientError?.code).toBe('ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC');
  });

  it('makes a TLS 1.2 client report ERR_SSL_TLSV1_ALERT_UNKNOWN_CA for alert 48 sealed right after the server Finished', async () => {
    // The server's Finished was its record 0 under the new keys, so the forgery is record 1.
    const result = await runWithServerHook(pki, { version: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' }, forgeAfterServerFinished('TLSv1.2', 48, 1n));
    expect(result.clientHandshakeCompleted).toBe(true);
    expect(result.clientError?.code).toBe('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA');
  });
});
