import { describe, expect, it } from 'vitest';
import {
  ExtensionType,
  HELLO_RETRY_REQUEST_RANDOM,
  HandshakeReassembler,
  HandshakeType,
  MAX_HANDSHAKE_MESSAGE,
  encodeCertificate,
  encodeHandshake,
  parseCertificate,
  parseCertificateRequest,
  parseClientHello,
  parseServerHello,
} from '../../../src/wire/handshake.js';
import { certificate, clientHello, encryptedExtensions, serverHello } from './fixtures/rfc8448.js';

const wireError = expect.objectContaining({ name: 'HarnessError', code: 'FTH_WIRE_PROTOCOL' });

// Tiny TLS presentation-language builders, so each case shows its structure.
const u8 = (n: number): Buffer => Buffer.from([n]);
const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);
function vec(prefix: 1 | 2 | 3, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(prefix);
  head.writeUIntBE(body.length, 0, prefix);
  return Buffer.concat([head, body]);
}
const ext = (type: number, data: Buffer): Buffer => Buffer.concat([u16(type), vec(2, data)]);
const random = Buffer.alloc(32, 0x5a);

function helloBody(extensions: Buffer[] | undefined, suites: Buffer = vec(2, u16(0xc02f), u16(0x1301))): Buffer {
  const head = Buffer.concat([u16(0x0303), random, vec(1, Buffer.alloc(32, 7)), suites, vec(1, u8(0))]);
  return extensions === undefined ? head : Buffer.concat([head, vec(2, ...extensions)]);
}

describe('HandshakeReassembler', () => {
  const flight = Buffer.concat([encryptedExtensions, certificate]);

  it('joins a message split across records and splits messages sharing one', () => {
    const reassembler = new HandshakeReassembler();
    expect(reassembler.push(flight.subarray(0, 2))).toEqual([]);
    const first = reassembler.push(flight.subarray(2, 100));
    expect(first.map((m) => m.type)).toEqual([HandshakeType.EncryptedExtensions]);
    expect(reassembler.buffered).toBe(60);
    const second = reassembler.push(flight.subarray(100));
    expect(second.map((m) => m.raw)).toEqual([certificate]);
    expect(second[0]!.body).toEqual(certificate.subarray(4));
    expect(reassembler.buffered).toBe(0);
  });

  it('yields the same messages when fed one byte at a time', () => {
    const reassembler = new HandshakeReassembler();
    const out = [];
    for (const byte of flight) out.push(...reassembler.push(Buffer.from([byte])));
    expect(out.map((m) => m.raw)).toEqual([encryptedExtensions, certificate]);
  });

  it('refuses a message longer than any peer sends instead of buffering it', () => {
    const header = Buffer.from([HandshakeType.Certificate, 0, 0, 0]);
    header.writeUIntBE(MAX_HANDSHAKE_MESSAGE + 1, 1, 3);
    expect(() => new HandshakeReassembler().push(header)).toThrow(wireError);
  });

  it('encodes a header that the reassembler reads back', () => {
    const message = encodeHandshake(HandshakeType.KeyUpdate, u8(1));
    expect(message.toString('hex')).toBe('1800000101');
    expect(new HandshakeReassembler().push(message)).toEqual([{ type: 24, body: u8(1), raw: message }]);
  });
});

describe('parseClientHello', () => {
  it('reads SNI, ALPN, EMS, versions, key shares and signature algorithms', () => {
    const hello = parseClientHello(
      helloBody([
        ext(ExtensionType.ServerName, vec(2, u8(0), vec(2, Buffer.from('fleet.local')), u8(0), vec(2, Buffer.from('second')))),
        ext(ExtensionType.Alpn, vec(2, vec(1, Buffer.from('h2')), vec(1, Buffer.from('http/1.1')))),
        ext(ExtensionType.ExtendedMasterSecret, Buffer.alloc(0)),
        ext(ExtensionType.SupportedVersions, vec(1, u16(0x0304), u16(0x0303))),
        ext(ExtensionType.KeyShare, vec(2, u16(0x001d), vec(2, Buffer.alloc(32, 1)), u16(0x0017), vec(2, Buffer.alloc(65, 4)))),
        ext(ExtensionType.SignatureAlgorithms, vec(2, u16(0x0804), u16(0x0403))),
        ext(0x4469, Buffer.from('unknown extensions are kept, not parsed')),
      ]),
    );
    expect(hello.serverName).toBe('fleet.local');
    expect(hello.alpn).toEqual(['h2', 'http/1.1']);
    expect(hello.extendedMasterSecret).toBe(true);
    expect(hello.supportedVersions).toEqual([0x0304, 0x0303]);
    expect(hello.keyShareGroups).toEqual([0x001d, 0x0017]);
    expect(hello.signatureAlgorithms).toEqual([0x0804, 0x0403]);
    expect(hello.cipherSuites).toEqual([0xc02f, 0x1301]);
    expect(hello.sessionId).toEqual(Buffer.alloc(32, 7));
    expect(hello.extensions.at(-1)).toEqual({ type: 0x4469, data: Buffer.from('unknown extensions are kept, not parsed') });
  });

  it('reads a hello without an extensions block as TLS 1.2 with nothing offered', () => {
    const hello = parseClientHello(helloBody(undefined));
    expect(hello).toMatchObject({ supportedVersions: [0x0303], alpn: [], extendedMasterSecret: false, keyShareGroups: [], extensions: [] });
    expect(hello.serverName).toBeUndefined();
  });

  it('rejects truncation, odd suite lists, duplicate extensions, trailing bytes and a non-empty EMS', () => {
    const good = parseClientHello(clientHello.subarray(4));
    expect(good.serverName).toBe('server');
    expect(() => parseClientHello(clientHello.subarray(4, 100))).toThrow(wireError);
    expect(() => parseClientHello(helloBody([], vec(2, u16(1), u8(2))))).toThrow(/cipher_suites has odd length 3/);
    const sni = ext(ExtensionType.ServerName, vec(2, u8(0), vec(2, Buffer.from('a'))));
    expect(() => parseClientHello(helloBody([sni, sni]))).toThrow(/duplicate extension 0/);
    expect(() => parseClientHello(Buffer.concat([helloBody([]), u8(0)]))).toThrow(/trailing/);
    expect(() => parseClientHello(helloBody([ext(23, u8(0))]))).toThrow(/must be empty/);
  });
});

