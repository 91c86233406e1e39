import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isHarnessError } from '../../../src/errors.js';
import { RecordReader, encodeRecord, looksLikeHttp, looksLikeTls, parseAlert } from '../../../src/wire/record.js';
import {
  HandshakeReassembler,
  encodeCertificate,
  parseCertificate,
  parseCertificateRequest,
  parseClientHello,
  parseServerHello,
} from '../../../src/wire/handshake.js';
import { parseKeylogLine } from '../../../src/wire/keylog.js';
import { CertificateParseError, parseCertificate as parseX509 } from '../../../src/x509/certificate.js';
import { suiteInfo } from '../../../src/wire/suites.js';
import { Tls13RecordProtection } from '../../../src/wire/tls13.js';
import { Tls12RecordProtection } from '../../../src/wire/tls12.js';
import { certificate, clientHello, serverHello } from './fixtures/rfc8448.js';

const runs = { numRuns: 400 };

/** The contract under fuzzing: a value, or FTH_WIRE_PROTOCOL; any other exception is a bug. */
function wireOutcome(fn: () => unknown): 'value' | 'refused' {
  try {
    fn();
    return 'value';
  } catch (error) {
    if (isHarnessError(error, 'FTH_WIRE_PROTOCOL')) return 'refused';
    throw error;
  }
}

const bytes = fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a));

/** A valid message with a few bytes overwritten and possibly cut short: reaches deep parser paths. */
function mutated(valid: Buffer): fc.Arbitrary<Buffer> {
  return fc
    .tuple(fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat(valid.length))
    .map(([edits, cut]) => {
      const copy = Buffer.from(valid);
      for (const [at, value] of edits) copy[at] = value;
      return copy.subarray(0, Math.max(cut, valid.length - 40));
    });
}

const parsers: Array<[string, (body: Buffer) => unknown, Buffer]> = [
  ['parseClientHello', parseClientHello, clientHello.subarray(4)],
  ['parseServerHello', parseServerHello, serverHello.subarray(4)],
  ['parseCertificate (TLS 1.3)', (b) => parseCertificate(b, true), certificate.subarray(4)],
  ['parseCertificate (TLS 1.2)', (b) => parseCertificate(b, false), encodeCertificate(false, Buffer.alloc(0), [certificate.subarray(11, 443)]).subarray(4)],
  ['parseCertificateRequest (TLS 1.3)', (b) => parseCertificateRequest(b, true), Buffer.from('000011000d000400020403002f000500030001aa', 'hex')],
  ['parseCertificateRequest (TLS 1.2)', (b) => parseCertificateRequest(b, false), Buffer.from('02014000040804040300040002aabb', 'hex')],
];

describe('parsers under random input', () => {
  for (const [name, parse, valid] of parsers) {
    it(`${name} returns a value or refuses with FTH_WIRE_PROTOCOL for random bytes`, () => {
      fc.assert(fc.property(bytes, (input) => void wireOutcome(() => parse(input))), runs);
    });

    it(`${name} returns a value or refuses with FTH_WIRE_PROTOCOL for mutated valid messages`, () => {
      expect(wireOutcome(() => parse(valid))).toBe('value');
      fc.assert(fc.property(mutated(valid), (input) => void wireOutcome(() => parse(input))), runs);
    });
  }

  it('parseKeylogLine and parseAlert refuse garbage with FTH_WIRE_PROTOCOL only', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (line) => void wireOutcome(() => parseKeylogLine(line))), runs);
    fc.assert(fc.property(bytes, (input) => void wireOutcome(() => parseKeylogLine(input))), runs);
    fc.assert(fc.property(bytes, (input) => void wireOutcome(() => parseAlert(input))), runs);
  });

  it('looksLikeTls and looksLikeHttp never throw', () => {
    fc.assert(fc.property(bytes, (input) => {
      expect(typeof looksLikeTls(input)).toBe('boolean');
      expect(typeof looksLikeHttp(input)).toBe('boolean');
    }), runs);
  });
});

describe('stream framing under random input', () => {
  it('RecordReader and HandshakeReassembler either frame or refuse random chunk sequences', () => {
    fc.assert(
      fc.property(fc.array(bytes, { maxLength: 8 }), (chunks) => {
        const reader = new RecordReader();
        const reassembler = new HandshakeReassembler();
        for (const chunk of chunks) {
          wireOutcome(() => reader.push(chunk));
          wireOutcome(() => reassembler.push(chunk));
        }
      }),
      runs,
    );
  });

  it('RecordReader yields the same records however a valid stream is cut into chunks', () => {
    const record = fc
      .tuple(fc.constantFrom(20, 21, 22, 23), fc.uint8Array({ maxLength: 300 }))
      .map(([type, fragment]) => encodeRecord(type, 0x0303, Buffer.from(fragment)));
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(2000), { maxLength: 6 }), (records, cuts) => {
        const stream = Buffer.concat(records);
        const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        const reader = new RecordReader();
        const out = [];
        let from = 0;
        for (const point of [...points, stream.length]) {
          out.push(...reader.push(stream.subarray(from, point)));
          from = point;
        }
        expect(out.map((r) => r.raw)).toEqual(records);
        expect(reader.buffered).toBe(0);
      }),
      runs,
    );
  });
});

describe('record protection under random records', () => {
  it('opening forged TLS 1.3 and TLS 1.2 records refuses with FTH_WIRE_PROTOCOL and never advances', () => {
    const tls13 = new Tls13RecordProtection(suiteInfo(0x1303)!, Buffer.alloc(32, 1));
    const gcm12 = new Tls12RecordProtection(suiteInfo(0xc02f)!, Buffer.alloc(16, 2), Buffer.alloc(4, 3));
    const chacha12 = new Tls12RecordProtection(suiteInfo(0xcca8)!, Buffer.alloc(32, 4), Buffer.alloc(12, 5));
    fc.assert(
      fc.property(fc.constantFrom(21, 22, 23), fc.uint8Array({ maxLength: 400 }), (type, fragment) => {
        const raw = encodeRecord(type, 0x0303, Buffer.from(fragment));
        const record = { type, version: 0x0303, fragment: raw.subarray(5), raw };
        for (const protection of [tls13, gcm12, chacha12]) {
          expect(wireOutcome(() => protection.open(record))).toBe('refused');
          expect(protection.sequence).toBe(0n);
        }
      }),
      runs,
    );
  });
});

describe('the certificate parser under mutated certificates', () => {
  it('parseCertificate (x509) returns a certificate or refuses with CertificateParseError, for any mutation of a real one', () => {
    const real = certificate.subarray(11, 443);
    expect(parseX509(real).subject).not.toBe('');
    let refused = 0;
    fc.assert(fc.property(mutated(real), (input) => {
      try {
        parseX509(input);
      } catch (error) {
        expect(error).toBeInstanceOf(CertificateParseError);
        refused++;
      }
    }), runs);
    expect(refused).toBeGreaterThan(0);
  });
});
