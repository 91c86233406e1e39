/**
 * Small pieces of Go's fmt/strconv/encoding behaviour that error texts are built from.
 */

// strconv.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');

function quoteRune(out: string[], r: number): void {
  const ch = String.fromCodePoint(r);
  if (ch === '"' || ch === '\\') out.push('\\' + ch);
  else if (r >= 0x20 && r < 0x7f) out.push(ch);
  else if (r >= 0x80 && PRINTABLE.test(ch)) out.push(ch);
  else {
    const named: Record<number, string> = { 7: '\\a', 8: '\\b', 12: '\\f', 10: '\\n', 13: '\\r', 9: '\\t', 11: '\\v' };
    const escape = named[r];
    if (escape !== undefined) out.push(escape);
    else if (r < 0x20 || r === 0x7f) out.push('\\x' + hex(r, 2));
    else if (r < 0x10000) out.push('\\u' + hex(r, 4));
    else out.push('\\U' + hex(r, 8));
  }
}

/** utf8.DecodeRune: the rune and its width, or -1 with width 1 for an invalid byte. */
function decodeRune(b: Buffer, i: number): [number, number] {
  const b0 = b[i] as number;
  if (b0 < 0x80) return [b0, 1];
  const need = b0 >= 0xf0 && b0 <= 0xf4 ? 3 : b0 >= 0xe0 ? (b0 <= 0xef ? 2 : 0) : b0 >= 0xc2 ? 1 : 0;
  if (need === 0) return [-1, 1];
  let r = b0 & (0x3f >> need);
  for (let k = 1; k <= need; k++) {
    const c = b[i + k];
    if (c === undefined || (c & 0xc0) !== 0x80) return [-1, 1];
    r = (r << 6) | (c & 0x3f);
  }
  const min = [0, 0x80, 0x800, 0x10000][need] as number;
  if (r < min || r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff)) return [-1, 1];
  return [r, need + 1];
}

/**
 * strconv.Quote, which fmt's %q uses for strings and error values. Given the raw bytes
 * of a Go string, invalid UTF-8 is escaped byte by byte (\xNN) exactly as Go does.
 */
export function goQuote(s: string | Buffer): string {
  const out: string[] = ['"'];
  if (typeof s === 'string') {
    for (const ch of s) {
      const r = ch.codePointAt(0) as number;
      // A lone surrogate can only come from a JS string; Go would hold U+FFFD there.
      quoteRune(out, r >= 0xd800 && r <= 0xdfff ? 0xfffd : r);
    }
  } else {
    for (let i = 0; i < s.length; ) {
      const [r, width] = decodeRune(s, i);
      if (r === -1) out.push('\\x' + hex(s[i] as number, 2));
      else quoteRune(out, r);
      i += width;
    }
  }
  out.push('"');
  return out.join('');
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
