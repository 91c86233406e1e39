import { indexNotFound, parseBody, type Reply } from './errors.js';
import { compileQuery } from './query.js';
import type { DocumentStore } from './store.js';

/**
 * _search, _count and _refresh over the in-memory store. Searches see what the last refresh
 * made visible (explicit, `?refresh`, or the 1 s periodic one), as on a real index; hits come in
 * index order with a constant score (no relevance ranking).
 */
const shards = (n: number) => ({ total: n, successful: n, skipped: 0, failed: 0 });

/** The documents a search or count body selects in `target`, or the error Elasticsearch answers. */
function selected(store: DocumentStore, target: string | undefined, body: string) {
  const parsed = parseBody(body);
  if ('reply' in parsed) return parsed;
  const { concretes, missing } = store.expand(target);
  if (missing) return { reply: indexNotFound(missing) };
  const predicate = compileQuery(parsed.value.query);
  if (typeof predicate !== 'function') return { reply: predicate };
  return { request: parsed.value, concretes, hits: store.searchable(concretes).filter((d) => predicate(d._source)) };
}

export function search(store: DocumentStore, target: string | undefined, body: string, query: URLSearchParams): Reply {
  const started = Date.now();
  const found = selected(store, target, body);
  if ('reply' in found) return found.reply;
  const { request, concretes, hits } = found;
  const size = numberOf(request.size ?? query.get('size'), 10);
  const from = numberOf(request.from ?? query.get('from'), 0);
  const page = hits.slice(from, from + size);
  return {
    status: 200,
    body: {
      took: Date.now() - started,
      timed_out: false,
      _shards: shards(concretes.length),
      hits: {
        total: { value: hits.length, relation: 'eq' },
        max_score: page.length ? 1.0 : null,
        hits: page.map((d) => ({ _index: d._index, _id: d._id, _score: 1.0, _source: d._source })),
      },
    },
  };
}

export function count(store: DocumentStore, target: string | undefined, body: string): Reply {
  const found = selected(store, target, body);
  if ('reply' in found) return found.reply;
  return { status: 200, body: { count: found.hits.length, _shards: shards(found.concretes.length) } };
}

export function refresh(store: DocumentStore, target: string | undefined): Reply {
  const { concretes, missing } = store.expand(target);
  if (missing) return indexNotFound(missing);
  store.refresh(concretes);
  // Each index has a primary and an unassigned replica: two copies to refresh, one there.
  return { status: 200, body: { _shards: { total: concretes.length * 2, successful: concretes.length, failed: 0 } } };
}

function numberOf(value: unknown, fallback: number): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value !== '' ? Number(value) : NaN;
  return Number.isInteger(n) && n >= 0 ? n : fallback;
}
