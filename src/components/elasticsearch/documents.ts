import { pooledRandomBytes } from '../../random-pool.js';
import { exception, illegalArgument, indexNotFound, parseBody, validationFailed, type Cause, type Reply } from './errors.js';
import { isObject } from './query.js';
import { invalidIndexName, type DocumentStore, type StoredDocument } from './store.js';

/**
 * The document APIs: _bulk with a result per item, and the single-document index, create, get
 * and delete. Response fields and item errors follow Elasticsearch's (docs "Bulk API", "Index
 * API"; server/.../action/bulk/BulkItemResponse.java, index/engine/VersionConflictEngineException).
 */
type Action = 'index' | 'create' | 'delete' | 'update';
const ACTIONS: readonly Action[] = ['index', 'create', 'delete', 'update'];
/** One primary and one replica, which a single node cannot assign: a write reaches one copy of two. */
const SHARDS = { total: 2, successful: 1, failed: 0 };

export interface BulkItem { readonly action: Action; readonly status: number; readonly body: Record<string, unknown> }

export function bulk(store: DocumentStore, body: string, defaultIndex: string | undefined, refresh: boolean): Reply {
  const started = Date.now();
  if (body.length > 0 && !body.endsWith('\n')) return illegalArgument('The bulk request must be terminated by a newline [\\n]');
  const lines = body.split('\n');
  lines.pop();
  const items: BulkItem[] = [];
  const touched = new Set<string>();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    let meta: unknown;
    try {
      meta = JSON.parse(line);
    } catch {
      return illegalArgument(`Malformed action/metadata line [${i + 1}], expected START_OBJECT or END_OBJECT but found [VALUE_STRING]`);
    }
    if (!isObject(meta) || Object.keys(meta).length !== 1) {
      return illegalArgument(`Malformed action/metadata line [${i + 1}], expected START_OBJECT or END_OBJECT but found [${isObject(meta) ? 'END_OBJECT' : 'VALUE_STRING'}]`);
    }
    const [action, params] = Object.entries(meta)[0]! as [string, unknown];
    if (!(ACTIONS as readonly string[]).includes(action)) {
      return illegalArgument(`Malformed action/metadata line [${i + 1}], expected field [create], [delete], [index] or [update] but found [${action}]`);
    }
    const p = isObject(params) ? params : {};
    const index = typeof p._index === 'string' ? p._index : defaultIndex;
    if (!index) return validationFailed('index is missing');
    const id = p._id === undefined ? undefined : String(p._id);
    let source: string | undefined;
    if (action !== 'delete') {
      source = lines[++i];
      if (source === undefined) return validationFailed('no requests added');
    }
    const item = write(store, action as Action, index, id, source);
    if (item.status < 300) touched.add(String(item.body._index));
    items.push(item);
  }
  if (items.length === 0) return validationFailed('no requests added');
  if (refresh) store.refresh([...touched]);
  return {
    status: 200,
    body: { errors: items.some((it) => 'error' in it.body), took: Date.now() - started, items: items.map((it) => ({ [it.action]: it.body })) },
  };
}

