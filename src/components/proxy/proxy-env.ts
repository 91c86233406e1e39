/**
 * Go's http.ProxyFromEnvironment (golang.org/x/net/http/httpproxy, as Go 1.19 vendors it), which
 * elastic-agent-libs' transport falls back on when a client has no proxy_url and proxy_disable
 * is false: so a real agent, and its Beats, honour HTTPS_PROXY, HTTP_PROXY and NO_PROXY.
 */
import net from 'node:net';
import { endpointOf } from '../../endpoint.js';

/** The proxy URL the environment gives for a request to `target`, or undefined to go direct. */
export function proxyFromEnvironment(env: NodeJS.ProcessEnv, target: URL): string | undefined {
  const pick = (name: string) => env[name.toUpperCase()] || env[name] || undefined;
  const configured = target.protocol === 'https:' ? pick('https_proxy') : target.protocol === 'http:' ? pick('http_proxy') : undefined;
  if (!configured) return undefined;
  const { host, port } = endpointOf(target);
  if (!useProxy(host.toLowerCase(), String(port), pick('no_proxy') ?? '')) return undefined;
  // A value without a scheme is an http:// proxy, as httpproxy's parseProxy reads it.
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(configured) ? configured : `http://${configured}`;
}

function useProxy(host: string, port: string, noProxy: string): boolean {
  if (host === 'localhost') return false;
  const ip = net.isIP(host) ? host : undefined;
  if (ip && isLoopback(ip)) return false;
  for (const raw of noProxy.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return false;
    if (entry.includes('/') && ip) {
      if (inCidr(ip, entry)) return false;
      continue;
    }
    const [entryHost, entryPort] = splitHostPort(entry);
    if (net.isIP(entryHost)) {
      if (ip === entryHost && (!entryPort || entryPort === port)) return false;
      continue;
    }
    // "example.com" and "*.example.com" match the domain and its subdomains; ".example.com" only subdomains.
    const bare = entryHost.startsWith('*') ? entryHost.slice(1) : entryHost;
    const matchesHost = !bare.startsWith('.');
    const suffix = matchesHost ? `.${bare}` : bare;
    if ((host.endsWith(suffix) || (matchesHost && host === suffix.slice(1))) && (!entryPort || entryPort === port)) return false;
  }
  return true;
}

function splitHostPort(entry: string): [string, string | undefined] {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return [bracketed[1]!, bracketed[2]];
  const colon = entry.lastIndexOf(':');
  // A bare IPv6 address has colons of its own and no port.
  if (colon < 0 || net.isIPv6(entry)) return [entry, undefined];
  return [entry.slice(0, colon), entry.slice(colon + 1)];
}

function isLoopback(ip: string): boolean {
  return net.isIPv4(ip) ? ip.startsWith('127.') : ip === '::1';
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  if (!base || bits === undefined || net.isIP(base) !== net.isIP(ip)) return false;
  const list = new net.BlockList();
  try {
    list.addSubnet(base, Number(bits), net.isIPv6(base) ? 'ipv6' : 'ipv4');
  } catch {
    return false;
  }
  return list.check(ip, net.isIPv6(ip) ? 'ipv6' : 'ipv4');
}
