import { describe, expect, it } from 'vitest';
import { ContentType, RecordReader, type TlsRecord } from '../../../src/wire/record.js';
import {
  HandshakeReassembler,
  HandshakeType,
  encodeCertificate,
  parseCertificate,
  parseClientHello,
  parseServerHello,
} from '../../../src/wire/handshake.js';
import { suiteInfo, type SuiteInfo } from '../../../src/wire/suites.js';
import {
  RunningTranscript,
  Tls13RecordProtection,
  finishedVerifyData,
  hkdfExpandLabel,
  trafficKeys,
  transcriptHash,
} from '../../../src/wire/tls13.js';
import { encodeFinished } from '../../../src/wire/tls12.js';
import * as rfc from './fixtures/rfc8448.js';

const suite = suiteInfo(0x1301) as SuiteInfo;

function record(bytes: Buffer): TlsRecord {
  const [only, ...rest] = new RecordReader().push(bytes);
  expect(rest).toHaveLength(0);
  return only as TlsRecord;
}

const serverFinished = encodeFinished(rfc.serverFinishedVerifyData);
const clientFinished = encodeFinished(rfc.clientFinishedVerifyData);
const serverFlight = Buffer.concat([rfc.encryptedExtensions, rfc.certificate, rfc.certificateVerify, serverFinished]);

