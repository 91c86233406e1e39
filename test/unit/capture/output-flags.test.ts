import { describe, expect, it } from 'vitest';
import { takeOutputFlags } from '../../../src/capture/files.js';
import { frame, parseEndpoint, TCP_ACK, TCP_PSH } from '../../../src/capture/frames.js';

describe('report file flags on an install command line', () => {
  it('takes --html, --keylog and --pcap out in both spellings and leaves the install flags as they were', () => {
    expect(takeOutputFlags(['--url=https://x:8220', '--html', 'r.html', '--keylog=k.log', '--pcap', 'c.pcapng', '--insecure'])).toEqual({
      rest: ['--url=https://x:8220', '--insecure'], outputs: { html: 'r.html', keylog: 'k.log', pcap: 'c.pcapng' },
    });
  });

  it('refuses a flag with no file as bad usage', () => {
    expect(() => takeOutputFlags(['--html'])).toThrow(/^option '--html <file>' argument missing$/);
    expect(() => takeOutputFlags(['--pcap', '--insecure'])).toThrow(/^option '--pcap <file>' argument missing$/);
  });
});

describe('synthesised frames', () => {
  it('reads Node\'s and Go\'s spellings of an endpoint', () => {
    expect(parseEndpoint('127.0.0.1:8220')).toEqual({ address: '127.0.0.1', port: 8220 });
    expect(parseEndpoint('[::1]:9200')).toEqual({ address: '::1', port: 9200 });
    expect(parseEndpoint('::1:43612')).toEqual({ address: '::1', port: 43612 });
    expect(parseEndpoint('localhost:1')).toBeUndefined();
  });

  it('an IPv4 segment with valid IP and TCP checksums', () => {
    const bytes = frame({ from: { address: '127.0.0.1', port: 40000 }, to: { address: '127.0.0.1', port: 8220 }, fromClient: true, seq: 1000, ack: 5000, flags: TCP_PSH | TCP_ACK, payload: Buffer.from('hello') });
    expect(bytes.length).toBe(14 + 20 + 20 + 5);
    expect(bytes.readUInt16BE(12)).toBe(0x0800);
    const sum = (b: Buffer) => {
      let s = 0;
      for (let i = 0; i + 1 < b.length; i += 2) s += b.readUInt16BE(i);
      if (b.length % 2) s += b[b.length - 1]! << 8;
      while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
      return s;
    };
    expect(sum(bytes.subarray(14, 34))).toBe(0xffff);
    const pseudo = Buffer.concat([bytes.subarray(26, 34), Buffer.from([0, 6, 0, 25])]);
    expect(sum(Buffer.concat([pseudo, bytes.subarray(34)]))).toBe(0xffff);
  });
});
