import { lstat, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { HarnessError, systemErrorCode } from '../errors.js';
import { encodePrivateKey } from './keys.js';
import { ENCRYPTED_KEY, type LeafName } from './profiles.js';
import type { Pki } from './store.js';

/**
 * Unencrypted copies of the PKI's encrypted keys, for clients that take no passphrase (Python's
 * `requests`/`urllib3` client_key, curl without --pass in scripts): `<name>.plain.key`, PKCS#8,
 * mode 0600. Written beside the PKI, never over a file the harness did not write.
 */
export interface PlainKey {
  readonly name: LeafName;
  readonly file: string;
  readonly action: 'written' | 'reused';
}

export function plainKeyPath(pki: Pki, name: LeafName): string {
  return path.join(pki.dir, `${name}.plain.key`);
}

export async function writePlainKeys(pki: Pki, options: { force?: boolean } = {}): Promise<PlainKey[]> {
  const name = ENCRYPTED_KEY;
  const file = plainKeyPath(pki, name);
  const content = encodePrivateKey(pki.leaves[name].key, { format: 'pkcs8' });
  const existing = await lstat(file).catch((error: unknown) => {
    if (systemErrorCode(error) === 'ENOENT') return undefined;
    throw new HarnessError('FTH_FILE_UNREADABLE', `${file}: ${(error as Error).message}`, { cause: error });
  });
  if (existing) {
    const same = existing.isFile() && (await readFile(file, 'utf8').catch(() => '')) === content;
    if (same && (existing.mode & 0o077) === 0) return [{ name, file, action: 'reused' }];
    if (!options.force) {
      throw new HarnessError('FTH_PKI_FOREIGN_FILE', `${file} exists and is not the plain copy of ${name}'s key; use --force to replace it or remove it`);
    }
  }
  // A new temporary name, created 0600 and exclusively, then renamed over the target: a symlink
  // at the target is replaced, never followed.
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temp, content, { mode: 0o600, flag: 'wx' });
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw new HarnessError('FTH_FILE_UNWRITABLE', `${file}: cannot write it: ${(error as Error).message}`, { cause: error });
  }
  return [{ name, file, action: 'written' }];
}