describe('RFC 8448 section 3, simple 1-RTT handshake', () => {
  it('has the published lengths for every transcribed block', () => {
    expect([rfc.clientHello.length, rfc.serverHelloRecord.length, rfc.encryptedExtensions.length, rfc.certificate.length]).toEqual([196, 95, 40, 445]);
    expect([rfc.certificateVerify.length, rfc.newSessionTicket.length, rfc.serverFlightRecord.length]).toEqual([136, 205, 679]);
    expect([rfc.clientFinishedRecord.length, rfc.newSessionTicketRecord.length, rfc.clientApplicationRecord.length]).toEqual([58, 227, 72]);
    expect([rfc.serverApplicationRecord.length, rfc.clientAlertRecord.length, rfc.serverAlertRecord.length]).toEqual([72, 24, 24]);
  });

  it('derives every published traffic key and IV from its secret', () => {
    expect(trafficKeys(suite, rfc.secrets.serverHandshake)).toEqual(rfc.keys.serverHandshake);
    expect(trafficKeys(suite, rfc.secrets.clientHandshake)).toEqual(rfc.keys.clientHandshake);
    expect(trafficKeys(suite, rfc.secrets.serverApplication)).toEqual(rfc.keys.serverApplication);
    expect(trafficKeys(suite, rfc.secrets.clientApplication)).toEqual(rfc.keys.clientApplication);
  });

  it('derives the published finished key with HKDF-Expand-Label', () => {
    const finishedKey = hkdfExpandLabel('sha256', rfc.secrets.serverHandshake, 'finished', Buffer.alloc(0), 32);
    expect(finishedKey.toString('hex')).toBe('008d3b66f816ea559f96b537e885c31fc068bf492c652f01f288a1d8cdc19fc8');
  });

  it('hashes ClientHello and ServerHello to the published hello hash', () => {
    expect(transcriptHash(suite, [rfc.clientHello, rfc.serverHello])).toEqual(rfc.helloHash);
  });

  it('decrypts the server flight into EncryptedExtensions, Certificate, CertificateVerify and Finished', () => {
    const opened = new Tls13RecordProtection(suite, rfc.secrets.serverHandshake).open(record(rfc.serverFlightRecord));
    expect(opened.type).toBe(ContentType.Handshake);
    expect(opened.content).toEqual(serverFlight);
    const messages = new HandshakeReassembler().push(opened.content);
    expect(messages.map((m) => m.type)).toEqual([
      HandshakeType.EncryptedExtensions,
      HandshakeType.Certificate,
      HandshakeType.CertificateVerify,
      HandshakeType.Finished,
    ]);
  });

  it('encrypts the server flight back to the published record byte for byte', () => {
    const protection = new Tls13RecordProtection(suite, rfc.secrets.serverHandshake);
    expect(protection.seal(ContentType.Handshake, serverFlight)).toEqual(rfc.serverFlightRecord);
    expect(protection.sequence).toBe(1n);
  });

  it('recomputes both Finished messages from the transcript', () => {
    const upToCertificateVerify = [rfc.clientHello, rfc.serverHello, rfc.encryptedExtensions, rfc.certificate, rfc.certificateVerify];
    const serverVerify = finishedVerifyData(suite, rfc.secrets.serverHandshake, transcriptHash(suite, upToCertificateVerify));
    expect(serverVerify).toEqual(rfc.serverFinishedVerifyData);
    const clientVerify = finishedVerifyData(suite, rfc.secrets.clientHandshake, transcriptHash(suite, [...upToCertificateVerify, serverFinished]));
    expect(clientVerify.toString('hex')).toBe('a8ec436d677634ae525ac1fcebe11a039ec17694fac6e98527b642f2edd5ce61');
  });

  it('keeps an incremental transcript equal to the one-shot hash at every step', () => {
    const running = new RunningTranscript(suite);
    const all = [rfc.clientHello, rfc.serverHello, rfc.encryptedExtensions, rfc.certificate, rfc.certificateVerify, serverFinished];
    all.forEach((message, i) => {
      running.add(message);
      expect(running.digest()).toEqual(transcriptHash(suite, all.slice(0, i + 1)));
    });
  });

  it('decrypts the client Finished and encrypts it back byte for byte', () => {
    const opened = new Tls13RecordProtection(suite, rfc.secrets.clientHandshake).open(record(rfc.clientFinishedRecord));
    expect(opened).toEqual({ type: ContentType.Handshake, content: clientFinished });
    expect(new Tls13RecordProtection(suite, rfc.secrets.clientHandshake).seal(ContentType.Handshake, clientFinished)).toEqual(rfc.clientFinishedRecord);
  });

  it('decrypts the NewSessionTicket, application data and close_notify records in sequence', () => {
    const server = new Tls13RecordProtection(suite, rfc.secrets.serverApplication);
    expect(server.open(record(rfc.newSessionTicketRecord))).toEqual({ type: ContentType.Handshake, content: rfc.newSessionTicket });
    expect(server.open(record(rfc.serverApplicationRecord))).toEqual({ type: ContentType.ApplicationData, content: rfc.applicationPayload });
    expect(server.open(record(rfc.serverAlertRecord))).toEqual({ type: ContentType.Alert, content: Buffer.from([1, 0]) });
    const client = new Tls13RecordProtection(suite, rfc.secrets.clientApplication);
    expect(client.open(record(rfc.clientApplicationRecord))).toEqual({ type: ContentType.ApplicationData, content: rfc.applicationPayload });
    expect(client.open(record(rfc.clientAlertRecord))).toEqual({ type: ContentType.Alert, content: Buffer.from([1, 0]) });
  });

  it('encrypts the application records back byte for byte at their sequence numbers', () => {
    const server = new Tls13RecordProtection(suite, rfc.secrets.serverApplication);
    server.sequence = 1n;
    expect(server.seal(ContentType.ApplicationData, rfc.applicationPayload)).toEqual(rfc.serverApplicationRecord);
    expect(server.seal(ContentType.Alert, Buffer.from([1, 0]))).toEqual(rfc.serverAlertRecord);
    const client = new Tls13RecordProtection(suite, rfc.secrets.clientApplication);
    expect(client.seal(ContentType.ApplicationData, rfc.applicationPayload)).toEqual(rfc.clientApplicationRecord);
    expect(client.seal(ContentType.Alert, Buffer.from([1, 0]))).toEqual(rfc.clientAlertRecord);
  });

  it('rejects a record under the wrong key or at the wrong sequence number without advancing', () => {
    const wrongKey = new Tls13RecordProtection(suite, rfc.secrets.clientHandshake);
    expect(wrongKey.tryOpen(record(rfc.serverFlightRecord))).toBeUndefined();
    expect(wrongKey.sequence).toBe(0n);
    const wrongSequence = new Tls13RecordProtection(suite, rfc.secrets.serverApplication);
    expect(() => wrongSequence.open(record(rfc.serverApplicationRecord))).toThrow(
      expect.objectContaining({ code: 'FTH_WIRE_PROTOCOL' }),
    );
    const flipped = Buffer.from(rfc.clientFinishedRecord);
    flipped[10]! ^= 1;
    expect(new Tls13RecordProtection(suite, rfc.secrets.clientHandshake).tryOpen(record(flipped))).toBeUndefined();
  });

  it('parses the ClientHello as the trace describes it', () => {
    const hello = parseClientHello(rfc.clientHello.subarray(4));
    expect(hello.legacyVersion).toBe(0x0303);
    expect(hello.random.toString('hex')).toBe('cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7');
    expect(hello.sessionId).toHaveLength(0);
    expect(hello.cipherSuites).toEqual([0x1301, 0x1303, 0x1302]);
    expect(hello.serverName).toBe('server');
    expect(hello.supportedVersions).toEqual([0x0304]);
    expect(hello.keyShareGroups).toEqual([0x001d]);
    expect(hello.alpn).toEqual([]);
    expect(hello.extendedMasterSecret).toBe(false);
    expect(hello.extensions.map((e) => e.type)).toEqual([0, 0xff01, 10, 35, 51, 43, 13, 45, 28]);
    expect(hello.signatureAlgorithms).toHaveLength(15);
  });

  it('parses the ServerHello as the trace describes it', () => {
    const hello = parseServerHello(rfc.serverHello.subarray(4));
    expect(hello.cipherSuite).toBe(0x1301);
    expect(hello.selectedVersion).toBe(0x0304);
    expect(hello.legacyVersion).toBe(0x0303);
    expect(hello.isHelloRetryRequest).toBe(false);
    expect(hello.keyShareGroup).toBe(0x001d);
    expect(hello.random.toString('hex')).toBe('a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3e26928');
  });

  it('parses the Certificate into the one RSA certificate and re-encodes it identically', () => {
    const parsed = parseCertificate(rfc.certificate.subarray(4), true);
    expect(parsed.context).toHaveLength(0);
    expect(parsed.certificates).toHaveLength(1);
    const der = parsed.certificates[0] as Buffer;
    expect(der).toHaveLength(432);
    expect(der.subarray(0, 4).toString('hex')).toBe('308201ac');
    // Header (4) + context length (1) + list length (3) + entry length (3) precede the DER.
    expect(der).toEqual(rfc.certificate.subarray(11, 11 + 432));
    expect(der.toString('latin1')).toContain('rsa');
    expect(encodeCertificate(true, Buffer.alloc(0), parsed.certificates)).toEqual(rfc.certificate);
  });
});
