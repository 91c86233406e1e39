/**
 * Go's net.IP as crypto/x509 uses it: ParseIP, String, Equal and IPNet.String.
 *
 * Node's net module formats and parses differently (it keeps "::ffff:1.2.3.4", accepts
 * zones), and these strings appear verbatim in Go's errors, so Go's rules are reproduced.
 */

const V4_IN_V6_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

function parseV4(s: string): number[] | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const part of parts) {
    // dtoi: decimal digits only; a multi-digit component may not start with 0.
    if (!/^\d+$/.test(part) || part.length > 7) return undefined;
    const n = Number(part);
    if (n > 0xff || (part.length > 1 && part[0] === '0')) return undefined;
    out.push(n);
  }
  return out;
}

function parseV6(input: string): number[] | undefined {
  const ip = new Array<number>(16).fill(0);
  let s = input;
  let ellipsis = -1;
  if (s.startsWith('::')) {
    ellipsis = 0;
    s = s.slice(2);
    if (s.length === 0) return ip;
  }
  let i = 0;
  while (i < 16) {
    const m = /^[0-9a-fA-F]+/.exec(s);
    if (m === null) return undefined;
    const digits = m[0];
    const n = digits.length > 6 ? Infinity : parseInt(digits, 16);
    if (n > 0xffff) return undefined;
    if (s[digits.length] === '.') {
      if (ellipsis < 0 && i !== 12) return undefined;
      if (i + 4 > 16) return undefined;
      const v4 = parseV4(s);
      if (v4 === undefined) return undefined;
      ip.splice(i, 4, ...v4);
      s = '';
      i += 4;
      break;
    }
    ip[i] = n >> 8;
    ip[i + 1] = n & 0xff;
    i += 2;
    s = s.slice(digits.length);
    if (s.length === 0) break;
    if (s[0] !== ':' || s.length === 1) return undefined;
    s = s.slice(1);
    if (s[0] === ':') {
      if (ellipsis >= 0) return undefined;
      ellipsis = i;
      s = s.slice(1);
      if (s.length === 0) break;
    }
  }
  if (s.length !== 0) return undefined;
  if (i < 16) {
    if (ellipsis < 0) return undefined;
    const n = 16 - i;
    for (let j = i - 1; j >= ellipsis; j--) ip[j + n] = ip[j] as number;
    for (let j = ellipsis + n - 1; j >= ellipsis; j--) ip[j] = 0;
  } else if (ellipsis >= 0) {
    return undefined;
  }
  return ip;
}

/** net.ParseIP: 16 bytes (IPv4 in v4-in-v6 form), or undefined. */
export function parseIP(s: string): Uint8Array | undefined {
  for (const ch of s) {
    if (ch === '.') {
      const v4 = parseV4(s);
      return v4 === undefined ? undefined : Uint8Array.from([...V4_IN_V6_PREFIX, ...v4]);
    }
    if (ch === ':') {
      const v6 = parseV6(s);
      return v6 === undefined ? undefined : Uint8Array.from(v6);
    }
  }
  return undefined;
}

function to4(ip: Uint8Array): Uint8Array | undefined {
  if (ip.length === 4) return ip;
  if (ip.length === 16 && V4_IN_V6_PREFIX.every((b, i) => ip[i] === b)) return ip.subarray(12);
  return undefined;
}

const hexString = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** net.IP.String. */
export function ipString(ip: Uint8Array): string {
  if (ip.length === 0) return '<nil>';
  const v4 = to4(ip);
  if (v4 !== undefined) return Array.from(v4).join('.');
  if (ip.length !== 16) return '?' + hexString(ip);
  let e0 = -1;
  let e1 = -1;
  for (let i = 0; i < 16; i += 2) {
    let j = i;
    while (j < 16 && ip[j] === 0 && ip[j + 1] === 0) j += 2;
    if (j > i && j - i > e1 - e0) {
      e0 = i;
      e1 = j;
      i = j;
    }
  }
  // "::" must not shorten a single zero group.
  if (e1 - e0 <= 2) {
    e0 = -1;
    e1 = -1;
  }
  let out = '';
  for (let i = 0; i < 16; i += 2) {
    if (i === e0) {
      out += '::';
      i = e1;
      if (i >= 16) break;
    } else if (i > 0) {
      out += ':';
    }
    out += (((ip[i] as number) << 8) | (ip[i + 1] as number)).toString(16);
  }
  return out;
}

/** net.IP.Equal: a 4-byte address equals its v4-in-v6 16-byte form. */
export function ipEqual(a: Uint8Array, b: Uint8Array): boolean {
  const same = (x: Uint8Array, y: Uint8Array): boolean => x.length === y.length && x.every((v, i) => v === y[i]);
  if (a.length === b.length) return same(a, b);
  if (a.length === 4 && b.length === 16) return V4_IN_V6_PREFIX.every((v, i) => b[i] === v) && same(a, b.subarray(12));
  if (a.length === 16 && b.length === 4) return ipEqual(b, a);
  return false;
}

/** net.IPNet.String, used for %q of an IP name constraint. */
export function ipNetString(ip: Uint8Array, mask: Uint8Array): string {
  let nn = to4(ip);
  if (nn === undefined) {
    if (ip.length !== 16) return '<nil>';
    nn = ip;
  }
  let m = mask;
  if (m.length === 4) {
    if (nn.length !== 4) return '<nil>';
  } else if (m.length === 16) {
    if (nn.length === 4) m = m.subarray(12);
  } else {
    return '<nil>';
  }
  const ones = simpleMaskLength(m);
  return ones === -1 ? `${ipString(nn)}/${hexString(m)}` : `${ipString(nn)}/${ones}`;
}

function simpleMaskLength(mask: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < mask.length; i++) {
    let v = mask[i] as number;
    if (v === 0xff) {
      n += 8;
      continue;
    }
    while ((v & 0x80) !== 0) {
      n++;
      v = (v << 1) & 0xff;
    }
    if (v !== 0) return -1;
    for (i++; i < mask.length; i++) if (mask[i] !== 0) return -1;
    break;
  }
  return n;
}
