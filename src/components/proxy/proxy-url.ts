import { HarnessError } from '../../errors.js';

/**
 * The proxy settings of elastic-agent-libs `httpcommon.HTTPClientProxySettings`: `proxy_url`,
 * `proxy_headers` (sent on CONNECT only) and `proxy_disable` (which also ignores HTTP_PROXY and
 * friends). Source: elastic-agent-libs transport/httpcommon/proxy.go.
 */
export interface ProxySettings {
  readonly url?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly disable?: boolean;
}

/** The --proxy-url schemes the agent takes (Go's http.Transport and its SOCKS5 dialer). */
export type ProxyScheme = 'http' | 'https' | 'socks5';

/** A proxy the client dials first, with where the fake really listens when the URL names another place. */
export interface ProxyRoute {
  readonly url: URL;
  readonly scheme: ProxyScheme;
  /** Go's canonicalAddr: the URL's host and port, or the scheme's default port. */
  readonly host: string;
  readonly port: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly connectTo?: { readonly host: string; readonly port: number };
}

/** net/http's portMap, which canonicalAddr uses for a proxy URL without a port. */
const DEFAULT_PORT: Record<ProxyScheme, number> = { http: 80, https: 443, socks5: 1080 };

/**
 * Reads a proxy URL as bad input or a route. Go's url.Parse takes far more than this (an `ftp://`
 * proxy is dialled like an http one), but the harness only emulates the three schemes Elastic
 * documents ("HTTP Connect (HTTP 1 only) and SOCKS5"), so anything else is refused up front.
 */
export function parseProxyUrl(value: string, flag: string, headers: Readonly<Record<string, string>> = {}): ProxyRoute {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new HarnessError('FTH_USAGE', `${flag}: '${value}' is not a URL`);
  }
  const scheme = url.protocol.replace(/:$/, '');
  if (scheme !== 'http' && scheme !== 'https' && scheme !== 'socks5') {
    throw new HarnessError('FTH_USAGE', `${flag}: unsupported proxy scheme "${scheme}" (http, https or socks5)`);
  }
  if (!url.hostname) throw new HarnessError('FTH_USAGE', `${flag}: '${value}' names no proxy host`);
  try {
    decodeURIComponent(url.username);
    decodeURIComponent(url.password);
  } catch {
    // Go's url.Parse refuses it too ("invalid URL escape").
    throw new HarnessError('FTH_USAGE', `${flag}: '${value}' has an invalid URL escape in its user info`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return { url, scheme, host, port: Number(url.port || DEFAULT_PORT[scheme]), headers };
}

/** Settings that apply, or none: `proxy_disable` and an empty URL both mean a direct dial. */
export function proxyRoute(settings: ProxySettings | undefined, flag = 'proxy_url'): ProxyRoute | undefined {
  if (!settings?.url || settings.disable) return undefined;
  return parseProxyUrl(settings.url, flag, settings.headers ?? {});
}

/** net/http's proxyAuth: Basic over the URL's user info, percent-decoded. */
export function proxyAuthorization(url: URL): string | undefined {
  const credentials = urlCredentials(url);
  if (!credentials) return undefined;
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

/** A user name and password a fake proxy demands (Basic for CONNECT, RFC 1929 for SOCKS5). */
export interface ProxyCredentials {
  readonly username: string;
  readonly password: string;
}

/** `user:pass` as a harness flag gives it: everything after the first colon is the password. */
export function parseUserPass(value: string, flag: string): ProxyCredentials {
  const at = value.indexOf(':');
  if (at < 0) throw new HarnessError('FTH_USAGE', `${flag}: '${value}' is not user:pass`);
  return { username: value.slice(0, at), password: value.slice(at + 1) };
}

/** The credentials a proxy URL carries in its user info, percent-decoded, if any. */
export function urlCredentials(url: URL): ProxyCredentials | undefined {
  if (!url.username && !url.password) return undefined;
  return { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
}

/** Whether a Proxy-Authorization value carries `expected` as Basic (what tinyproxy's and squid's basic auth check). */
export function carriesBasic(header: string | undefined, expected: ProxyCredentials): boolean {
  const match = /^Basic\s+(\S+)$/i.exec(header ?? '');
  return match !== null && Buffer.from(match[1]!, 'base64').toString('utf8') === `${expected.username}:${expected.password}`;
}

/** `--proxy-header k=v` (pflag's stringToString: comma-separated pairs, repeatable). */
export function parseProxyHeaders(values: readonly string[], flag = '--proxy-header'): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const value of values) {
    for (const pair of value.split(',').filter(Boolean)) {
      const at = pair.indexOf('=');
      if (at <= 0) throw new HarnessError('FTH_USAGE', `invalid argument "${value}" for "${flag}" flag: ${pair} must be formatted as key=value`);
      headers[pair.slice(0, at)] = pair.slice(at + 1);
    }
  }
  return headers;
}

/** Go's host:port rendering. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
