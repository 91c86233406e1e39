/*
 * Elasticsearch's decoding of a path parameter (RestUtils.decodeComponent, used by PathTrie for
 * each named wildcard while RestController.tryAllHandlers walks the candidate handlers): `%XX`
 * becomes a byte, `%%` a `%`, `+` stays `+`, and the bytes are read as UTF-8 with replacement
 * characters (never an error). A malformed escape is an IllegalArgumentException, which
 * tryAllHandlers answers as handleUnsupportedHttpMethod does: 405, the exception's message and
 * the methods the path allows.
 */

/** A path parameter Elasticsearch cannot decode, with its exception's message. */
export class EsDecodeError extends Error {
  override readonly name = 'EsDecodeError';
}

const hex = (c: string | undefined): number => (c !== undefined && /^[0-9a-fA-F]$/.test(c) ? parseInt(c, 16) : -1);

/** The decoded parameter, or EsDecodeError with Elasticsearch's words. */
export function esDecodeComponent(s: string): string {
  if (!s.includes('%')) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '%') {
      const char = String.fromCodePoint(s.codePointAt(i)!);
      bytes.push(...Buffer.from(char, 'utf8'));
      i += char.length - 1;
      continue;
    }
    if (i === s.length - 1) throw new EsDecodeError(`unterminated escape sequence at end of string: ${s}`);
    const first = s[++i]!;
    if (first === '%') {
      bytes.push(0x25);
      continue;
    }
    if (i === s.length - 1) throw new EsDecodeError(`partial escape sequence at end of string: ${s}`);
    const second = s[++i]!;
    const high = hex(first);
    const low = hex(second);
    if (high < 0 || low < 0) throw new EsDecodeError(`invalid escape sequence \`%${first}${second}' at index ${i - 2} of: ${s}`);
    bytes.push(high * 16 + low);
  }
  return Buffer.from(bytes).toString('utf8');
}
