import { randomBytes } from 'node:crypto';

/**
 * The documents a fake Elasticsearch holds, in memory. Indices are created on first write, as
 * with `action.auto_create_index` (default true). Names matching the built-in `logs-*-*`,
 * `metrics-*-*`, `traces-*-*` and `synthetics-*-*` index templates become data streams, as on a
 * real cluster: create-only (server/.../action/bulk/TransportBulkAction.java), `@timestamp`
 * required, stored in a `.ds-<name>-<date>-000001` backing index (elastic/elasticsearch
 * x-pack/plugin/stack/.../StackTemplateRegistry.java; docs "Data streams").
 */
export interface StoredDocument {
  readonly _index: string;
  readonly _id: string;
  readonly _version: number;
  readonly _seq_no: number;
  readonly _source: Record<string, unknown>;
}

interface Doc extends StoredDocument {
  /** When it was written, and its place in the store's write order: a refresh makes everything before it searchable. */
  readonly at: number;
  readonly write: number;
}

interface Index {
  readonly name: string;
  readonly uuid: string;
  readonly dataStream?: string;
  readonly docs: Map<string, Doc>;
  seqNo: number;
  /** The last write a refresh covered. */
  refreshedThrough: number;
}

const DATA_STREAM = /^(logs|metrics|traces|synthetics)-[^-]+-.+$/;
/** `index.refresh_interval`'s default: a document written this long ago is searchable without a refresh. */
export const REFRESH_INTERVAL_MS = 1000;

export class DocumentStore {
  private readonly indices = new Map<string, Index>();
  private readonly dataStreams = new Map<string, string>();
  private writes = 0;

  /** `refreshIntervalMs`: index.refresh_interval; -1 disables the periodic refresh, as `-1` does in ES. */
  constructor(private readonly refreshIntervalMs = REFRESH_INTERVAL_MS) {}

  /** The concrete index a name writes to: the backing index of a data stream, or the index itself. */
  resolve(name: string): string | undefined {
    return this.dataStreams.get(name) ?? (this.indices.has(name) ? name : undefined);
  }

  isDataStream(name: string): boolean {
    return this.dataStreams.has(name) || (!this.indices.has(name) && DATA_STREAM.test(name));
  }

  /** Creates the index (or data stream) a write to `name` needs; returns the concrete index. */
  ensure(name: string, now = Date.now()): string {
    const existing = this.resolve(name);
    if (existing) return existing;
    let concrete = name;
    if (DATA_STREAM.test(name)) {
      const day = new Date(now).toISOString().slice(0, 10).replaceAll('-', '.');
      concrete = `.ds-${name}-${day}-000001`;
      this.dataStreams.set(name, concrete);
    }
    this.indices.set(concrete, {
      name: concrete, uuid: randomBytes(16).toString('base64url').slice(0, 22), docs: new Map(), seqNo: 0, refreshedThrough: this.writes,
      ...(concrete !== name ? { dataStream: name } : {}),
    });
    return concrete;
  }

  createIndex(name: string): boolean {
    if (this.resolve(name)) return false;
    this.ensure(name);
    return true;
  }

  deleteIndex(name: string): boolean {
    const concrete = this.resolve(name);
    if (!concrete) return false;
    const index = this.indices.get(concrete)!;
    if (index.dataStream) this.dataStreams.delete(index.dataStream);
    return this.indices.delete(concrete);
  }

  uuid(concrete: string): string {
    return this.indices.get(concrete)?.uuid ?? '_na_';
  }

  get(concrete: string, id: string): StoredDocument | undefined {
    return strip(this.indices.get(concrete)?.docs.get(id));
  }

