/**
 * The part of Go 1.19 net/url.Parse that crypto/x509 depends on: whether a URI SAN
 * parses (and Go's error text when it does not) and its Host. Paths, queries and
 * userinfo are only validated, never kept.
 */
import { goQuote } from './go-text.js';

export type GoUrl = { host: string } | { error: string };

const isHex = (c: string | undefined): boolean => c !== undefined && /^[0-9a-fA-F]$/.test(c);

// shouldEscape(c, encodeHost) for ASCII: what may appear literally in a host.
const HOST_LITERAL = /^[A-Za-z0-9\-_.~!$&'()*+,;=:[\]<>"]$/;

/** unescape(s, mode): percent-decoding with Go's errors; host mode restricts characters. */
function unescape(s: string, host: boolean): { value: string } | { error: string } {
  let out = '';
  for (let i = 0; i < s.length; ) {
    const c = s[i] as string;
    if (c === '%') {
      if (!isHex(s[i + 1]) || !isHex(s[i + 2])) return { error: `invalid URL escape ${goQuote(s.slice(i, i + 3))}` };
      // In a host, only %25 or escapes of non-ASCII bytes are allowed (RFC 6874 zones).
      if (host && parseInt(s[i + 1] as string, 16) < 8 && s.slice(i, i + 3) !== '%25') {
        return { error: `invalid URL escape ${goQuote(s.slice(i, i + 3))}` };
      }
      out += String.fromCharCode(parseInt(s.slice(i + 1, i + 3), 16));
      i += 3;
      continue;
    }
    if (host && c.charCodeAt(0) < 0x80 && !HOST_LITERAL.test(c)) return { error: `invalid character ${goQuote(c)} in host name` };
    out += c;
    i++;
  }
  return { value: out };
}

const validPort = (p: string): boolean => p === '' || /^:\d*$/.test(p);

function parseHost(host: string): { value: string } | { error: string } {
  if (host.startsWith('[')) {
    const i = host.lastIndexOf(']');
    if (i < 0) return { error: "missing ']' in host" };
    const colonPort = host.slice(i + 1);
    if (!validPort(colonPort)) return { error: `invalid port ${goQuote(colonPort)} after host` };
  } else {
    const i = host.lastIndexOf(':');
    if (i !== -1 && !validPort(host.slice(i))) return { error: `invalid port ${goQuote(host.slice(i))} after host` };
  }
  return unescape(host, true);
}

function parseAuthority(authority: string): { value: string } | { error: string } {
  const at = authority.lastIndexOf('@');
  const host = parseHost(at < 0 ? authority : authority.slice(at + 1));
  if ('error' in host) return host;
  if (at >= 0) {
    const userinfo = authority.slice(0, at);
    if (!/^[A-Za-z0-9\-._:~!$&'()*+,;=%@]*$/.test(userinfo)) return { error: 'net/url: invalid userinfo' };
    const decoded = unescape(userinfo, false);
    if ('error' in decoded) return decoded;
  }
  return host;
}

/** Returns everything after the scheme, or an error, or null when there is no scheme. */
function splitScheme(raw: string): { scheme: string; rest: string } | { error: string } {
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as string;
    if (/[A-Za-z]/.test(c)) continue;
    if (/[0-9+\-.]/.test(c)) {
      if (i === 0) return { scheme: '', rest: raw };
      continue;
    }
    if (c === ':') {
      if (i === 0) return { error: 'missing protocol scheme' };
      return { scheme: raw.slice(0, i), rest: raw.slice(i + 1) };
    }
    return { scheme: '', rest: raw };
  }
  return { scheme: '', rest: raw };
}

function parse(raw: string): { host: string } | { error: string } {
  if (/[\x00-\x1f\x7f]/.test(raw)) return { error: 'net/url: invalid control character in URL' };
  if (raw === '*') return { host: '' };
  const split = splitScheme(raw);
  if ('error' in split) return split;
  let rest = split.rest;
  if (rest.endsWith('?') && rest.split('?').length === 2) rest = rest.slice(0, -1);
  else rest = rest.split('?')[0] as string;
  if (!rest.startsWith('/')) {
    // An opaque URI such as "urn:x" or "mailto:a@b" has no host.
    if (split.scheme !== '') return { host: '' };
    if ((rest.split('/')[0] as string).includes(':')) return { error: 'first path segment in URL cannot contain colon' };
  }
  let host = '';
  if ((split.scheme !== '' || !rest.startsWith('///')) && rest.startsWith('//')) {
    let authority = rest.slice(2);
    const slash = authority.indexOf('/');
    rest = slash >= 0 ? authority.slice(slash) : '';
    authority = slash >= 0 ? authority.slice(0, slash) : authority;
    const parsed = parseAuthority(authority);
    if ('error' in parsed) return parsed;
    host = parsed.value;
  }
  const path = unescape(rest, false);
  return 'error' in path ? path : { host };
}

/** url.Parse: the Host, or url.Error's text `parse "<url>": <reason>`. */
export function parseGoUrl(raw: string): GoUrl {
  const hash = raw.indexOf('#');
  const u = hash >= 0 ? raw.slice(0, hash) : raw;
  const parsed = parse(u);
  if ('error' in parsed) return { error: `parse ${goQuote(u)}: ${parsed.error}` };
  if (hash >= 0) {
    const frag = unescape(raw.slice(hash + 1), false);
    if ('error' in frag) return { error: `parse ${goQuote(raw)}: ${frag.error}` };
  }
  return parsed;
}
