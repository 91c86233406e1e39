import { Option, type Command } from 'commander';
import { HarnessError } from '../../errors.js';
import { MODES, probe, type ProbeResult } from '../../probe/probe.js';
import { loadCertificateAuthorities, loadIdentity } from '../../tls/material.js';
import { named } from './shared.js';
import { DEFAULT_VERSIONS, only, parseTlsVersion } from '../../tls/settings.js';
import type { Io } from '../io.js';
import { parseProxyHeaders, parseProxyUrl, type ProxyRoute } from '../../components/proxy/proxy-url.js';

interface ProbeFlags {
  certificateAuthorities?: string;
  caSha256?: string;
  caTrustedFingerprint?: string;
  elasticAgentCert?: string;
  elasticAgentCertKey?: string;
  elasticAgentCertKeyPassphrase?: string;
  insecure?: boolean;
  tls: string;
  connectTo?: string;
  proxyUrl?: string;
  proxyHeader?: string[];
  proxyDisabled?: boolean;
  json?: boolean;
}

export function registerProbe(program: Command, io: Io): void {
  program
    .command('probe')
    .description('the fake agent against any HTTPS server: its chain, version, cipher, client-certificate request and the verdict under each verification mode')
    .argument('<url>', 'the server, e.g. https://fleet.example.com:8220/api/status')
    .option('-a, --certificate-authorities <files>', 'comma-separated CA files the agent trusts (default: the system roots)')
    .option('-p, --ca-sha256 <pins>', 'comma-separated base64 SHA-256 pins of CA public keys')
    .option('--ca-trusted-fingerprint <hex>', 'hex SHA-256 of a CA certificate the server sends')
    .option('--elastic-agent-cert <file>', 'client certificate, sent when the server asks for one of its issuer')
    .option('--elastic-agent-cert-key <file>', 'its private key')
    .option('--elastic-agent-cert-key-passphrase <file>', 'file holding the key passphrase (read as-is)')
    .option('-i, --insecure', 'report the leg under verification mode none (every mode is probed anyway)')
    .addOption(new Option('--tls <version>', 'TLS versions the agent offers: 1.2, 1.3 or both').default('both'))
    .option('--connect-to <host:port>', 'connect there instead of the URL\'s host (SNI and verification keep the URL\'s name)')
    .option('--proxy-url <url>', 'dial through this proxy as the agent does: http:// or https:// (CONNECT, credentials as user:pass@) or socks5://')
    .option('--proxy-header <header>', 'header sent to the proxy on CONNECT, k=v as the agent takes it or Name: value (repeatable)', (v: string, all: string[] | undefined) => [...(all ?? []), v])
    .option('--proxy-disabled', 'ignore --proxy-url, as the agent does')
    .option('--json', 'print { ok, legs, server, modes } as JSON')
    .action(async (url: string, flags: ProbeFlags) => {
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        throw new HarnessError('FTH_USAGE', `'${url}' is not a URL`);
      }
      if (parsed.protocol !== 'https:') throw new HarnessError('FTH_USAGE', `probe needs an https:// URL, not '${url}'`);
      if (Boolean(flags.elasticAgentCert) !== Boolean(flags.elasticAgentCertKey)) {
        throw new HarnessError('FTH_USAGE', '--elastic-agent-cert and --elastic-agent-cert-key go together');
      }
      const proxy = proxyFlags(flags);
      if (proxy && flags.connectTo) throw new HarnessError('FTH_USAGE', '--connect-to does not go with --proxy-url: the proxy dials the URL\'s host');
      const cas = flags.certificateAuthorities?.split(',').filter(Boolean);
      const certificateAuthorities = cas ? named('--certificate-authorities', () => loadCertificateAuthorities(cas)) : undefined;
      const certificate = flags.elasticAgentCert && flags.elasticAgentCertKey
        ? named({ certificate: '--elastic-agent-cert', key: '--elastic-agent-cert-key', passphrase: '--elastic-agent-cert-key-passphrase' },
          () => loadIdentity(flags.elasticAgentCert!, flags.elasticAgentCertKey!, flags.elasticAgentCertKeyPassphrase))
        : undefined;
      const result = await probe({
        url,
        ...(certificateAuthorities ? { certificateAuthorities } : {}),
        ...(flags.caSha256 ? { caSha256: flags.caSha256.split(',').filter(Boolean) } : {}),
        ...(flags.caTrustedFingerprint ? { caTrustedFingerprint: flags.caTrustedFingerprint } : {}),
        ...(certificate ? { certificate } : {}),
        mode: flags.insecure ? 'none' : 'full',
        versions: versions(flags.tls),
        ...(flags.connectTo ? { connectTo: hostPort(flags.connectTo) } : {}),
        ...(proxy ? { proxy } : {}),
      });
      io.out(flags.json ? `${JSON.stringify(result, null, 2)}\n` : renderProbe(result));
      io.exitCode = result.ok ? 0 : 1;
    });
}