  /** Writes a document (a new version when the id exists); the caller has checked op_type rules. */
  put(concrete: string, id: string, source: Record<string, unknown>, now = Date.now()): { doc: StoredDocument; created: boolean } {
    const index = this.indices.get(concrete)!;
    const previous = index.docs.get(id);
    const doc: Doc = { _index: concrete, _id: id, _version: (previous?._version ?? 0) + 1, _seq_no: index.seqNo++, _source: source, at: now, write: ++this.writes };
    index.docs.set(id, doc);
    return { doc: strip(doc)!, created: previous === undefined };
  }

  delete(concrete: string, id: string): { doc?: StoredDocument; version: number; seqNo: number } {
    const index = this.indices.get(concrete)!;
    const previous = index.docs.get(id);
    index.docs.delete(id);
    return { ...(previous ? { doc: strip(previous)! } : {}), version: (previous?._version ?? 0) + 1, seqNo: index.seqNo++ };
  }

  refresh(concretes: readonly string[] = [...this.indices.keys()]): number {
    for (const name of concretes) {
      const index = this.indices.get(name);
      if (index) index.refreshedThrough = this.writes;
    }
    return concretes.length;
  }

  /** What a search sees: documents refreshed explicitly or by the periodic refresh. */
  searchable(concretes: readonly string[], now = Date.now()): StoredDocument[] {
    return concretes.flatMap((name) => {
      const index = this.indices.get(name);
      if (!index) return [];
      const periodic = (d: Doc) => this.refreshIntervalMs >= 0 && now - d.at >= this.refreshIntervalMs;
      return [...index.docs.values()].filter((d) => d.write <= index.refreshedThrough || periodic(d)).map((d) => strip(d)!);
    });
  }

  /** Every document of an index or data stream, refreshed or not (the library's view, not a search). */
  documents(name: string): StoredDocument[] {
    const concrete = this.resolve(name);
    return concrete ? [...this.indices.get(concrete)!.docs.values()].map((d) => strip(d)!) : [];
  }

  /**
   * Resolves a search target as IndexNameExpressionResolver does for the common cases: a comma
   * list of names, `*` wildcards (which skip hidden `.`-names unless the pattern starts with one),
   * `_all` or nothing for everything. A missing concrete name is reported, a wildcard matching
   * nothing is not.
   */
  expand(expression: string | undefined): { concretes: string[]; missing?: string } {
    const parts = !expression || expression === '_all' ? ['*'] : expression.split(',').filter(Boolean);
    const out = new Set<string>();
    for (const part of parts) {
      if (!part.includes('*')) {
        const concrete = this.resolve(part);
        if (!concrete) return { concretes: [], missing: part };
        out.add(concrete);
        continue;
      }
      const pattern = new RegExp(`^${part.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
      for (const [stream, concrete] of this.dataStreams) if (pattern.test(stream)) out.add(concrete);
      for (const name of this.indices.keys()) if (pattern.test(name) && (!name.startsWith('.') || part.startsWith('.'))) out.add(name);
    }
    return { concretes: [...out] };
  }

  /** Index count, for _cluster/health: one primary and one (unassignable) replica each. */
  get indexCount(): number {
    return this.indices.size;
  }
}

function strip(doc: Doc | undefined): StoredDocument | undefined {
  if (!doc) return undefined;
  return { _index: doc._index, _id: doc._id, _version: doc._version, _seq_no: doc._seq_no, _source: doc._source };
}

/** MetadataCreateIndexService's rules, the ones a test meets: lowercase, no leading `_`, `-`, `+`, no reserved characters. */
export function invalidIndexName(name: string): string | undefined {
  if (name !== name.toLowerCase()) return 'must be lowercase';
  if (/^[_\-+]/.test(name)) return 'must not start with \'_\', \'-\', or \'+\'';
  if (/[\\/*?"<>| ,#:]/.test(name)) return 'must not contain the following characters [\'\\\',\'/\',\'*\',\'?\',\'"\',\'<\',\'>\',\'|\',\' \',\',\',\'#\',\':\']';
  if (name === '.' || name === '..') return 'must not be \'.\' or \'..\'';
  return undefined;
}
