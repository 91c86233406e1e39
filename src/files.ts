import { mkdir, stat } from 'node:fs/promises';
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
