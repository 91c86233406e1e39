/**
 * The proxies `serve` can start beside the fakes: a forward proxy (HTTP CONNECT, tinyproxy's
 * words), a SOCKS5 proxy (dante's words), a secure proxy (TLS-terminating, nginx's words) in
 * front of the Fleet Server that `serve` runs, and a TLS-intercepting proxy (squid ssl-bump's words). Each listens on the port its flag gives (0: any
 * free one), prints its URL when ready and its lines under its own name.
 */
import type { Command } from 'commander';
import { FakeForwardProxy } from '../../components/proxy/forward-proxy.js';
import { FakeSecureProxy, type SecureProxyOptions } from '../../components/proxy/secure-proxy.js';
import { FakeSocksProxy } from '../../components/proxy/socks-proxy.js';
import { ComponentLog, type LogEntry } from '../../components/log.js';
import { HarnessError, isHarnessError } from '../../errors.js';
import type { Pki } from '../../pki/store.js';
import { loadCertificateAuthorities, loadIdentity } from '../../tls/material.js';
import { parseClientAuthentication, type ClientAuthentication, type VersionRange } from '../../tls/settings.js';
import { credentials, named, parsePort, type Credentials } from './shared.js';
import { INTERCEPT_OPTIONS, planIntercept, startIntercept, type InterceptFlags, type InterceptPlan } from './serve-intercept.js';

export interface ServeProxyFlags extends InterceptFlags {
  forwardProxy?: string;
  forwardProxyAuth?: string;
  forwardProxyConnectPorts?: string;
  socksProxy?: string;
  socksProxyAuth?: string;
  secureProxy?: string;
  secureProxyCert?: string;
  secureProxyCertKey?: string;
  secureProxyClientAuth: string;
  secureProxyClientCa?: string;
  secureProxyUpstreamCa?: string;
}

export function addProxyOptions(command: Command): Command {
  for (const [flags, description] of INTERCEPT_OPTIONS) command.option(flags, description);
  return command
    .option('--forward-proxy <port>', 'also start a forward proxy (HTTP CONNECT, answers and logs as tinyproxy) on this port (0: any free port)')
    .option('--forward-proxy-auth <user:pass>', 'the forward proxy answers 407 to a request without these Basic credentials in Proxy-Authorization')
    .option('--forward-proxy-connect-ports <ports>', 'comma-separated ports the forward proxy lets CONNECT reach (tinyproxy\'s ConnectPort); others get 403 (default: every port)')
    .option('--socks-proxy <port>', 'also start a SOCKS5 proxy (answers and logs as dante) on this port (0: any free port)')
    .option('--socks-proxy-auth <user:pass>', 'the SOCKS5 proxy takes only the username/password method, with these')
    .option('--secure-proxy <port>', 'also start a TLS-terminating proxy (answers and logs as nginx) in front of the fake Fleet Server, on this port (0: any free port)')
    .option('--secure-proxy-cert <file>', 'certificate the secure proxy presents (default: fleet-cert from --certs)')
    .option('--secure-proxy-cert-key <file>', 'its private key (default: fleet-cert.key from --certs)')
    .option('--secure-proxy-client-auth <mode>', 'none, optional or required: ssl_verify_client of the secure proxy', 'none')
    .option('--secure-proxy-client-ca <files>', 'comma-separated CAs the secure proxy trusts for client certificates (default: agent-ca from --certs)')
    .option('--secure-proxy-upstream-ca <file>', 'CA the secure proxy verifies Fleet Server with (proxy_ssl_verify on); absent: it does not verify, as nginx by default');
}

/** What the flags ask for, checked before anything listens (bad input starts nothing). */
export interface ProxyPlan {
  readonly forward?: { readonly port: number; readonly auth?: Credentials; readonly connectPorts?: readonly number[] };
  readonly socks?: { readonly port: number; readonly auth?: Credentials };
  readonly secure?: { readonly port: number; readonly options: SecureInput };
  readonly intercept?: InterceptPlan;
}

