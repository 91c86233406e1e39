import { createHash, type KeyObject } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { Remembered } from '../remember.js';

/**
 * Identities already loaded, by what their files held. A catalog run loads the same few pairs
 * hundreds of times, and decrypting and parsing a key each time was a tenth of the run; a file
 * whose bytes changed is read anew, and a load that failed is not remembered.
 */
const loaded = new Remembered<string, unknown>(512);

export function byContent<T>(kind: string, sources: ReadonlyArray<string | undefined>, literal: string | undefined, load: () => T): T {
  const key = contentKey(kind, sources, literal);
  return key === undefined ? load() : (loaded.get(key, load) as T);
}

/** Files are read (inline PEM, a value starting with `-`, is taken as it is); undefined when one cannot be. */
function contentKey(kind: string, sources: ReadonlyArray<string | undefined>, literal: string | undefined): string | undefined {
  const parts = [kind, literal === undefined ? '' : `=${literal}`];
  try {
    for (const source of sources) parts.push(source === undefined ? '' : source.trim().startsWith('-') ? textDigest(source) : fileDigest(source));
  } catch {
    return undefined;
  }
  return parts.join('\0');
}

const digest = (bytes: string | Buffer) => createHash('sha256').update(bytes).digest('hex');

/**
 * A file's digest, read again only when the file may have changed: another inode, size, change
 * or modification time. Reading and hashing the same few files on every flow was a fiftieth of a
 * catalog run. The kernel stamps files from a coarse clock (a few milliseconds), so a file changed
 * within that tick of being read could keep its stamp: such a recent file is trusted only once
 * its stamp is older than {@link RACY_MS} (git's "racily clean" rule).
 */
const fileDigests = new Map<string, { readonly stamp: string; readonly digest: string }>();
const inlineDigests = new Remembered<string, string>(256);
const FILES_LIMIT = 1_024;
const RACY_MS = 100n;

function fileDigest(file: string): string {
  const stat = statSync(file, { bigint: true });
  const stamp = `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}`;
  const known = fileDigests.get(file);
  if (known?.stamp === stamp) return known.digest;
  const made = { stamp, digest: `f${digest(readFileSync(file))}` };
  const age = BigInt(Date.now()) * 1_000_000n - (stat.mtimeNs > stat.ctimeNs ? stat.mtimeNs : stat.ctimeNs);
  if (age < RACY_MS * 1_000_000n) return made.digest;
  if (fileDigests.size >= FILES_LIMIT) fileDigests.delete(fileDigests.keys().next().value!);
  fileDigests.set(file, made);
  return made.digest;
}

function textDigest(text: string): string {
  return inlineDigests.get(text, () => `f${digest(text)}`);
}

/**
 * Identities made in memory from the same key and certificate: one object, so that what is keyed
 * on it (a Go client's TLS context, go-dial.ts) is built once. A test's fixture starts its fakes
 * from the same PKI each time, and exporting the key and building two client contexts again was
 * a sixth of the fixture's time.
 */
const fromKey = new WeakMap<KeyObject, Map<string, unknown>>();

export function byKey<T>(key: KeyObject, certPem: string, make: () => T): T {
  const byCert = fromKey.get(key) ?? new Map<string, unknown>();
  fromKey.set(key, byCert);
  if (!byCert.has(certPem)) {
    // A key rarely signs more than a couple of certificates; never let a long run grow this.
    if (byCert.size >= 16) byCert.clear();
    byCert.set(certPem, make());
  }
  return byCert.get(certPem) as T;
}
