/**
 * Go 1.19 verify.go's domain and mailbox readers (domainToReverseLabels,
 * parseRFC2821Mailbox), shared by certificate parsing and name-constraint checks.
 */

/** domainToReverseLabels: labels last-first, or undefined for an invalid domain. */
export function domainToReverseLabels(domain: string): string[] | undefined {
  const labels: string[] = [];
  // Go's loop peels labels from the right and stops when nothing is left, so one leading
  // dot disappears silently while a trailing dot leaves an empty (invalid) label.
  let rest = domain;
  while (rest.length > 0) {
    const i = rest.lastIndexOf('.');
    labels.push(i === -1 ? rest : rest.slice(i + 1));
    rest = i === -1 ? '' : rest.slice(0, i);
  }
  if (labels.some((l) => l.length === 0 || !/^[\x21-\x7e]+$/.test(l))) return undefined;
  return labels;
}

export interface Mailbox {
  local: string;
  domain: string;
}

const ATEXT = /[0-9A-Za-z!#$%&'*+\-/=?^_`{|}~.]/;

/** parseRFC2821Mailbox, including Go's leniencies (space in quoted strings, escapes in atoms). */
export function parseRfc2821Mailbox(input: string): Mailbox | undefined {
  if (input.length === 0) return undefined;
  let s = input;
  let local = '';
  if (s[0] === '"') {
    s = s.slice(1);
    for (;;) {
      if (s.length === 0) return undefined;
      const c = s.charCodeAt(0);
      s = s.slice(1);
      if (c === 0x22) break;
      if (c === 0x5c) {
        if (s.length === 0) return undefined;
        const n = s.charCodeAt(0);
        if (!(n === 11 || n === 12 || (n >= 1 && n <= 9) || (n >= 14 && n <= 127))) return undefined;
        local += s[0];
        s = s.slice(1);
      } else if (c === 11 || c === 12 || c === 32 || c === 33 || c === 127 || (c >= 1 && c <= 8) ||
        (c >= 14 && c <= 31) || (c >= 35 && c <= 91) || (c >= 93 && c <= 126)) {
        local += String.fromCharCode(c);
      } else {
        return undefined;
      }
    }
  } else {
    while (s.length > 0) {
      let c = s[0] as string;
      if (c === '\\') {
        s = s.slice(1);
        if (s.length === 0) return undefined;
        c = s[0] as string;
        local += c;
        s = s.slice(1);
        continue;
      }
      if (!ATEXT.test(c)) break;
      local += c;
      s = s.slice(1);
    }
    if (local.length === 0 || local.startsWith('.') || local.endsWith('.') || local.includes('..')) return undefined;
  }
  if (s.length === 0 || s[0] !== '@') return undefined;
  const domain = s.slice(1);
  if (domainToReverseLabels(domain) === undefined) return undefined;
  return { local, domain };
}