/** The secure proxy's public start options that the flags set (upstream, host and port come at start). */
type SecureInput = Pick<SecureProxyOptions, 'identity' | 'clientAuthentication' | 'clientCertificateAuthorities' | 'upstreamAuthorities'> & {
  readonly clientAuthentication: ClientAuthentication;
};

export function planProxies(flags: ServeProxyFlags, pki: Pki): ProxyPlan {
  const secureOnly = ['secureProxyCert', 'secureProxyCertKey', 'secureProxyClientCa', 'secureProxyUpstreamCa'] as const;
  if (flags.secureProxy === undefined) {
    const stray = secureOnly.find((k) => flags[k] !== undefined) ?? (flags.secureProxyClientAuth !== 'none' ? 'secureProxyClientAuth' : undefined);
    if (stray) throw new HarnessError('FTH_USAGE', `${flagName(stray)} needs --secure-proxy`);
  }
  for (const key of ['forwardProxyAuth', 'forwardProxyConnectPorts'] as const) {
    if (flags[key] !== undefined && flags.forwardProxy === undefined) throw new HarnessError('FTH_USAGE', `${flagName(key)} needs --forward-proxy`);
  }
  if (flags.socksProxyAuth !== undefined && flags.socksProxy === undefined) throw new HarnessError('FTH_USAGE', '--socks-proxy-auth needs --socks-proxy');
  const forward = flags.forwardProxy === undefined ? undefined : {
    port: parsePort(flags.forwardProxy, '--forward-proxy'),
    ...(flags.forwardProxyAuth !== undefined ? { auth: credentials(flags.forwardProxyAuth, '--forward-proxy-auth') } : {}),
    ...(flags.forwardProxyConnectPorts !== undefined ? { connectPorts: flags.forwardProxyConnectPorts.split(',').map((p) => parsePort(p, '--forward-proxy-connect-ports')) } : {}),
  };
  const socks = flags.socksProxy === undefined ? undefined : {
    port: parsePort(flags.socksProxy, '--socks-proxy'),
    ...(flags.socksProxyAuth !== undefined ? { auth: credentials(flags.socksProxyAuth, '--socks-proxy-auth') } : {}),
  };
  let secure: ProxyPlan['secure'];
  if (flags.secureProxy !== undefined) {
    const port = parsePort(flags.secureProxy, '--secure-proxy');
    if (Boolean(flags.secureProxyCert) !== Boolean(flags.secureProxyCertKey)) throw new HarnessError('FTH_USAGE', '--secure-proxy-cert and --secure-proxy-cert-key go together');
    let clientAuthentication: ClientAuthentication;
    try {
      clientAuthentication = parseClientAuthentication(flags.secureProxyClientAuth);
    } catch {
      throw new HarnessError('FTH_USAGE', '--secure-proxy-client-auth must be one of [none, optional, required]');
    }
    const identity = named({ certificate: '--secure-proxy-cert', key: '--secure-proxy-cert-key' },
      () => loadIdentity(flags.secureProxyCert ?? pki.certPath('fleet-cert'), flags.secureProxyCertKey ?? pki.keyPath('fleet-cert')));
    const clientCas = flags.secureProxyClientCa?.split(',').filter(Boolean) ?? [pki.certPath('agent-ca')];
    const clientCertificateAuthorities = named('--secure-proxy-client-ca', () => loadCertificateAuthorities(clientCas));
    const upstreamAuthorities = flags.secureProxyUpstreamCa === undefined ? undefined
      : named('--secure-proxy-upstream-ca', () => loadCertificateAuthorities([flags.secureProxyUpstreamCa!]));
    secure = { port, options: { identity, clientAuthentication, clientCertificateAuthorities, ...(upstreamAuthorities ? { upstreamAuthorities } : {}) } };
  }
  const intercept = planIntercept(flags, pki, flagName);
  return { ...(forward ? { forward } : {}), ...(socks ? { socks } : {}), ...(secure ? { secure } : {}), ...(intercept ? { intercept } : {}) };
}

/** Proxies that listen, with the lines `serve` prints when ready. */
export interface StartedProxies {
  readonly logs: readonly ComponentLog[];
  readonly ready: Record<string, string>;
  readonly lines: readonly string[];
  close(): Promise<void>;
}

