import { describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { ContentType, RecordReader, type TlsRecord } from '../../../src/wire/record.js';
import { HELLO_RETRY_REQUEST_RANDOM, HandshakeType, encodeHandshake } from '../../../src/wire/handshake.js';
import { suiteInfo, type SuiteInfo } from '../../../src/wire/suites.js';
import {
  RunningTranscript,
  Tls13RecordProtection,
  hkdfExpand,
  hkdfExpandLabel,
  hkdfExtract,
  messageHash,
  nextTrafficSecret,
  tls13Transcript,
  transcriptHash,
} from '../../../src/wire/tls13.js';

const wireError = expect.objectContaining({ name: 'HarnessError', code: 'FTH_WIRE_PROTOCOL' });
const aes128 = suiteInfo(0x1301) as SuiteInfo;
const aes256 = suiteInfo(0x1302) as SuiteInfo;

function record(bytes: Buffer): TlsRecord {
  return new RecordReader().push(bytes)[0]!;
}

describe('HKDF', () => {
  it('reproduces RFC 5869 test case 1 with extract then expand', () => {
    const prk = hkdfExtract('sha256', Buffer.from('000102030405060708090a0b0c', 'hex'), Buffer.alloc(22, 0x0b));
    expect(prk.toString('hex')).toBe('077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5');
    expect(hkdfExpand('sha256', prk, Buffer.from('f0f1f2f3f4f5f6f7f8f9', 'hex'), 42).toString('hex')).toBe(
      '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
    );
  });

  it('builds the HkdfLabel with the tls13 prefix and the output length', () => {
    const secret = randomBytes(48);
    const info = Buffer.concat([Buffer.from([0, 48, 17]), Buffer.from('tls13 traffic upd'), Buffer.from([0])]);
    expect(hkdfExpandLabel('sha384', secret, 'traffic upd', Buffer.alloc(0), 48)).toEqual(hkdfExpand('sha384', secret, info, 48));
    expect(nextTrafficSecret(aes256, secret)).toEqual(hkdfExpand('sha384', secret, info, 48));
  });
});

describe('Tls13RecordProtection', () => {
  it('pads inner plaintext on request and strips the padding on open', () => {
    const secret = randomBytes(32);
    const sealed = new Tls13RecordProtection(aes128, secret).seal(ContentType.ApplicationData, Buffer.from('ping'), 100);
    expect(sealed.readUInt16BE(3)).toBe(4 + 1 + 100 + 16);
    expect(new Tls13RecordProtection(aes128, secret).open(record(sealed))).toEqual({ type: ContentType.ApplicationData, content: Buffer.from('ping') });
  });

  it('hides the inner type behind outer type 23 and version 0x0303', () => {
    const sealed = new Tls13RecordProtection(suiteInfo(0x1303)!, randomBytes(32)).seal(ContentType.Alert, Buffer.from([2, 48]));
    expect(sealed.subarray(0, 5).toString('hex')).toBe('1703030013');
  });

  it('refuses records that cannot be TLS 1.3 ciphertext and content that is all padding', () => {
    const secret = randomBytes(32);
    const protection = new Tls13RecordProtection(aes128, secret);
    expect(() => protection.open(record(Buffer.from('16030300020000', 'hex')))).toThrow(/outer type 22/);
    expect(() => protection.open(record(Buffer.concat([Buffer.from('1703030010', 'hex'), Buffer.alloc(16)])))).toThrow(wireError);
    const allPadding = new Tls13RecordProtection(aes128, secret).seal(0, Buffer.alloc(0), 3);
    expect(() => new Tls13RecordProtection(aes128, secret).open(record(allPadding))).toThrow(/all padding/);
    expect(() => protection.seal(23, Buffer.alloc(16385))).toThrow(wireError);
  });

  it('refuses TLS 1.2 and CBC suites', () => {
    expect(() => new Tls13RecordProtection(suiteInfo(0xc02f)!, randomBytes(32))).toThrow(expect.objectContaining({ code: 'FTH_WIRE_UNSUPPORTED' }));
  });
});

describe('transcripts after a HelloRetryRequest', () => {
  const clientHello1 = encodeHandshake(HandshakeType.ClientHello, randomBytes(200));
  const hrr = encodeHandshake(HandshakeType.ServerHello, Buffer.concat([Buffer.from([3, 3]), HELLO_RETRY_REQUEST_RANDOM, randomBytes(20)]));
  const clientHello2 = encodeHandshake(HandshakeType.ClientHello, randomBytes(220));

  it('replaces ClientHello1 with a message_hash of it', () => {
    const synthetic = messageHash(aes256, clientHello1);
    expect(synthetic.subarray(0, 4).toString('hex')).toBe('fe000030');
    expect(synthetic.subarray(4)).toEqual(createHash('sha384').update(clientHello1).digest());
    const expected = createHash('sha384').update(synthetic).update(hrr).update(clientHello2).digest();
    expect(tls13Transcript(aes256, [clientHello1, hrr, clientHello2], true)).toEqual(expected);
    expect(transcriptHash(aes256, [clientHello1, hrr, clientHello2])).toEqual(expected);
    expect(tls13Transcript(aes256, [clientHello1, hrr, clientHello2], false)).not.toEqual(expected);
  });

  it('folds ClientHello1 in the running transcript when the HelloRetryRequest arrives', () => {
    const running = new RunningTranscript(aes256);
    running.add(clientHello1);
    expect(running.digest()).toEqual(createHash('sha384').update(clientHello1).digest());
    running.add(hrr);
    running.add(clientHello2);
    expect(running.digest()).toEqual(transcriptHash(aes256, [clientHello1, hrr, clientHello2]));
  });
});