/** --proxy-url with its headers; none with --proxy-disabled or an empty URL, as libs' proxy_disable. */
function proxyFlags(flags: ProbeFlags): ProxyRoute | undefined {
  const headers = proxyHeaders(flags.proxyHeader ?? []);
  if (flags.proxyUrl === undefined || flags.proxyUrl === '' || flags.proxyDisabled) {
    if (flags.proxyHeader?.length && !flags.proxyDisabled) throw new HarnessError('FTH_USAGE', '--proxy-header needs --proxy-url');
    return undefined;
  }
  return parseProxyUrl(flags.proxyUrl, '--proxy-url', headers);
}

/**
 * The agent's `k=v` (pflag's stringToString) or a header as curl takes it, `Name: value`:
 * whichever separator comes first (neither may appear in a header name).
 */
function proxyHeaders(values: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const value of values) {
    const colon = value.indexOf(':');
    const equals = value.indexOf('=');
    if (colon > 0 && (equals < 0 || colon < equals)) {
      const name = value.slice(0, colon).trim();
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new HarnessError('FTH_USAGE', `--proxy-header: '${value}' has no header name before its colon`);
      headers[name] = value.slice(colon + 1).trim();
    } else if (equals > 0) {
      Object.assign(headers, parseProxyHeaders([value]));
    } else {
      throw new HarnessError('FTH_USAGE', `--proxy-header: '${value}' is neither Name: value nor k=v`);
    }
  }
  return headers;
}

function versions(value: string) {
  if (value === 'both') return DEFAULT_VERSIONS;
  try {
    return only(parseTlsVersion(value));
  } catch {
    throw new HarnessError('FTH_USAGE', `--tls: '${value}' is not one of 1.2, 1.3, both`);
  }
}

function hostPort(value: string): { host: string; port: number } {
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(value);
  if (!match || Number(match[2]) > 65535) throw new HarnessError('FTH_USAGE', `--connect-to: '${value}' is not host:port`);
  return { host: match[1]!, port: Number(match[2]) };
}


/** What the proxy answered: the CONNECT status, the SOCKS reply, or the first hop's error. */
function hopSummary(hop: ProbeResult['legs'][number]): string {
  const tls = hop.tls ? `, TLS ${hop.tls.version} ${hop.tls.cipher}` : '';
  if (hop.ok) return `${hop.http ? `CONNECT answered ${hop.http.status}` : 'tunnel open'}${tls}`;
  const said = hop.logs.agent?.split('\n').at(-1) ?? '';
  return `${hop.http ? `CONNECT answered ${hop.http.status}` : 'FAIL'}${tls}: ${said}`;
}

export function renderProbe(result: ProbeResult): string {
  const lines: string[] = [];
  const hop = result.legs.find((l) => l.to === 'proxy');
  const leg = result.legs.find((l) => l.to !== 'proxy')!;
  if (hop) lines.push(`proxy ${hop.url}: ${hopSummary(hop)}`);
  lines.push(`${leg.url}: ${leg.skipped ? `not reached (${leg.skipped})` : leg.tls ? `TLS ${leg.tls.version} ${leg.tls.cipher}` : 'no TLS session'}`);
  lines.push('server chain:');
  result.server.chain.forEach((c, i) => lines.push(`  ${i} ${c.subject}  issued by ${c.issuer}`, `    SAN ${c.san.join(', ') || '(none)'}; not after ${c.notAfter}; sha256 ${c.sha256}`));
  if (result.server.chain.length === 0) lines.push('  (none received)');
  lines.push(result.server.clientCertificateRequested
    ? `client certificate: requested; acceptable CAs: ${result.server.acceptableCAs.join('; ') || '(any)'}`
    : 'client certificate: not requested');
  lines.push('verdict per verification mode:');
  for (const mode of MODES) {
    const v = result.modes[mode];
    lines.push(`  ${mode.padEnd(12)} ${v.ok ? 'ok  ' : 'FAIL'}  ${v.message.replace(/\n/g, ' | ')}`);
  }
  return `${lines.join('\n')}\n`;
}