/** What a caller knows beyond the flags: `proxy` resolves the secure proxy's upstream host itself, as nginx does at start. */
export interface StartExtras {
  readonly secureUpstreamConnectTo?: { readonly host: string; readonly port: number };
}

/**
 * Starts what the plan asks for on `host`; a taken port names its flag. On any failure the
 * proxies already listening are closed before the error goes up.
 */
export async function startProxies(plan: ProxyPlan, host: string, fleetServerUrl: string, versions: VersionRange, extra: StartExtras = {}): Promise<StartedProxies> {
  const started: Array<{ close(): Promise<void> }> = [];
  const logs: ComponentLog[] = [];
  const ready: Record<string, string> = {};
  const lines: string[] = [];
  const start = async <T extends { close(): Promise<void> }>(flag: string, run: () => Promise<T>): Promise<T> => {
    try {
      const proxy = await run();
      started.push(proxy);
      return proxy;
    } catch (error) {
      await Promise.all(started.map((p) => p.close()));
      if (isHarnessError(error, 'FTH_PORT_IN_USE') || isHarnessError(error, 'FTH_LISTEN_FAILED')) {
        throw new HarnessError(error.code, error.message.replace(/^proxy:/, `${flag}:`), { cause: error });
      }
      throw error;
    }
  };
  if (plan.forward) {
    const log = new ComponentLog('forward-proxy');
    const { port, auth, connectPorts } = plan.forward;
    const proxy = await start('--forward-proxy', () => FakeForwardProxy.start({ host, port, log, ...(auth ? { auth } : {}), ...(connectPorts ? { connectPorts } : {}) }));
    logs.push(log);
    ready.forwardProxy = proxy.url;
    const ports = connectPorts ? ` to port ${connectPorts.join(', ')} only` : '';
    lines.push(`fake forward proxy  ${proxy.url}  (HTTP CONNECT${ports}; ${auth ? `Proxy-Authorization required, user ${auth.username}` : 'no authentication'})`);
  }
  if (plan.socks) {
    const log = new ComponentLog('socks-proxy');
    const { port, auth } = plan.socks;
    const proxy = await start('--socks-proxy', () => FakeSocksProxy.start({ host, port, log, ...(auth ? { auth } : {}) }));
    logs.push(log);
    ready.socksProxy = proxy.url;
    lines.push(`fake SOCKS5 proxy   ${proxy.url}  (${auth ? `username/password, user ${auth.username}` : 'no authentication'})`);
  }
  if (plan.secure) {
    const log = new ComponentLog('secure-proxy');
    const { port, options } = plan.secure;
    const proxy = await start('--secure-proxy', () => FakeSecureProxy.start({
      ...options, upstream: fleetServerUrl, host, port, log, versions,
      ...(extra.secureUpstreamConnectTo ? { upstreamConnectTo: extra.secureUpstreamConnectTo } : {}),
    }));
    logs.push(log);
    ready.secureProxy = proxy.url;
    lines.push(`fake secure proxy   ${proxy.url}  -> ${fleetServerUrl}  (client authentication: ${options.clientAuthentication}; upstream ${options.upstreamAuthorities ? 'verified' : 'not verified'})`);
  }
  if (plan.intercept) {
    const { proxy, line, ready: urls } = await start('--proxy-intercept', () => startIntercept(plan.intercept!, host, versions).then((s) => Object.assign(s, { close: () => s.proxy.close() })));
    logs.push(proxy.log);
    Object.assign(ready, urls);
    lines.push(line);
  }
  return { logs, ready, lines, close: async () => void (await Promise.all(started.map((p) => p.close()))) };
}

/** nginx numbers the connection an error-log line is about (`*3 ...`): printed as nginx does. */
export function proxyLine(entry: LogEntry): string {
  const connection = entry.component === 'secure-proxy' ? entry.fields?.connection : undefined;
  return typeof connection === 'number' ? `*${connection} ${entry.message}` : entry.message;
}

function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

