/**
 * Go 1.19 parser.go parseNameConstraintsExtension: which name constraints Go keeps,
 * which malformed ones fail the parse (with Go's text), and when the extension counts as
 * unhandled (a subtree of a type Go does not enforce, such as directoryName).
 */
import { DerReader, TAG, contextConstructed } from './der.js';
import { goQuote } from './go-text.js';
import { ipNetString, parseIP } from './ip.js';
import { domainToReverseLabels, parseRfc2821Mailbox } from './go-names.js';
import { CertificateParseError } from './x509-errors.js';

export interface IpConstraint {
  ip: Uint8Array;
  mask: Uint8Array;
  /** net.IPNet.String(), as %q prints it in errors. */
  text: string;
}

export interface NameConstraints {
  critical: boolean;
  permittedDNSDomains: string[];
  excludedDNSDomains: string[];
  permittedIPRanges: IpConstraint[];
  excludedIPRanges: IpConstraint[];
  permittedEmailAddresses: string[];
  excludedEmailAddresses: string[];
  permittedURIDomains: string[];
  excludedURIDomains: string[];
}

const fail = (message: string): never => {
  throw new CertificateParseError(message);
};

// isValidIPMask: ones then zeros.
function validMask(mask: Buffer): boolean {
  let seenZero = false;
  for (const b of mask) {
    if (seenZero) {
      if (b !== 0) return false;
      continue;
    }
    if ([0x00, 0x80, 0xc0, 0xe0, 0xf0, 0xf8, 0xfc, 0xfe].includes(b)) seenZero = true;
    else if (b !== 0xff) return false;
  }
  return true;
}

function ia5OrFail(value: Buffer): string {
  const s = value.toString('latin1');
  if (!value.every((b) => b < 0x80)) {
    fail(`x509: invalid constraint value: x509: ${goQuote(value)} cannot be encoded as an IA5String`);
  }
  return s;
}

const withoutLeadingDot = (s: string): string => (s.startsWith('.') ? s.slice(1) : s);

interface Subtrees {
  dns: string[];
  ips: IpConstraint[];
  emails: string[];
  uris: string[];
  unhandled: boolean;
}

function subtreeValues(subtrees: Buffer): Subtrees {
  const out: Subtrees = { dns: [], ips: [], emails: [], uris: [], unhandled: false };
  const r = new DerReader(subtrees);
  while (!r.empty) {
    const seq = r.read(TAG.SEQUENCE);
    const el = seq === undefined ? undefined : new DerReader(seq).readAny();
    if (el === undefined) return fail('x509: invalid NameConstraints extension');
    const value = el.content;
    switch (el.tag) {
      case 0x82: {
        const domain = ia5OrFail(value);
        if (domainToReverseLabels(withoutLeadingDot(domain)) === undefined) fail(`x509: failed to parse dnsName constraint ${goQuote(domain)}`);
        out.dns.push(domain);
        break;
      }
      case 0x87: {
        if (value.length !== 8 && value.length !== 32) fail(`x509: IP constraint contained value of length ${value.length}`);
        const half = value.length / 2;
        const ip = Uint8Array.from(value.subarray(0, half));
        const mask = Uint8Array.from(value.subarray(half));
        if (!validMask(value.subarray(half))) fail(`x509: IP constraint contained invalid mask ${value.subarray(half).toString('hex')}`);
        out.ips.push({ ip, mask, text: ipNetString(ip, mask) });
        break;
      }
      case 0x81: {
        const constraint = ia5OrFail(value);
        const ok = constraint.includes('@')
          ? parseRfc2821Mailbox(constraint) !== undefined
          : domainToReverseLabels(withoutLeadingDot(constraint)) !== undefined;
        if (!ok) fail(`x509: failed to parse rfc822Name constraint ${goQuote(constraint)}`);
        out.emails.push(constraint);
        break;
      }
      case 0x86: {
        const domain = ia5OrFail(value);
        if (parseIP(domain) !== undefined) fail(`x509: failed to parse URI constraint ${goQuote(domain)}: cannot be IP address`);
        if (domainToReverseLabels(withoutLeadingDot(domain)) === undefined) fail(`x509: failed to parse URI constraint ${goQuote(domain)}`);
        out.uris.push(domain);
        break;
      }
      default:
        out.unhandled = true;
    }
  }
  return out;
}

export function parseNameConstraints(value: Buffer, critical: boolean): { constraints: NameConstraints; unhandled: boolean } {
  const invalid = 'x509: invalid NameConstraints extension';
  const outer = new DerReader(value);
  const top = outer.read(TAG.SEQUENCE);
  if (top === undefined || !outer.empty) return fail(invalid);
  const r = new DerReader(top);
  const permitted = r.readOptional(contextConstructed(0));
  const excluded = permitted.ok ? r.readOptional(contextConstructed(1)) : { ok: false };
  if (!permitted.ok || !excluded.ok || !r.empty) return fail(invalid);
  const p = permitted.content;
  const x = excluded.content;
  // RFC 5280 4.2.1.10: one of the two subtree lists must be present (and Go wants it non-empty).
  if ((p === undefined && x === undefined) || ((p?.length ?? 0) === 0 && (x?.length ?? 0) === 0)) {
    return fail('x509: empty name constraints extension');
  }
  const allowed = subtreeValues(p ?? Buffer.alloc(0));
  const denied = subtreeValues(x ?? Buffer.alloc(0));
  return {
    unhandled: allowed.unhandled || denied.unhandled,
    constraints: {
      critical,
      permittedDNSDomains: allowed.dns,
      excludedDNSDomains: denied.dns,
      permittedIPRanges: allowed.ips,
      excludedIPRanges: denied.ips,
      permittedEmailAddresses: allowed.emails,
      excludedEmailAddresses: denied.emails,
      permittedURIDomains: allowed.uris,
      excludedURIDomains: denied.uris,
    },
  };
}
