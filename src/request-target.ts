/**
 * The path and query of an HTTP request target as a server reads them. WHATWG URL parsing throws
 * on targets a peer may send (`//`, `//[`), which must reach the router as a path, not as an
 * exception in a request handler: Go's net/http and Netty route such a path (to a 404 or 400).
 */
export function requestTarget(target: string | undefined): { readonly pathname: string; readonly searchParams: URLSearchParams } {
  const raw = target ?? '/';
  try {
    const url = new URL(raw, 'http://server');
    // `//host/path` would read as an authority; a request line's target is a path.
    if (!raw.startsWith('//')) return { pathname: url.pathname, searchParams: url.searchParams };
  } catch {
    // fall through: split it by hand
  }
  const query = raw.indexOf('?');
  return { pathname: query < 0 ? raw : raw.slice(0, query), searchParams: new URLSearchParams(query < 0 ? '' : raw.slice(query + 1)) };
}
