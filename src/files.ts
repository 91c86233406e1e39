import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, stat } from 'node:fs/promises';
import path from 'node:path';
import { systemErrorCode } from './errors.js';

/**
 * `mkdir -p` with a bounded number of steps. Node 20's `mkdir(dir, { recursive: true })` never
 * returns for some paths (under /proc it spins on ENOENT), and the directory is the user's
 * choice, so the harness walks up itself and fails with the system's error instead.
 */
export async function ensureDir(dir: string, mode = 0o755): Promise<void> {
  try {
    await mkdir(dir, { mode });
  } catch (error) {
    const code = systemErrorCode(error);
    if (code === 'EEXIST') {
      if ((await stat(dir)).isDirectory()) return;
      throw error;
    }
    const parent = path.dirname(dir);
    if (code !== 'ENOENT' || parent === dir) throw error;
    await ensureDir(parent, mode);
    await mkdir(dir, { mode }).catch((again: unknown) => {
      if (systemErrorCode(again) !== 'EEXIST') throw again;
    });
  }
}

/** Names of the temporary files `writeTemp` makes: recognisable, so a later run can clear them. */
export const TEMP_FILE = /^\.fleet-tls-(\d+)-[0-9a-f]{24}\.tmp$/;

/** A temporary file whose writer (the pid in its name) is gone: killed before it renamed it. */
export function tempFileAbandoned(name: string): boolean {
  const pid = Number(TEMP_FILE.exec(name)?.[1]);
  if (!pid || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return systemErrorCode(error) === 'ESRCH';
  }
}

/**
 * Writes `content` to a new file in `dir` with an unpredictable name, created exclusively
 * (O_CREAT|O_EXCL: a planted file or symlink makes it fail rather than be followed) with `mode`
 * before any byte is written. Returns the file's name; the caller renames it
 * into place, which replaces a link rather than following it. No fsync: what this guards
 * against is an interrupted or killed process, whose writes the kernel keeps.
 */
export async function writeTemp(dir: string, content: string, mode: number): Promise<string> {
  const name = `.fleet-tls-${process.pid}-${randomBytes(12).toString('hex')}.tmp`;
  const handle = await open(path.join(dir, name), 'wx', mode);
  try {
    await handle.writeFile(content);
    await handle.chmod(mode); // the umask may have narrowed a 0644 certificate; never widens a key
  } finally {
    await handle.close();
  }
  return name;
}

/** What is at `file`, without following a link. */
export async function entryKind(file: string): Promise<'missing' | 'file' | 'symlink' | 'other'> {
  try {
    const stat = await lstat(file);
    return stat.isSymbolicLink() ? 'symlink' : stat.isFile() ? 'file' : 'other';
  } catch (error) {
    if (systemErrorCode(error) === 'ENOENT') return 'missing';
    throw error;
  }
}

/** Reads a regular file without following a symlink at its name (undefined when absent). */
export async function readOwnFile(file: string): Promise<string | undefined> {
  let handle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    if (systemErrorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}
