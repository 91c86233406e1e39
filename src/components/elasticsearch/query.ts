import { parsingException, type Reply } from './errors.js';

/**
 * The queries a shipper's test writes: match_all, term and match, read against dynamic mapping
 * as Elasticsearch applies it to JSON it has not seen before: a string is a `text` field (the
 * standard analyzer: lowercased words) with a `.keyword` sub-field (the exact value, up to
 * `ignore_above: 256`), numbers and booleans are exact. So `term` on a text field matches a single
 * lowercased word, not the sentence, as on a real cluster (docs "Term query": avoid term on text).
 */
export type Predicate = (source: Record<string, unknown>) => boolean;

export function compileQuery(query: unknown): Predicate | Reply {
  if (query === undefined) return () => true;
  if (!isObject(query) || Object.keys(query).length !== 1) return parsingException('query malformed, must start with start_object');
  const [kind, spec] = Object.entries(query)[0]!;
  switch (kind) {
    case 'match_all':
      return () => true;
    case 'term': {
      const field = single(spec, 'term');
      if ('status' in field) return field;
      const wanted = isObject(field.value) ? field.value.value : field.value;
      return (source) => values(source, field.name).some((v) => termMatches(v, wanted, field.name.endsWith('.keyword')));
    }
    case 'match': {
      const field = single(spec, 'match');
      if ('status' in field) return field;
      const text = isObject(field.value) ? field.value.query : field.value;
      const words = analyse(String(text));
      return (source) => values(source, field.name).some((v) => {
        if (typeof v === 'string' && !field.name.endsWith('.keyword')) return analyse(v).some((w) => words.includes(w));
        return termMatches(v, text, field.name.endsWith('.keyword'));
      });
    }
    default:
      return parsingException(`unknown query [${kind}]`);
  }
}

function single(spec: unknown, kind: string): { name: string; value: unknown } | Reply {
  if (!isObject(spec) || Object.keys(spec).length !== 1) {
    return parsingException(`[${kind}] query doesn't support multiple fields, found [${isObject(spec) ? Object.keys(spec).join('] and [') : ''}]`);
  }
  const [name, value] = Object.entries(spec)[0]!;
  return { name, value };
}

/** The values a (dotted) field path reaches, arrays flattened; `x.keyword` reads `x`. */
function values(source: unknown, field: string): unknown[] {
  const path = field.endsWith('.keyword') ? field.slice(0, -'.keyword'.length) : field;
  let current: unknown[] = [source];
  for (const key of path.split('.')) {
    current = current.flatMap((v) => (isObject(v) ? [v[key]] : [])).flatMap((v) => (Array.isArray(v) ? v : [v])).filter((v) => v !== undefined);
  }
  const direct = isObject(source) && path.includes('.') ? source[path] : undefined;
  return direct === undefined ? current : [...current, ...(Array.isArray(direct) ? direct : [direct])];
}

function termMatches(value: unknown, wanted: unknown, keyword: boolean): boolean {
  if (typeof value === 'string') {
    if (keyword) return value.length <= 256 && value === String(wanted);
    return analyse(value).includes(String(wanted));
  }
  if (typeof value === 'number') return typeof wanted === 'number' || (typeof wanted === 'string' && wanted.trim() !== '') ? Number(wanted) === value : false;
  if (typeof value === 'boolean') return String(wanted) === String(value);
  return false;
}

/** The standard analyzer, near enough: Unicode words, lowercased. */
function analyse(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}_']+/gu) ?? []).map((w) => w.replace(/^'+|'+$/g, '')).filter(Boolean);
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
