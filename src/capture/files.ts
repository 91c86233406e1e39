/**
 * Writes the report files a user asked for (`--html`, `--keylog`, `--pcap`): only the named
 * path, never through a symlink, and 0600 for the two that hold session secrets.
 */
import { constants } from 'node:fs';
import { lstat, open, stat } from 'node:fs/promises';
import path from 'node:path';
import { HarnessError } from '../errors.js';

export async function writeOutputFile(flag: string, file: string, data: string | Buffer, secret: boolean): Promise<void> {
  try {
    const handle = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, secret ? 0o600 : 0o644);
    try {
      // A file that already existed keeps its mode otherwise: secrets must not stay readable.
      if (secret) await handle.chmod(0o600);
      await handle.writeFile(data);
    } finally {
      await handle.close();
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ELOOP' ? 'is a symbolic link; not followed' : code === 'EISDIR' ? 'is a directory' : code === 'ENOENT' ? `directory ${path.dirname(file)} does not exist` : (error as Error).message;
    throw new HarnessError('FTH_FILE_UNWRITABLE', `${flag} ${file}: ${why}`, { cause: error });
  }
}

export interface OutputFlags {
  readonly html?: string;
  readonly keylog?: string;
  readonly pcap?: string;
}

const NAMES = ['html', 'keylog', 'pcap'] as const;

/**
 * Takes `--html FILE`, `--keylog FILE` and `--pcap FILE` (or `--x=FILE`) out of an install
 * command line; the rest goes to the install flag parser as it was.
 */
export function takeOutputFlags(args: readonly string[]): { rest: string[]; outputs: OutputFlags } {
  const rest: string[] = [];
  const outputs: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const name = NAMES.find((n) => arg === `--${n}` || arg.startsWith(`--${n}=`));
    if (!name) {
      rest.push(arg);
      continue;
    }
    const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : args[++i];
    if (value === undefined || value === '' || (!arg.includes('=') && value.startsWith('--'))) {
      throw new HarnessError('FTH_USAGE', `option '--${name} <file>' argument missing`);
    }
    outputs[name] = value;
  }
  return { rest, outputs };
}

/**
 * Refuses unusable output paths before a run that may take a minute: a symlink, a directory,
 * a missing parent directory.
 */
export async function checkOutputPaths(outputs: OutputFlags): Promise<void> {
  for (const name of NAMES) {
    const file = outputs[name];
    if (file === undefined) continue;
    const flag = `--${name}`;
    const existing = await lstat(file).catch(() => undefined);
    if (existing?.isSymbolicLink()) throw new HarnessError('FTH_FILE_UNWRITABLE', `${flag} ${file}: is a symbolic link; not followed`);
    if (existing?.isDirectory()) throw new HarnessError('FTH_FILE_UNWRITABLE', `${flag} ${file}: is a directory`);
    const parent = await stat(path.dirname(file)).catch(() => undefined);
    if (!parent?.isDirectory()) throw new HarnessError('FTH_FILE_UNWRITABLE', `${flag} ${file}: directory ${path.dirname(file)} does not exist`);
  }
}
