import path from 'node:path';
import { HarnessError } from '../../errors.js';
import { ensurePki, type Pki, type PkiAction } from '../../pki/store.js';
import { BUILTIN_HARNESS, checkCatalogDir, loadCatalog, type Catalog } from '../../scenarios/catalog.js';
import { MaterialError } from '../../tls/material.js';
import { parseTlsVersion, TLS_VERSIONS, type TlsVersion } from '../../tls/settings.js';
import type { Io } from '../io.js';

/** Resolves `--certs`, then reuses or generates the PKI there (the fakes need it either way). */
/** The PKI in `dir` (made or renewed there); `check` refuses bad flags before anything is written. */
export async function pkiFor(io: Io, dir: string, check?: (pki: Pki) => void): Promise<{ pki: Pki; actions: PkiAction[] }> {
  return ensurePki({ dir: path.resolve(io.cwd, dir), ...(check ? { check } : {}) });
}

/**
 * `--catalog DIR`, once per directory. Not variadic: `run --catalog DIR ID` would take ID as a
 * second directory.
 */
export const CATALOG_FLAG = ['--catalog <dir>', 'another catalog directory with flows/ and scenarios/ (repeatable)'] as const;

export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** The built-in catalog, then the directories of `--catalog`, each checked to be one. */
export function catalogFor(io: Io, extra: readonly string[] = []): Catalog {
  const dirs = extra.map((dir) => path.resolve(io.cwd, dir));
  extra.forEach((given, i) => {
    try {
      checkCatalogDir(dirs[i]!);
    } catch (error) {
      if (error instanceof HarnessError) throw new HarnessError(error.code, error.message.replace(/^catalog [^:]*:/, `--catalog ${given}:`));
      throw error;
    }
  });
  return loadCatalog([BUILTIN_HARNESS, ...dirs]);
}

export function describePki(pki: Pki, actions: readonly PkiAction[], io: Io): string {
  const generated = actions.filter((a) => a.action === 'generated');
  const where = path.relative(io.cwd, pki.dir) || '.';
  return generated.length === 0
    ? `PKI: ${where}/ (reused)`
    : `PKI: ${where}/ (generated ${generated.map((a) => a.name).join(', ')})`;
}

export function parseVersions(value: string, flag = '--tls'): TlsVersion[] {
  if (value === 'both') return [...TLS_VERSIONS];
  try {
    return [parseTlsVersion(value)];
  } catch {
    throw new HarnessError('FTH_USAGE', `${flag}: '${value}' is not one of 1.2, 1.3, both`);
  }
}

export function parsePort(value: string, flag: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new HarnessError('FTH_USAGE', `${flag}: '${value}' is not a port number (0-65535)`);
  return port;
}

/** A `user:pass` flag value (a proxy's required credentials). */
export interface Credentials { readonly username: string; readonly password: string }

export function credentials(value: string, flag: string): Credentials {
  const at = value.indexOf(':');
  if (at <= 0) throw new HarnessError('FTH_USAGE', `${flag}: '${value}' is not user:pass`);
  return { username: value.slice(0, at), password: value.slice(at + 1) };
}

export function parseCount(value: string, flag: string): number {
  const count = Number(value);
  if (!/^\d+$/.test(value) || count < 1) throw new HarnessError('FTH_USAGE', `${flag}: '${value}' is not a positive whole number`);
  return count;
}

/** A loading error names the flag that gave the file. */
export function named<T>(flags: string | Record<string, string>, load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (!(error instanceof MaterialError)) throw error;
    const flag = typeof flags === 'string' ? flags : flags[error.role] ?? flags.certificate!;
    throw new HarnessError(error.code, `${flag} ${error.message}`, { cause: error });
  }
}