/** One write, as its bulk item; the single-document APIs answer the same body at the top level. */
export function write(store: DocumentStore, action: Action, index: string, id: string | undefined, sourceText: string | undefined): BulkItem {
  const fail = (status: number, cause: Cause, concrete = index) =>
    ({ action, status, body: { _index: concrete, _id: id ?? null, status, error: cause } });
  const badName = invalidIndexName(index);
  if (badName) return fail(400, { type: 'invalid_index_name_exception', reason: `Invalid index name [${index}], ${badName}`, index_uuid: '_na_', index });
  // TransportBulkAction: a data stream's name takes `create` only; index, update and delete must name a backing index.
  if (store.isDataStream(index) && action !== 'create') {
    return fail(400, { type: 'illegal_argument_exception', reason: 'only write ops with an op_type of create are allowed in data streams' });
  }
  let source: Record<string, unknown> | undefined;
  if (sourceText !== undefined) {
    const parsed = parseBody(sourceText);
    if ('reply' in parsed || sourceText.trim() === '') {
      return fail(400, { type: 'document_parsing_exception', reason: '[1:1] failed to parse: the document is not a JSON object' });
    }
    source = parsed.value;
  }
  if (action === 'delete' || action === 'update') {
    const concrete = store.resolve(index);
    if (id === undefined) return fail(400, { type: 'action_request_validation_exception', reason: 'Validation Failed: 1: id is missing;' });
    if (action === 'delete') {
      if (!concrete) return fail(404, indexNotFoundCause(index));
      const { doc, version, seqNo } = store.delete(concrete, id);
      const status = doc ? 200 : 404;
      return { action, status, body: written(concrete, id, version, seqNo, doc ? 'deleted' : 'not_found', status) };
    }
    const current = concrete ? store.get(concrete, id) : undefined;
    const partial = isObject(source?.doc) ? source.doc : undefined;
    const upsert = isObject(source?.upsert) ? source.upsert : source?.doc_as_upsert === true ? partial : undefined;
    if (!current && !upsert) {
      return fail(404, { type: 'document_missing_exception', reason: `[${id}]: document missing`, index_uuid: concrete ? store.uuid(concrete) : '_na_', shard: '0', index: concrete ?? index }, concrete ?? index);
    }
    const target = concrete ?? store.ensure(index);
    const merged = current ? { ...current._source, ...partial } : upsert!;
    if (current && JSON.stringify(merged) === JSON.stringify(current._source)) {
      return { action, status: 200, body: { _index: target, _id: id, _version: current._version, result: 'noop', _shards: { total: 0, successful: 0, failed: 0 }, _seq_no: current._seq_no, _primary_term: 1, status: 200 } };
    }
    const { doc, created } = store.put(target, id, merged);
    return { action, status: created ? 201 : 200, body: written(target, id, doc._version, doc._seq_no, created ? 'created' : 'updated', created ? 201 : 200) };
  }
  if (store.isDataStream(index) && !('@timestamp' in source!)) {
    return fail(400, { type: 'document_parsing_exception', reason: '[1:1] failed to parse: data stream timestamp field [@timestamp] is missing' });
  }
  const concrete = store.ensure(index);
  const docId = id ?? pooledRandomBytes(15).toString('base64url');
  const existing = store.get(concrete, docId);
  if (action === 'create' && existing) {
    return fail(409, {
      type: 'version_conflict_engine_exception',
      reason: `[${docId}]: version conflict, document already exists (current version [${existing._version}])`,
      index_uuid: store.uuid(concrete), shard: '0', index: concrete,
    }, concrete);
  }
  const { doc, created } = store.put(concrete, docId, source!);
  return { action, status: created ? 201 : 200, body: written(concrete, docId, doc._version, doc._seq_no, created ? 'created' : 'updated', created ? 201 : 200) };
}

function written(index: string, id: string, version: number, seqNo: number, result: string, status: number): Record<string, unknown> {
  return { _index: index, _id: id, _version: version, result, _shards: SHARDS, _seq_no: seqNo, _primary_term: 1, status };
}

function indexNotFoundCause(index: string): Cause {
  return { type: 'index_not_found_exception', reason: `no such index [${index}]`, 'resource.type': 'index_expression', 'resource.id': index, index_uuid: '_na_', index };
}

/** POST /{index}/_doc, PUT|POST /{index}/_doc/{id}, PUT|POST /{index}/_create/{id}: the item without `status`, with Location on 201. */
export function single(store: DocumentStore, action: 'index' | 'create', index: string, id: string | undefined, body: string, refresh: boolean): Reply {
  const item = write(store, action, index, id, body);
  if ('error' in item.body) return exception(item.status, item.body.error as Cause);
  const { status, ...rest } = item.body;
  if (refresh) store.refresh([String(rest._index)]);
  return {
    status: item.status,
    body: rest,
    ...(item.status === 201 ? { headers: { location: `/${index}/_doc/${encodeURIComponent(String(rest._id))}` } } : {}),
  };
}

export function remove(store: DocumentStore, index: string, id: string, refresh: boolean): Reply {
  const item = write(store, 'delete', index, id, undefined);
  if ('error' in item.body) return exception(item.status, item.body.error as Cause);
  const { status, ...rest } = item.body;
  if (refresh) store.refresh([String(rest._index)]);
  return { status: item.status, body: rest };
}

/** GET /{index}/_doc/{id} is real-time: it sees a write before any refresh. */
export function getDocument(store: DocumentStore, index: string, id: string): Reply {
  const concrete = store.resolve(index);
  if (!concrete) return indexNotFound(index);
  const doc: StoredDocument | undefined = store.get(concrete, id);
  if (!doc) return { status: 404, body: { _index: concrete, _id: id, found: false } };
  return { status: 200, body: { _index: concrete, _id: id, _version: doc._version, _seq_no: doc._seq_no, _primary_term: 1, found: true, _source: doc._source } };
}
