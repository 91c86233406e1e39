/**
 * Small pieces of Go's fmt/strconv/encoding behaviour that error texts are built from.
 */

// strconv.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');

/** strconv.Quote, which fmt's %q uses for strings and error values. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const r = ch.codePointAt(0) as number;
    if (ch === '"' || ch === '\\') {
      out += '\\' + ch;
    } else if (r >= 0x20 && r < 0x7f) {
      out += ch;
    } else if (r >= 0x80 && PRINTABLE.test(ch) && !(r >= 0xd800 && r <= 0xdfff)) {
      out += ch;
    } else {
      const named: Record<number, string> = { 7: '\\a', 8: '\\b', 12: '\\f', 10: '\\n', 13: '\\r', 9: '\\t', 11: '\\v' };
      const escape = named[r];
      if (escape !== undefined) out += escape;
      else if (r < 0x20 || r === 0x7f) out += '\\x' + hex(r, 2);
      // A lone surrogate cannot come from Go; it only arises from a JS string, and Go
      // would have replaced the invalid bytes with U+FFFD.
      else if (r >= 0xd800 && r <= 0xdfff) out += '\\ufffd';
      else if (r < 0x10000) out += '\\u' + hex(r, 4);
      else out += '\\U' + hex(r, 8);
    }
  }
  return out + '"';
}

/** fmt's %#U of a rune, as encoding/hex's InvalidByteError prints it. */
export function goRuneU(r: number): string {
  const code = 'U+' + r.toString(16).toUpperCase().padStart(4, '0');
  const ch = String.fromCodePoint(r);
  const printable = (r >= 0x20 && r < 0x7f) || (r >= 0xa0 && PRINTABLE.test(ch));
  return printable ? `${code} '${ch}'` : code;
}

/**
 * hex.DecodeString: the first invalid byte wins over an odd length, and each byte of a
 * non-ASCII character is reported as its own rune (Go strings are bytes).
 */
export function goHexDecode(s: string): { bytes: Buffer } | { error: string } {
  const src = Buffer.from(s, 'utf8');
  const isHex = (b: number): boolean =>
    (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66);
  for (const b of src) {
    if (!isHex(b)) return { error: `encoding/hex: invalid byte: ${goRuneU(b)}` };
  }
  if (src.length % 2 === 1) return { error: 'encoding/hex: odd length hex string' };
  return { bytes: Buffer.from(src.toString('latin1'), 'hex') };
}

/** fmt's %v of a []string: "[a b c]". */
export function goStringSlice(items: readonly string[]): string {
  return `[${items.join(' ')}]`;
}

/** Go string semantics for text decoded from certificate bytes: invalid UTF-8 becomes U+FFFD. */
export function bytesToGoString(bytes: Buffer): string {
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
}
