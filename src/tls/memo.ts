import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
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
  const hash = createHash('sha256').update(kind).update('\0').update(literal ?? '\0absent').update('\0');
  try {
    for (const source of sources) {
      hash.update(source === undefined ? '\0absent' : source.trim().startsWith('-') ? source : readFileSync(source));
      hash.update('\0');
    }
  } catch {
    return undefined;
  }
  return hash.digest('hex');
}
