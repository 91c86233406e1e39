/**
 * NSS key log lines, as Node's `keylog` event hands them over (one Buffer per line, with its
 * trailing newline), and a store of the secrets keyed by ClientHello.random.
 *
 * Node emits every line on both ends of a connection, so the same secret routinely arrives
 * twice; a second, different value for the same label is a bug or a mixed-up connection, except
 * for the secrets of a KeyUpdate, which change under one label.
 */
import { protocolError } from './record.js';

export type KeylogLabel =
  | 'CLIENT_RANDOM'
  | 'CLIENT_EARLY_TRAFFIC_SECRET'
  | 'CLIENT_HANDSHAKE_TRAFFIC_SECRET'
  | 'SERVER_HANDSHAKE_TRAFFIC_SECRET'
  | 'CLIENT_TRAFFIC_SECRET_0'
  | 'SERVER_TRAFFIC_SECRET_0'
  | 'EARLY_EXPORTER_SECRET'
  | 'EXPORTER_SECRET';

export interface KeylogEntry {
  /** A KeylogLabel, or any other label a future OpenSSL may print. */
  label: KeylogLabel | (string & {});
  clientRandom: Buffer;
  secret: Buffer;
}

const LINE = /^([A-Z][A-Z0-9_]*) ([0-9a-fA-F]{64}) ((?:[0-9a-fA-F]{2})+)$/;

export function parseKeylogLine(line: Buffer | string): KeylogEntry {
  const text = (typeof line === 'string' ? line : line.toString('latin1')).replace(/\r?\n$/, '');
  const match = LINE.exec(text);
  // Never echo the line: a malformed one may still hold a live secret.
  if (!match) throw protocolError(`not an NSS key log line (${text.length} characters, label ${JSON.stringify(text.split(' ', 1)[0]?.slice(0, 40))})`);
  const [, label = '', random = '', secret = ''] = match;
  return { label, clientRandom: Buffer.from(random, 'hex'), secret: Buffer.from(secret, 'hex') };
}

/** A whole key log file (SSLKEYLOGFILE), skipping blank lines and `#` comments. */
export function parseKeylog(text: string): KeylogEntry[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .map((line) => parseKeylogLine(line));
}

export type SecretListener = (entry: KeylogEntry) => void;

export class SecretStore {
  private readonly byRandom = new Map<string, Map<string, Buffer>>();
  private readonly listeners = new Set<SecretListener>();

  /**
   * Records a secret; returns false if it was already known. Listeners hear only new secrets,
   * so an interposer can resume a stalled direction from here.
   */
  set(entry: KeylogEntry): boolean {
    const key = entry.clientRandom.toString('hex');
    let labels = this.byRandom.get(key);
    if (!labels) {
      labels = new Map();
      this.byRandom.set(key, labels);
    }
    const known = labels.get(entry.label);
    // OpenSSL logs every TLS 1.3 KeyUpdate's new secret under one `_N` label (ssl/tls13_enc.c):
    // a peer may update as often as it likes (Go answers each), so the newest one stands.
    if (known && !entry.label.endsWith('_TRAFFIC_SECRET_N')) {
      if (known.equals(entry.secret)) return false;
      throw protocolError(`key log gave two different ${entry.label} secrets for client random ${key}`);
    }
    labels.set(entry.label, Buffer.from(entry.secret));
    for (const listener of this.listeners) listener(entry);
    return true;
  }

  get(clientRandom: Buffer, label: string): Buffer | undefined {
    return this.byRandom.get(clientRandom.toString('hex'))?.get(label);
  }

  has(clientRandom: Buffer, label: string): boolean {
    return this.get(clientRandom, label) !== undefined;
  }

  /** Forgets a finished connection's secrets so a long-running fake does not accumulate them. */
  delete(clientRandom: Buffer): boolean {
    return this.byRandom.delete(clientRandom.toString('hex'));
  }

  get size(): number {
    return this.byRandom.size;
  }

  /** Calls `listener` for every new secret; returns the unsubscribe function. */
  onSecret(listener: SecretListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
