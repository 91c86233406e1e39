import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { ContentType, RecordReader, type TlsRecord } from '../../../src/wire/record.js';
import { suiteByName, type SuiteInfo } from '../../../src/wire/suites.js';
import { Tls12RecordProtection, encodeFinished, finished12, fixedIvLength, keyBlock, prf } from '../../../src/wire/tls12.js';

const wireError = expect.objectContaining({ name: 'HarnessError', code: 'FTH_WIRE_PROTOCOL' });
const suite = (name: string): SuiteInfo => suiteByName(name)!;

function record(bytes: Buffer): TlsRecord {
  return new RecordReader().push(bytes)[0]!;
}

/** OpenSSL's own TLS1-PRF as the oracle; its seed is label || seed, as in RFC 5246. */
function opensslPrf(digest: string, secret: Buffer, label: string, seed: Buffer, length: number): Buffer {
  const out = execFileSync('openssl', ['kdf', '-keylen', String(length), '-kdfopt', `digest:${digest}`, '-kdfopt', `hexsecret:${secret.toString('hex')}`,
    '-kdfopt', `hexseed:${Buffer.concat([Buffer.from(label), seed]).toString('hex')}`, 'TLS1-PRF']).toString();
  return Buffer.from(out.replace(/[^0-9a-fA-F]/g, ''), 'hex');
}

describe('prf', () => {
  it('matches OpenSSL TLS1-PRF for SHA-256 and SHA-384 at lengths around block boundaries', () => {
    const secret = Buffer.from('9bbe436ba940f017b17652849a71db35', 'hex');
    const seed = Buffer.from('a0ba9f936cda311827a6f796ffd5198c', 'hex');
    for (const [hash, digest] of [['sha256', 'SHA256'], ['sha384', 'SHA384']] as const) {
      for (const length of [12, 32, 48, 100]) {
        expect(prf(hash, secret, 'test label', seed, length)).toEqual(opensslPrf(digest, secret, 'test label', seed, length));
      }
    }
  });
});

describe('keyBlock', () => {
  it('splits key expansion into client and server keys and implicit IVs', () => {
    const master = randomBytes(48);
    const clientRandom = randomBytes(32);
    const serverRandom = randomBytes(32);
    const gcm = suite('ECDHE-RSA-AES256-GCM-SHA384');
    const block = prf('sha384', master, 'key expansion', Buffer.concat([serverRandom, clientRandom]), 72);
    expect(keyBlock(gcm, master, clientRandom, serverRandom)).toEqual({
      clientKey: block.subarray(0, 32),
      serverKey: block.subarray(32, 64),
      clientIv: block.subarray(64, 68),
      serverIv: block.subarray(68, 72),
    });
    const chacha = keyBlock(suite('ECDHE-RSA-CHACHA20-POLY1305'), master, clientRandom, serverRandom);
    expect([chacha.clientKey.length, chacha.clientIv.length, chacha.serverIv.length]).toEqual([32, 12, 12]);
    expect(fixedIvLength('aes-128-gcm')).toBe(4);
  });

  it('refuses CBC and TLS 1.3 suites with FTH_WIRE_UNSUPPORTED', () => {
    const unsupported = expect.objectContaining({ code: 'FTH_WIRE_UNSUPPORTED' });
    expect(() => keyBlock(suite('ECDHE-RSA-AES128-SHA'), randomBytes(48), randomBytes(32), randomBytes(32))).toThrow(unsupported);
    expect(() => keyBlock(suite('TLS_AES_128_GCM_SHA256'), randomBytes(48), randomBytes(32), randomBytes(32))).toThrow(unsupported);
  });
});

