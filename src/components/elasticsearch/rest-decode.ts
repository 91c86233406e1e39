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

/**
 * The decoded parameter, or EsDecodeError with Elasticsearch's words. A query string's names and
 * values read `+` as a space (RestUtils.decodeQueryStringParam), a path's keep it.
 */
export function esDecodeComponent(s: string, plusAsSpace = false): string {
  if (!s.includes('%') && !(plusAsSpace && s.includes('+'))) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '+' && plusAsSpace) {
      bytes.push(0x20);
      continue;
    }
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

/**
 * A request target's query string as RestUtils.decodeQueryString reads it, up to a `#`: pairs end
 * at `&` or `;`; a name ends at the first `=` after a non-empty run (so `=v` names `v`, with an
 * empty value, and `a=b=c` gives `a` the value `b=c`); a name without `=` has an empty value.
 * Each name and value is decoded; a malformed escape is an EsDecodeError, which RestRequest
 * turns into a BadParameterException.
 */
export function esDecodeQueryString(target: string): URLSearchParams {
  const params = new URLSearchParams();
  const start = target.indexOf('?');
  if (start < 0) return params;
  const hash = target.indexOf('#', start);
  const query = target.slice(start + 1, hash < 0 ? undefined : hash);
  const decode = (part: string) => esDecodeComponent(part, true);
  let name: string | undefined;
  let from = 0;
  for (let i = 0; i <= query.length; i++) {
    const c = query[i];
    if (c === '=' && name === undefined) {
      if (from !== i) name = decode(query.slice(from, i));
      from = i + 1;
    } else if (c === '&' || c === ';' || c === undefined) {
      if (name !== undefined) params.append(name, decode(query.slice(from, i)));
      else if (from !== i) params.append(decode(query.slice(from, i)), '');
      name = undefined;
      from = i + 1;
    }
  }
  return params;
}
