/**
 * The harness's `--policy-*` flags: what the agent policy says once it takes over after enrollment
 * (in a real stack: Kibana → Fleet → Settings, the Fleet Server host, the output and their proxies).
 * Without them the policy mirrors what the enrollment used, so a plain command behaves as before.
 */
import { HarnessError } from '../errors.js';
import type { PolicyOutput } from '../components/output.js';
import type { PolicyFleet } from '../components/policy.js';
import { parseProxyHeaders, parseProxyUrl, parseUserPass } from '../components/proxy/proxy-url.js';
import { loadCertificateAuthorities } from '../tls/material.js';
import { parseVerificationMode } from '../tls/settings.js';
import type { ParsedFlags } from './install-flags.js';

/** The flags' descriptions, for `install --help` (install-flags.ts lists them). */
export const POLICY_FLAG_SPECS = [
  { name: 'policy-fleet-url', kind: 'string', description: 'Fleet Server host the policy gives agents once it takes over (Fleet → Settings → Fleet Server hosts); default: --url. An agent running Fleet Server itself (--fleet-server-es) keeps --url, as the real one does' },
  { name: 'policy-fleet-ca', kind: 'string', description: 'comma-separated CA files of that host\'s ssl.certificate_authorities; replaces --certificate-authorities once the policy takes over (default none: the agent keeps --certificate-authorities)' },
  { name: 'policy-fleet-verification-mode', kind: 'string', description: 'ssl.verification_mode of that host; the agent does not take it from the policy (it keeps the enrollment\'s), as elastic-agent\'s updateFleetConfig does' },
  { name: 'policy-fleet-proxy-url', kind: 'string', description: 'proxy_url of that host: the agent dials Fleet Server through it once the policy takes over (a fake proxy runs there)' },
  { name: 'policy-fleet-proxy-header', kind: 'string', description: 'proxy_headers k=v of that host (comma-separated pairs)' },
  { name: 'policy-fleet-proxy-disabled', kind: 'boolean', description: 'proxy_disable of that host' },
  { name: 'policy-output-hosts', kind: 'string', description: 'comma-separated hosts of the policy\'s Elasticsearch output (Fleet → Settings → Outputs); default: --fleet-server-es. Agents ship there; Fleet Server tests it and falls back to its bootstrap if it fails' },
  { name: 'policy-output-ca', kind: 'string', description: 'comma-separated CA files of the output\'s ssl.certificate_authorities, or none for an output without a CA (default: --fleet-server-es-ca)' },
  { name: 'policy-output-verification-mode', kind: 'string', description: 'ssl.verification_mode of the output: full, strict, certificate or none' },
  { name: 'policy-output-proxy-url', kind: 'string', description: 'proxy_url of the output: agents and Fleet Server\'s output test go through it (a fake proxy runs there)' },
  { name: 'policy-output-proxy-header', kind: 'string', description: 'proxy_headers k=v of the output (comma-separated pairs)' },
  { name: 'policy-output-proxy-disabled', kind: 'boolean', description: 'proxy_disable of the output' },
] as const;

/** What the flags change in the policy; each part absent when no flag touched it. */
export interface PlannedPolicy {
  readonly fleet: PolicyFleet;
  /** --proxy-require-auth: what the fake proxies of the policy demand instead of their URL's credentials. */
  readonly proxyAuth?: { readonly username: string; readonly password: string };
  /** Output keys to set (undefined values remove a key, e.g. `--policy-output-ca=none`). */
  readonly output: Partial<Record<keyof PolicyOutput | 'ssl.certificate_authorities' | 'ssl.verification_mode', unknown>>;
}

interface Reader {
  str(name: string): string | undefined;
  list(name: string): string[] | undefined;
}

