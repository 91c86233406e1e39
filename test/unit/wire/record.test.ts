import { describe, expect, it } from 'vitest';
import {
  ByteReader,
  ContentType,
  MAX_CIPHERTEXT,
  RecordReader,
  encodeAlert,
  encodeRecord,
  looksLikeHttp,
  looksLikeTls,
  parseAlert,
} from '../../../src/wire/record.js';
import { clientHelloRecord, serverHelloRecord } from './fixtures/rfc8448.js';

const wireError = expect.objectContaining({ name: 'HarnessError', code: 'FTH_WIRE_PROTOCOL' });

describe('RecordReader', () => {
  it('splits a stream fed one byte at a time into the same records as one push', () => {
    const stream = Buffer.concat([clientHelloRecord, serverHelloRecord]);
    const reader = new RecordReader();
    const records = [];
    for (const byte of stream) records.push(...reader.push(Buffer.from([byte])));
    expect(records.map((r) => r.raw)).toEqual([clientHelloRecord, serverHelloRecord]);
    expect(reader.buffered).toBe(0);
  });

  it('returns header fields and a fragment that is a view of raw', () => {
    const [record] = new RecordReader().push(clientHelloRecord);
    expect(record).toMatchObject({ type: ContentType.Handshake, version: 0x0301 });
    expect(record!.fragment).toEqual(clientHelloRecord.subarray(5));
    expect(record!.fragment.buffer).toBe(record!.raw.buffer);
  });

  it('keeps a partial record until the rest arrives', () => {
    const reader = new RecordReader();
    expect(reader.push(serverHelloRecord.subarray(0, 3))).toEqual([]);
    expect(reader.buffered).toBe(3);
    expect(reader.push(serverHelloRecord.subarray(3, 50))).toEqual([]);
    expect(reader.buffered).toBe(50);
    const [record] = reader.push(Buffer.concat([serverHelloRecord.subarray(50), clientHelloRecord.subarray(0, 7)]));
    expect(record!.raw).toEqual(serverHelloRecord);
    expect(reader.buffered).toBe(7);
  });

  it('copies records so they do not change when the pushed chunk is reused', () => {
    const chunk = Buffer.from(serverHelloRecord);
    const [record] = new RecordReader().push(chunk);
    chunk.fill(0);
    expect(record!.raw).toEqual(serverHelloRecord);
  });

  it('accepts an empty fragment and the largest legal length', () => {
    const empty = encodeRecord(ContentType.ApplicationData, 0x0303, Buffer.alloc(0));
    const largest = encodeRecord(ContentType.ApplicationData, 0x0303, Buffer.alloc(MAX_CIPHERTEXT));
    const records = new RecordReader().push(Buffer.concat([empty, largest]));
    expect(records.map((r) => r.fragment.length)).toEqual([0, MAX_CIPHERTEXT]);
  });

  it('rejects an unknown content type, a non-3.x version and an oversized length', () => {
    expect(() => new RecordReader().push(Buffer.from('GET / HTTP/1.1\r\n'))).toThrow(wireError);
    expect(() => new RecordReader().push(Buffer.from([22, 2, 0, 0, 1, 0]))).toThrow(wireError);
    expect(() => new RecordReader().push(Buffer.from([23, 3, 3, 0x48, 0x01]))).toThrow(/exceeds 18432/);
  });

  it('returns the records before a bad header, then fails every later push', () => {
    const reader = new RecordReader();
    const records = reader.push(Buffer.concat([serverHelloRecord, Buffer.from('garbage')]));
    expect(records.map((r) => r.raw)).toEqual([serverHelloRecord]);
    expect(reader.failure).toEqual(wireError);
    expect(() => reader.push(serverHelloRecord)).toThrow(wireError);
  });
});

describe('encodeRecord', () => {
  it('writes the 5-byte header in front of the fragment', () => {
    expect(encodeRecord(ContentType.Alert, 0x0303, Buffer.from([2, 48])).toString('hex')).toBe('15030300020230');
  });

  it('refuses a fragment no peer would accept', () => {
    expect(() => encodeRecord(23, 0x0303, Buffer.alloc(MAX_CIPHERTEXT + 1))).toThrow(wireError);
    expect(() => encodeRecord(256, 0x0303, Buffer.alloc(1))).toThrow(wireError);
  });
});

describe('looksLikeTls and looksLikeHttp', () => {
  it('recognises a ClientHello record header whatever its 3.x version', () => {
    expect(looksLikeTls(clientHelloRecord)).toBe(true);
    expect(looksLikeTls(Buffer.from([22, 3, 0, 0, 50]))).toBe(true);
    expect(looksLikeTls(clientHelloRecord.subarray(0, 4))).toBe(false);
  });

  it('rejects non-handshake records, SSLv2 hellos, empty and oversized first records', () => {
    expect(looksLikeTls(Buffer.from([23, 3, 3, 0, 50]))).toBe(false);
    expect(looksLikeTls(Buffer.from([0x80, 0x2e, 1, 3, 1]))).toBe(false);
    expect(looksLikeTls(Buffer.from([22, 3, 1, 0, 0]))).toBe(false);
    expect(looksLikeTls(Buffer.from([22, 3, 1, 0x40, 1]))).toBe(false);
    expect(looksLikeTls(Buffer.from('GET / HTTP/1.1'))).toBe(false);
  });

  it('matches exactly the five prefixes Go net/http checks', () => {
    for (const request of ['GET / HTTP/1.1', 'HEAD /x', 'POST /_bulk', 'PUT /idx', 'OPTIONS * HTTP/1.1']) {
      expect(looksLikeHttp(Buffer.from(request))).toBe(true);
    }
    for (const other of ['GET', 'DELETE /x HTTP/1.1', 'PATCH /x', 'get / HTTP/1.1', 'GET http://x/', 'PUT  /']) {
      expect(looksLikeHttp(Buffer.from(other))).toBe(false);
    }
    expect(looksLikeHttp(clientHelloRecord)).toBe(false);
  });
});

describe('alerts', () => {
  it('encodes TLS 1.3 levels the way Go and Java send them', () => {
    expect(encodeAlert(48)).toEqual(Buffer.from([2, 48]));
    expect(encodeAlert(0)).toEqual(Buffer.from([1, 0]));
    expect(encodeAlert(90)).toEqual(Buffer.from([1, 90]));
    expect(encodeAlert(42, 1)).toEqual(Buffer.from([1, 42]));
  });

  it('parses a two-byte alert and refuses anything else', () => {
    expect(parseAlert(Buffer.from([2, 116]))).toEqual({ level: 2, description: 116 });
    expect(() => parseAlert(Buffer.from([2]))).toThrow(wireError);
    expect(() => parseAlert(Buffer.from([2, 48, 0]))).toThrow(wireError);
  });
});

describe('ByteReader', () => {
  it('reads vectors within their bounds and reports the field that overran', () => {
    const reader = new ByteReader(Buffer.from([0, 2, 0xaa, 0xbb, 1]), 'Test');
    expect(reader.vector(2, 'pair', 2, 2)).toEqual(Buffer.from([0xaa, 0xbb]));
    expect(() => reader.u16('tail')).toThrow('Test: tail needs 2 bytes, 1 left');
    expect(() => new ByteReader(Buffer.from([3, 1, 2, 3]), 'Test').vector(1, 'v', 0, 2)).toThrow('Test: v length 3 outside 0..2');
    expect(() => new ByteReader(Buffer.from([0]), 'Test').end()).toThrow('Test: 1 unexpected trailing bytes');
  });
});
