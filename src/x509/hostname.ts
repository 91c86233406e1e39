/**
 * Host name matching from Go 1.19 crypto/x509 verify.go (VerifyHostname, matchHostnames,
 * validHostname, HostnameError.Error). elastic-agent-libs keeps a copy of the same
 * helpers in transport/tlscommon/validhostname.go, so its own verifyHostname uses these too.
 */
import type { Cert } from './certificate.js';
import { ipEqual, parseIP } from './ip.js';

/** ASCII-only lower-casing (RFC 6125 6.4.1), so non-ASCII letters are never folded. */
export function toLowerCaseASCII(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

const trimOneDot = (s: string): string => (s.endsWith('.') ? s.slice(0, -1) : s);

/**
 * validHostname. Current Go (read in a 1.24-era verify.go) also rejects a bare "*"
 * pattern; 1.19 accepts it as a pattern, which only changes which matcher runs.
 */
export function validHostname(host: string, isPattern: boolean): boolean {
  const h = isPattern ? host : trimOneDot(host);
  if (h.length === 0) return false;
  const parts = h.split('.');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    if (part === '') return false;
    if (isPattern && i === 0 && part === '*') continue;
    let j = 0;
    for (const c of part) {
      const ok = /[a-zA-Z0-9_]/.test(c) || (c === '-' && j !== 0);
      if (!ok) return false;
      j += Buffer.byteLength(c);
    }
  }
  return true;
}

export function matchExactly(a: string, b: string): boolean {
  if (a === '' || a === '.' || b === '' || b === '.') return false;
  return toLowerCaseASCII(a) === toLowerCaseASCII(b);
}

/** matchHostnames: a leading "*" label matches exactly one label. */
export function matchHostnames(pattern: string, host: string): boolean {
  const p = toLowerCaseASCII(pattern);
  const h = toLowerCaseASCII(trimOneDot(host));
  if (p.length === 0 || h.length === 0) return false;
  const pp = p.split('.');
  const hp = h.split('.');
  if (pp.length !== hp.length) return false;
  return pp.every((part, i) => (i === 0 && part === '*') || part === hp[i]);
}

/** HostnameError.Error(): the four message forms. */
export function hostnameErrorMessage(cert: Cert, host: string): string {
  if (!cert.hasSanExtension && matchHostnames(cert.commonName, host)) {
    return 'x509: certificate relies on legacy Common Name field, use SANs instead';
  }
  let valid: string;
  if (parseIP(host) !== undefined) {
    if (cert.ipAddresses.length === 0) {
      return `x509: cannot validate certificate for ${host} because it doesn't contain any IP SANs`;
    }
    valid = cert.ipAddresses.join(', ');
  } else {
    valid = cert.dnsNames.join(', ');
  }
  if (valid.length === 0) return `x509: certificate is not valid for any names, but wanted to match ${host}`;
  return `x509: certificate is valid for ${valid}, not ${host}`;
}

/** Certificate.VerifyHostname: returns the host Go puts in HostnameError, or null when it matches. */
export function verifyHostnameHost(cert: Cert, h: string): string | null {
  const candidateIP = h.length >= 3 && h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
  const ip = parseIP(candidateIP);
  if (ip !== undefined) {
    // IP hosts are matched against IP SANs only (RFC 6125 appendix B.2).
    return cert.ipAddressBytes.some((san) => ipEqual(ip, san)) ? null : candidateIP;
  }
  const candidate = toLowerCaseASCII(h);
  const validCandidate = validHostname(candidate, false);
  for (const name of cert.dnsNames) {
    // Wildcards and trailing dots apply only when both sides are valid host names;
    // anything else must match exactly.
    const matched = validCandidate && validHostname(name, true) ? matchHostnames(name, candidate) : matchExactly(name, candidate);
    if (matched) return null;
  }
  return h;
}

/** Go's VerifyHostname as an error text: null when the certificate is valid for host. */
export function goVerifyHostname(cert: Cert, host: string): string | null {
  const failedHost = verifyHostnameHost(cert, host);
  return failedHost === null ? null : hostnameErrorMessage(cert, failedHost);
}
