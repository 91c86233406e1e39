import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatRfc3339 } from '../../../src/x509/go-time.js';
import { goHexDecode, goQuote } from '../../../src/x509/go-text.js';
import { ipString, parseIP } from '../../../src/x509/ip.js';

// Every expectation below was printed by Go 1.19 (strconv.Quote, net.ParseIP + IP.String,
// hex.DecodeString, time.Format(time.RFC3339)) for the same input.

describe('goQuote (strconv.Quote)', () => {
  it.each([
    ['plain', '"plain"'],
    ['tab\there', '"tab\\there"'],
    ['quote"back\\slash', '"quote\\"back\\\\slash"'],
    ['nul\x00del\x7f', '"nul\\x00del\\x7f"'],
    ['é', '"é"'],
    ['\u00a0', '"\\u00a0"'],
    ['\u200b', '"\\u200b"'],
    ['\u0085', '"\\u0085"'],
    ['😀', '"😀"'],
  ])('quotes %j as Go does', (input, quoted) => {
    expect(goQuote(input)).toBe(quoted);
  });

  it('escapes each byte of invalid UTF-8 when given the raw Go string', () => {
    expect(goQuote(Buffer.from([0xff, 0xfe]))).toBe('"\\xff\\xfe"');
    expect(goQuote(Buffer.from([0x61, 0xc3]))).toBe('"a\\xc3"');
  });
});

describe('parseIP and ipString (net.ParseIP, net.IP.String)', () => {
  it.each([
    ['0.0.0.0', '0.0.0.0'],
    ['::', '::'],
    ['::ffff:1.2.3.4', '1.2.3.4'],
    ['1:0:0:1:0:0:0:1', '1:0:0:1::1'],
    ['1:0:0:0:1:0:0:1', '1::1:0:0:1'],
    ['2001:db8::', '2001:db8::'],
    ['0:0:1::', '0:0:1::'],
    ['::1:2:3:4:5:6:7', '0:1:2:3:4:5:6:7'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['0000:0000:0000:0000:0000:0000:0000:0001', '::1'],
    ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304'],
    ['::1.2.3.4', '::102:304'],
    ['a:b:c:d:e:f:0:0', 'a:b:c:d:e:f::'],
  ])('reads %s and prints it as %s', (input, printed) => {
    const ip = parseIP(input);
    expect(ip === undefined ? undefined : ipString(ip)).toBe(printed);
  });

  it.each(['01.2.3.4', '1.2.3', '1::2::3', '[::1]', 'fe80::1%eth0', '1.2.3.4:80'])('refuses %s', (input) => {
    expect(parseIP(input)).toBeUndefined();
  });

  it('prints any 16-byte address in a form that reads back to the same bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
      const text = ipString(bytes);
      const v4Mapped = bytes.subarray(0, 12).every((b, i) => b === (i >= 10 ? 0xff : 0));
      const reread = parseIP(text);
      expect(reread).toBeDefined();
      expect(Array.from(reread as Uint8Array)).toEqual(v4Mapped ? [...Array(10).fill(0), 0xff, 0xff, ...bytes.subarray(12)] : Array.from(bytes));
    }));
  });
});

describe('goHexDecode (hex.DecodeString)', () => {
  it.each([
    ['ab:cd', "encoding/hex: invalid byte: U+003A ':'"],
    ['abc', 'encoding/hex: odd length hex string'],
    ['zz', "encoding/hex: invalid byte: U+007A 'z'"],
    ['é0', "encoding/hex: invalid byte: U+00C3 'Ã'"],
  ])('rejects %j with %s', (input, message) => {
    expect(goHexDecode(input)).toEqual({ error: message });
  });

  it('accepts mixed case', () => {
    expect(goHexDecode('AbCd')).toEqual({ bytes: Buffer.from([0xab, 0xcd]) });
  });
});

describe('formatRfc3339 (time.Format(time.RFC3339))', () => {
  it('truncates to whole seconds and prints the offset the time was written with', () => {
    expect(formatRfc3339(Date.parse('2024-02-29T23:59:59.999Z'))).toBe('2024-02-29T23:59:59Z');
    expect(formatRfc3339(Date.parse('2024-03-01T08:44:59Z'), -(8 * 60 + 45))).toBe('2024-02-29T23:59:59-08:45');
    expect(formatRfc3339(Date.UTC(2000, 0, 2, 3, 4, 5) - Date.UTC(2000, 0, 1) + new Date('0005-01-01T00:00:00Z').getTime())).toBe('0005-01-02T03:04:05Z');
  });
});