describe('Tls12RecordProtection', () => {
  it('writes GCM records with the sequence as explicit nonce and reads them back in order', () => {
    const s = suite('ECDHE-RSA-AES128-GCM-SHA256');
    const key = randomBytes(16);
    const iv = randomBytes(4);
    const writer = new Tls12RecordProtection(s, key, iv);
    const first = writer.seal(ContentType.Handshake, encodeFinished(Buffer.alloc(12, 1)));
    const second = writer.seal(ContentType.ApplicationData, Buffer.from('hello'));
    expect(first.subarray(0, 5).toString('hex')).toBe('1603030028');
    expect(first.subarray(5, 13)).toEqual(Buffer.alloc(8));
    expect(second.subarray(5, 13).toString('hex')).toBe('0000000000000001');
    const reader = new Tls12RecordProtection(s, key, iv);
    expect(reader.open(record(first))).toEqual({ type: ContentType.Handshake, content: encodeFinished(Buffer.alloc(12, 1)) });
    expect(reader.open(record(second))).toEqual({ type: ContentType.ApplicationData, content: Buffer.from('hello') });
    expect(reader.sequence).toBe(2n);
  });

  it('honours a caller-chosen explicit nonce, which the reader takes from the record', () => {
    const s = suite('ECDHE-RSA-AES256-GCM-SHA384');
    const key = randomBytes(32);
    const iv = randomBytes(4);
    const sealed = new Tls12RecordProtection(s, key, iv).seal(ContentType.Alert, Buffer.from([2, 48]), Buffer.from('0102030405060708', 'hex'));
    expect(sealed.subarray(5, 13).toString('hex')).toBe('0102030405060708');
    expect(new Tls12RecordProtection(s, key, iv).open(record(sealed)).content).toEqual(Buffer.from([2, 48]));
  });

  it('writes ChaCha20-Poly1305 records without an explicit nonce (RFC 7905)', () => {
    const s = suite('ECDHE-RSA-CHACHA20-POLY1305');
    const key = randomBytes(32);
    const iv = randomBytes(12);
    const sealed = new Tls12RecordProtection(s, key, iv).seal(ContentType.ApplicationData, Buffer.from('abc'));
    expect(sealed).toHaveLength(5 + 3 + 16);
    expect(new Tls12RecordProtection(s, key, iv).open(record(sealed)).content).toEqual(Buffer.from('abc'));
    expect(() => new Tls12RecordProtection(s, key, iv).seal(23, Buffer.from('x'), Buffer.alloc(8))).toThrow(/no explicit nonce/);
  });

  it('binds the sequence number, type and version into the tag', () => {
    const s = suite('ECDHE-RSA-AES128-GCM-SHA256');
    const key = randomBytes(16);
    const iv = randomBytes(4);
    const sealed = new Tls12RecordProtection(s, key, iv).seal(ContentType.ApplicationData, Buffer.from('data'));
    const late = new Tls12RecordProtection(s, key, iv);
    late.sequence = 1n;
    expect(late.tryOpen(record(sealed))).toBeUndefined();
    expect(late.sequence).toBe(1n);
    const retyped = Buffer.from(sealed);
    retyped[0] = ContentType.Alert;
    expect(() => new Tls12RecordProtection(s, key, iv).open(record(retyped))).toThrow(wireError);
    const tooShort = Buffer.concat([Buffer.from('1703030017', 'hex'), Buffer.alloc(23)]);
    expect(() => new Tls12RecordProtection(s, key, iv).open(record(tooShort))).toThrow(/impossible length/);
  });

  it('refuses a key or IV of the wrong size for the suite', () => {
    expect(() => new Tls12RecordProtection(suite('ECDHE-RSA-AES128-GCM-SHA256'), randomBytes(32), randomBytes(4))).toThrow(
      expect.objectContaining({ code: 'FTH_INTERNAL' }),
    );
  });
});

describe('finished12', () => {
  it('is the first 12 bytes of the PRF over the transcript hash with the side label', () => {
    const s = suite('ECDHE-RSA-AES256-GCM-SHA384');
    const master = randomBytes(48);
    const hash = randomBytes(48);
    expect(finished12(s, master, 'client finished', hash)).toEqual(opensslPrf('SHA384', master, 'client finished', hash, 12));
    expect(finished12(s, master, 'server finished', hash)).not.toEqual(finished12(s, master, 'client finished', hash));
    expect(encodeFinished(Buffer.alloc(12, 0xee)).toString('hex')).toBe('1400000c' + 'ee'.repeat(12));
  });
});
