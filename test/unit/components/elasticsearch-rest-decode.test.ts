import { describe, expect, it } from 'vitest';
import { EsDecodeError, esDecodeComponent, esDecodeQueryString } from '../../../src/components/elasticsearch/rest-decode.js';

/** RestUtils.decodeComponent's outcomes (elastic/elasticsearch server/src/main/java/org/elasticsearch/rest/RestUtils.java). */
describe('Elasticsearch decodes a path parameter as RestUtils.decodeComponent does', () => {
  it.each([
    ['logs', 'logs'],
    ['a%2Fb', 'a/b'],
    ['100%%', '100%'],
    ['a+b', 'a+b'],
    ['%C3%A9t%c3%a9', 'été'],
    ['%ff', '\ufffd'],
  ])('%s decodes to %s', (raw, decoded) => {
    expect(esDecodeComponent(raw)).toBe(decoded);
  });

  it.each([
    ['%', 'unterminated escape sequence at end of string: %'],
    ['abc%', 'unterminated escape sequence at end of string: abc%'],
    ['abc%4', 'partial escape sequence at end of string: abc%4'],
    ['logs%zz', "invalid escape sequence `%zz' at index 4 of: logs%zz"],
    ['%4g-x', "invalid escape sequence `%4g' at index 0 of: %4g-x"],
  ])('%s is refused: %s', (raw, message) => {
    expect(() => esDecodeComponent(raw)).toThrow(new EsDecodeError(message));
  });
});

describe('esDecodeQueryString (RestUtils.decodeQueryString)', () => {
  const pairs = (target: string) => [...esDecodeQueryString(target).entries()];

  it('splits at & and ;, stops at #, reads + as a space and keeps a name without a value', () => {
    expect(pairs('/_search?q=a+b%21&pretty;size=1#frag&x=y')).toEqual([['q', 'a b!'], ['pretty', ''], ['size', '1']]);
  });

  it('ends a name at the first = after some text: `=v` names v, `a=b=c` gives a the value b=c', () => {
    expect(pairs('/?=v&a=b=c&&d=')).toEqual([['v', ''], ['a', 'b=c'], ['d', '']]);
  });

  it('refuses a malformed escape in a name or a value with RestUtils\' words for that part alone', () => {
    expect(() => esDecodeQueryString('/?a=%')).toThrow(new EsDecodeError('unterminated escape sequence at end of string: %'));
    expect(() => esDecodeQueryString('/?ok=1&x%zz=1')).toThrow(new EsDecodeError("invalid escape sequence `%zz' at index 1 of: x%zz"));
  });
});
