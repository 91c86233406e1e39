/** Go's net/http portMap: the port a URL means when it names none. */
const DEFAULT_PORTS: Readonly<Record<string, number>> = { 'http:': 80, 'https:': 443, 'socks5:': 1080 };

/** Where a URL points: its host without IPv6 brackets, and its port or its scheme's (Go's canonicalAddr). */
export function endpointOf(url: URL): { readonly host: string; readonly port: number } {
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || (DEFAULT_PORTS[url.protocol] ?? 443)) };
}