describe('parseServerHello', () => {
  it('reads the RFC 8448 ServerHello as TLS 1.3 with x25519', () => {
    expect(parseServerHello(serverHello.subarray(4))).toMatchObject({ selectedVersion: 0x0304, cipherSuite: 0x1301, keyShareGroup: 0x1d });
  });

  it('recognises a HelloRetryRequest by its random and reads the group it asks for', () => {
    const body = Buffer.concat([u16(0x0303), HELLO_RETRY_REQUEST_RANDOM, vec(1), u16(0x1302), u8(0),
      vec(2, ext(ExtensionType.SupportedVersions, u16(0x0304)), ext(ExtensionType.KeyShare, u16(0x0017)))]);
    expect(parseServerHello(body)).toMatchObject({ isHelloRetryRequest: true, keyShareGroup: 0x0017, selectedVersion: 0x0304 });
  });

  it('reads a TLS 1.2 ServerHello with and without Extended Master Secret', () => {
    const plain = Buffer.concat([u16(0x0303), random, vec(1), u16(0xc02f), u8(0)]);
    expect(parseServerHello(plain)).toMatchObject({ selectedVersion: 0x0303, extendedMasterSecret: false, isHelloRetryRequest: false, extensions: [] });
    const ems = Buffer.concat([plain, vec(2, ext(ExtensionType.ExtendedMasterSecret, Buffer.alloc(0)), ext(0xff01, u8(0)))]);
    expect(parseServerHello(ems).extendedMasterSecret).toBe(true);
  });

  it('rejects a supported_versions extension that is not exactly one version', () => {
    const bad = Buffer.concat([u16(0x0303), random, vec(1), u16(0x1301), u8(0), vec(2, ext(ExtensionType.SupportedVersions, vec(1, u16(0x0304))))]);
    expect(() => parseServerHello(bad)).toThrow(wireError);
  });
});

describe('Certificate messages', () => {
  const chain = [Buffer.from('30030201aa', 'hex'), Buffer.from('3003020155', 'hex')];

  it('round-trips a TLS 1.2 chain through encodeCertificate and parseCertificate', () => {
    const message = encodeCertificate(false, Buffer.alloc(0), chain);
    expect(message.toString('hex')).toBe('0b000013' + '000010' + '00000530030201aa' + '0000053003020155');
    expect(parseCertificate(message.subarray(4), false)).toEqual({ context: Buffer.alloc(0), certificates: chain });
  });

  it('round-trips a TLS 1.3 chain with a request context and skips entry extensions', () => {
    const message = encodeCertificate(true, Buffer.from([9, 9]), chain);
    expect(parseCertificate(message.subarray(4), true)).toEqual({ context: Buffer.from([9, 9]), certificates: chain });
    const withStatus = Buffer.concat([vec(1), vec(3, vec(3, chain[0]!), vec(2, ext(5, Buffer.from('ocsp'))))]);
    expect(parseCertificate(withStatus, true).certificates).toEqual([chain[0]]);
  });

  it('reads an empty list (a client without a certificate) and rejects an empty entry', () => {
    expect(parseCertificate(Buffer.from('00000000', 'hex'), true).certificates).toEqual([]);
    expect(parseCertificate(Buffer.from('000000', 'hex'), false).certificates).toEqual([]);
    expect(() => parseCertificate(Buffer.from('000003000000', 'hex'), false)).toThrow(wireError);
  });
});

describe('parseCertificateRequest', () => {
  const caA = Buffer.from('300f310d300b06035504030c0443412d41', 'hex');
  const caB = Buffer.from('300f310d300b06035504030c0443412d42', 'hex');

  it('reads certificate types, signature algorithms and CA names in TLS 1.2 form', () => {
    const body = Buffer.concat([vec(1, u8(1), u8(64)), vec(2, u16(0x0804), u16(0x0403)), vec(2, vec(2, caA), vec(2, caB))]);
    expect(parseCertificateRequest(body, false)).toEqual({
      context: Buffer.alloc(0),
      certificateTypes: [1, 64],
      signatureAlgorithms: [0x0804, 0x0403],
      certificateAuthorities: [caA, caB],
    });
  });

  it('reads the TLS 1.3 extensions form, with and without certificate_authorities', () => {
    const sigs = ext(ExtensionType.SignatureAlgorithms, vec(2, u16(0x0403)));
    const cas = ext(ExtensionType.CertificateAuthorities, vec(2, vec(2, caA)));
    expect(parseCertificateRequest(Buffer.concat([vec(1, u8(3)), vec(2, sigs, cas)]), true)).toEqual({
      context: u8(3),
      certificateTypes: [],
      signatureAlgorithms: [0x0403],
      certificateAuthorities: [caA],
    });
    expect(parseCertificateRequest(Buffer.concat([vec(1), vec(2, sigs)]), true).certificateAuthorities).toEqual([]);
  });

  it('rejects a TLS 1.3 request without signature_algorithms', () => {
    expect(() => parseCertificateRequest(Buffer.concat([vec(1), vec(2)]), true)).toThrow(/signature_algorithms extension missing/);
  });
});
