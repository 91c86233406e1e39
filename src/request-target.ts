/**
 * The path and query of an HTTP request target as a server reads them. WHATWG URL parsing throws
 * on targets a peer may send (`//`, `//[`), which must reach the router as a path, not as an
 * exception in a request handler: Go's net/http and Netty route such a path (to a 404 or 400).
 */
/**
 * Whether Go's net/url refuses the target's path as net/http reads a request line
 * (url.ParseRequestURI, unescape in path mode): a `%` not followed by two hex digits. The query
 * is not decoded then, so a bad escape there is no error.
 */
export function goRefusesPathEscape(target: string | undefined): boolean {
  const raw = target ?? '/';
  const query = raw.indexOf('?');
  const path = query < 0 ? raw : raw.slice(0, query);
  return /%(?![0-9A-Fa-f]{2})/.test(path);
}

/** A path WHATWG URL parsing leaves as it is: no query, escape, dot segment, backslash or leading `//`. */
const PLAIN_PATH = /^\/(?!\/)[A-Za-z0-9_\-/]*$/;

/** requestTarget's pathname alone: the routes' own paths without building a query for them. */
export function requestPath(target: string | undefined): string {
  const raw = target ?? '/';
  return PLAIN_PATH.test(raw) ? raw : requestTarget(raw).pathname;
}

export function requestTarget(target: string | undefined): { readonly pathname: string; readonly searchParams: URLSearchParams } {
  const raw = target ?? '/';
  // The routes' own paths (every load request): no URL to build.
  if (PLAIN_PATH.test(raw)) return { pathname: raw, searchParams: new URLSearchParams() };
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