/** Reads the `--policy-*` flags; bad input is exit 2 naming the flag. */
export function planPolicy(flags: ParsedFlags, reader: Reader, enrollmentUrl: string, notes: string[]): PlannedPolicy {
  const v = flags.values;
  const { str, list } = reader;
  const url = str('policy-fleet-url') ?? enrollmentUrl;
  checkUrl(url, '--policy-fleet-url');
  const headers = (name: string) => {
    const values = flags.repeated[name] ?? (typeof v[name] === 'string' ? [v[name] as string] : []);
    return values.length ? parseProxyHeaders(values, `--${name}`) : undefined;
  };
  const cas = (name: string) => {
    const files = list(name);
    if (!files) return undefined;
    // Kibana hands certificates to agents inline; a file the harness cannot read is the flag's fault.
    return loadCertificateAuthorities(files).map((c) => c.pem);
  };
  const mode = (name: string) => {
    const value = str(name);
    if (value === undefined) return undefined;
    try {
      return parseVerificationMode(value, `--${name}`);
    } catch {
      throw new HarnessError('FTH_USAGE', `--${name}: '${value}' is not full, strict, certificate or none`);
    }
  };
  const proxyUrl = (name: string) => {
    const value = str(name);
    if (value !== undefined) parseProxyUrl(value, `--${name}`);
    return value;
  };
  const fleetCas = withFlag('--policy-fleet-ca', () => cas('policy-fleet-ca'));
  const fleetMode = mode('policy-fleet-verification-mode');
  if (fleetMode) notes.push(`--policy-fleet-verification-mode: the agent keeps its enrollment verification mode; it takes only the CAs and the certificate from the policy's Fleet Server host`);
  const fleetProxy = proxyUrl('policy-fleet-proxy-url');
  const fleetHeaders = headers('policy-fleet-proxy-header');
  const fleet: PolicyFleet = {
    hosts: [url],
    ...(fleetCas || fleetMode ? { ssl: { ...(fleetCas ? { certificate_authorities: fleetCas } : {}), ...(fleetMode ? { verification_mode: fleetMode } : {}) } } : {}),
    ...(fleetProxy ? { proxy_url: fleetProxy } : {}),
    ...(fleetHeaders ? { proxy_headers: fleetHeaders } : {}),
    ...(v['policy-fleet-proxy-disabled'] === true ? { proxy_disable: true } : {}),
  };
  const output: Record<string, unknown> = {};
  const hosts = str('policy-output-hosts')?.split(',').filter(Boolean);
  if (hosts) {
    for (const host of hosts) checkUrl(host, '--policy-output-hosts');
    output.hosts = hosts;
  }
  const outputCa = str('policy-output-ca');
  if (outputCa === 'none') output['ssl.certificate_authorities'] = undefined;
  else if (outputCa !== undefined) output['ssl.certificate_authorities'] = withFlag('--policy-output-ca', () => cas('policy-output-ca'));
  const outputMode = mode('policy-output-verification-mode');
  if (outputMode) output['ssl.verification_mode'] = outputMode;
  const outputProxy = proxyUrl('policy-output-proxy-url');
  if (outputProxy) output.proxy_url = outputProxy;
  const outputHeaders = headers('policy-output-proxy-header');
  if (outputHeaders) output.proxy_headers = outputHeaders;
  if (v['policy-output-proxy-disabled'] === true) output.proxy_disable = true;
  const required = str('proxy-require-auth');
  const proxyAuth = required !== undefined ? parseUserPass(required, '--proxy-require-auth') : undefined;
  return { fleet, output, ...(proxyAuth ? { proxyAuth } : {}) };
}

/** The policy's output with the flags' changes (the flow's or scenario's output underneath). */
export function withPolicyOutput<T extends PolicyOutput & { hosts: readonly string[] }>(base: T, changes: PlannedPolicy['output']): T {
  const ssl: Record<string, unknown> = { ...base.ssl };
  const top: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(changes)) {
    const target = key.startsWith('ssl.') ? ssl : top;
    const name = key.replace(/^ssl\./, '');
    if (value === undefined) delete target[name];
    else target[name] = value;
  }
  delete top.ssl;
  return { ...top, ...(Object.keys(ssl).length ? { ssl } : {}) } as T;
}

function checkUrl(value: string, flag: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new HarnessError('FTH_USAGE', `${flag}: '${value}' is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new HarnessError('FTH_USAGE', `${flag}: '${value}' is not an http or https URL`);
}

function withFlag<T>(flag: string, load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (error instanceof HarnessError) throw new HarnessError(error.code, `${flag} ${error.message}`, { cause: error });
    throw new HarnessError('FTH_FILE_MALFORMED', `${flag}: ${(error as Error).message}`, { cause: error });
  }
}
