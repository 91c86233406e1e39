/**
 * How the install plan reads flags: values, paths and lists, and an error that names the flag at
 * fault (never the file loader's own words alone), shared by the plan's parts.
 */
import { HarnessError } from '../errors.js';
import { MaterialError, type MaterialRole } from '../tls/material.js';

/** How a command's flags are read: values, paths (placeholders resolved) and comma lists of paths. */
export interface FlagReader {
  str(name: string): string | undefined;
  file(name: string): string | undefined;
  list(name: string): string[] | undefined;
}

export function safeUrl(value: string, flag: string): URL {
  try {
    return new URL(value);
  } catch {
    throw usage(`${flag}: '${value}' is not a URL`);
  }
}

export function oneOf<T>(parse: () => T, message: string): T {
  try {
    return parse();
  } catch {
    throw usage(message);
  }
}

/** The flags that give a certificate, its key, its passphrase or CAs: an error names the one at fault. */
export type FlagsByRole = Partial<Record<MaterialRole, string>> & { readonly certificate?: string };
export const AGENT_PAIR: FlagsByRole = { certificate: '--elastic-agent-cert', key: '--elastic-agent-cert-key', passphrase: '--elastic-agent-cert-key-passphrase' };
export const FLEET_PAIR: FlagsByRole = { certificate: '--fleet-server-cert', key: '--fleet-server-cert-key', passphrase: '--fleet-server-cert-key-passphrase' };
export const FLEET_ES_PAIR: FlagsByRole = { certificate: '--fleet-server-es-cert', key: '--fleet-server-es-cert-key' };
export const ES_PAIR: FlagsByRole = { certificate: '--es-cert', key: '--es-cert-key' };

export function withFlag<T>(flags: FlagsByRole | string, load: () => T): T {
  try {
    return load();
  } catch (error) {
    throw flagError(error, flags);
  }
}

export function flagError(error: unknown, flags: FlagsByRole | string): HarnessError {
  const byRole: FlagsByRole = typeof flags === 'string' ? { certificate: flags, authority: flags } : flags;
  const flag = (error instanceof MaterialError ? byRole[error.role] : undefined) ?? byRole.certificate ?? byRole.authority ?? 'a flag';
  if (error instanceof HarnessError) return new HarnessError(error.code, `${flag} ${error.message}`, { cause: error });
  return new HarnessError('FTH_FILE_MALFORMED', `${flag}: ${(error as Error).message}`, { cause: error });
}

export function usage(message: string): HarnessError {
  return new HarnessError('FTH_USAGE', message);
}

