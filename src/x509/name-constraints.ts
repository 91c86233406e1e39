/**
 * Name-constraint enforcement from Go 1.19 verify.go (isValid's SAN loop,
 * checkNameConstraints and the match* helpers). Constraints of a CA apply to every SAN of
 * the leaf and of the CA itself; the comparison budget reproduces "x509: unknown error"
 * (TooManyConstraints) for pathological certificates.
 */
import type { Cert } from './certificate.js';
import { forEachSan } from './extensions.js';
import { goQuote } from './go-text.js';
import { parseGoUrl } from './go-url.js';
import { ipString, parseIP } from './ip.js';
import type { IpConstraint } from './name-constraints-parse.js';
import { domainToReverseLabels, parseRfc2821Mailbox, type Mailbox } from './go-names.js';
import { certificateInvalid, otherError, type GoX509Error } from './x509-errors.js';

const MAX_CONSTRAINT_COMPARISONS = 250_000;

type MatchResult = boolean | { error: string };

export function matchDomainConstraint(domain: string, constraint: string): MatchResult {
  // Zero-length constraints match everything (following NSS).
  if (constraint.length === 0) return true;
  const domainLabels = domainToReverseLabels(domain);
  if (domainLabels === undefined) return { error: `x509: internal error: cannot parse domain ${goQuote(domain)}` };
  // A leading period requires at least one more label, for DNS constraints too.
  const mustHaveSubdomains = constraint.startsWith('.');
  const c = mustHaveSubdomains ? constraint.slice(1) : constraint;
  const constraintLabels = domainToReverseLabels(c);
  if (constraintLabels === undefined) return { error: `x509: internal error: cannot parse domain ${goQuote(c)}` };
  if (domainLabels.length < constraintLabels.length || (mustHaveSubdomains && domainLabels.length === constraintLabels.length)) return false;
  return constraintLabels.every((l, i) => l.toLowerCase() === (domainLabels[i] as string).toLowerCase());
}

function matchEmailConstraint(mailbox: Mailbox, constraint: string): MatchResult {
  if (constraint.includes('@')) {
    const cm = parseRfc2821Mailbox(constraint);
    if (cm === undefined) return { error: `x509: internal error: cannot parse constraint ${goQuote(constraint)}` };
    return mailbox.local === cm.local && mailbox.domain.toLowerCase() === cm.domain.toLowerCase();
  }
  return matchDomainConstraint(mailbox.domain, constraint);
}

function matchUriConstraint(uri: string, host: string, constraint: string): MatchResult {
  // RFC 5280: a URI without a host name, or with an IP host, cannot satisfy constraints.
  if (host.length === 0) return { error: `URI with empty host (${goQuote(uri)}) cannot be matched against constraints` };
  let h = host;
  if (h.includes(':') && !h.endsWith(']')) {
    const i = h.lastIndexOf(':');
    if (h.slice(0, i).includes(':')) return { error: `address ${host}: too many colons in address` };
    h = h.slice(0, i);
  }
  if ((h.startsWith('[') && h.endsWith(']')) || parseIP(h) !== undefined) {
    return { error: `URI with IP (${goQuote(uri)}) cannot be matched against constraints` };
  }
  return matchDomainConstraint(h, constraint);
}

function matchIpConstraint(ip: Uint8Array, c: IpConstraint): boolean {
  if (ip.length !== c.ip.length) return false;
  return ip.every((b, i) => (b & (c.mask[i] as number)) === ((c.ip[i] as number) & (c.mask[i] as number)));
}

/** checkNameConstraints: excluded first, then permitted, each charged against the budget. */
function check<T>(
  ca: Cert, count: { n: number }, nameType: string, name: string,
  match: (constraint: T) => MatchResult, permitted: T[], excluded: T[], quote: (c: T) => string,
): GoX509Error | null {
  count.n += excluded.length;
  if (count.n > MAX_CONSTRAINT_COMPARISONS) return certificateInvalid(ca, 'TooManyConstraints');
  for (const constraint of excluded) {
    const m = match(constraint);
    if (typeof m !== 'boolean') return certificateInvalid(ca, 'CANotAuthorizedForThisName', m.error);
    if (m) return certificateInvalid(ca, 'CANotAuthorizedForThisName', `${nameType} ${goQuote(name)} is excluded by constraint ${quote(constraint)}`);
  }
  count.n += permitted.length;
  if (count.n > MAX_CONSTRAINT_COMPARISONS) return certificateInvalid(ca, 'TooManyConstraints');
  let ok = true;
  for (const constraint of permitted) {
    const m = match(constraint);
    if (typeof m !== 'boolean') return certificateInvalid(ca, 'CANotAuthorizedForThisName', m.error);
    ok = m;
    if (ok) break;
  }
  return ok ? null : certificateInvalid(ca, 'CANotAuthorizedForThisName', `${nameType} ${goQuote(name)} is not permitted by any constraint`);
}

/** The name-constraint part of isValid for a CA candidate `ca` above `leaf`. */
export function checkCaNameConstraints(ca: Cert, leaf: Cert): GoX509Error | null {
  const nc = ca.nameConstraints;
  if (!ca.hasNameConstraints || nc === null) return null;
  const count = { n: 0 };
  const str = (s: string): string => goQuote(s);
  for (const sanCert of [leaf, ca].filter((c) => c.hasSanExtension)) {
    const err = forEachSan(sanCert.sanValue ?? Buffer.alloc(0), (tag, data): GoX509Error | undefined => {
      const name = data.toString('latin1');
      let found: GoX509Error | null = null;
      if (tag === 1) {
        const mailbox = parseRfc2821Mailbox(name);
        // Go formats the zero-valued mailbox struct here, whatever the input was.
        if (mailbox === undefined) return otherError(ca, 'x509: cannot parse rfc822Name {"" ""}');
        found = check(ca, count, 'email address', name, (c: string) => matchEmailConstraint(mailbox, c), nc.permittedEmailAddresses, nc.excludedEmailAddresses, str);
      } else if (tag === 2) {
        if (domainToReverseLabels(name) === undefined) return otherError(ca, `x509: cannot parse dnsName ${goQuote(name)}`);
        found = check(ca, count, 'DNS name', name, (c: string) => matchDomainConstraint(name, c), nc.permittedDNSDomains, nc.excludedDNSDomains, str);
      } else if (tag === 6) {
        const url = parseGoUrl(name);
        if ('error' in url) return otherError(ca, `x509: internal error: URI SAN ${goQuote(name)} failed to parse`);
        found = check(ca, count, 'URI', name, (c: string) => matchUriConstraint(name, url.host, c), nc.permittedURIDomains, nc.excludedURIDomains, str);
      } else if (tag === 7) {
        const ip = Uint8Array.from(data);
        found = check(ca, count, 'IP address', ipString(ip), (c: IpConstraint) => matchIpConstraint(ip, c), nc.permittedIPRanges, nc.excludedIPRanges, (c) => goQuote(c.text));
      }
      return found ?? undefined;
    });
    if (err !== undefined) return err;
  }
  return null;
}
