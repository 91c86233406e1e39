import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalise, normaliseTemplate } from '../../../src/explain/normalise.js';

describe('normalise', () => {
  it.each([
    ['an IPv4 address with its port', 'http: TLS handshake error from 10.3.0.179:18013: EOF', 'http: TLS handshake error from <address>: EOF'],
    ['both ends of a Go read error', 'read tcp 10.3.2.43:8220->10.3.0.179:18013: i/o timeout', 'read tcp <address>-><address>: i/o timeout'],
    ['a bracketed IPv6 address with its port', 'from [2001:db8::1]:54321: EOF', 'from <address>: EOF'],
    ['placeholders as issues write them', 'from <ip>:<port>: tls: bad', 'from <address>: tls: bad'],
    ['host names and IPs in a host name error', 'x509: certificate is valid for fleet.example.internal, 10.0.0.5, not es01.corp.local', 'x509: certificate is valid for <host>, not <host>'],
    ['localhost', 'not localhost', 'not <host>'],
    ['the names of Go\'s host name error, however many and however named', 'x509: certificate is valid for fleet-server, es01, 10.0.0.5, not fleet', 'x509: certificate is valid for <host>, not <host>'],
    ['the name a certificate without names was wanted for', 'x509: certificate is not valid for any names, but wanted to match fleet01', 'x509: certificate is not valid for any names, but wanted to match <host>'],
    ['a URL, port and path included', 'Post "https://fleet.example.com:8220/api/fleet/agents/enroll?": EOF', 'Post "<url>": EOF'],
    ['Beats\' backoff URL inside parentheses', 'Failed to connect to backoff(elasticsearch(https://es01:9200)): EOF', 'Failed to connect to backoff(elasticsearch(<url>)): EOF'],
    ['an absolute path', "open /etc/pki/tls/certs/fleet-ca.crt: no such file or directory", 'open <path>: no such file or directory'],
    ['a Windows path', 'open C:\\Program_Files\\Elastic\\ca.crt: denied', 'open <path> denied'],
    ['a hex fingerprint', "'ca_trusted_fingerprint': '3b6a27bccebfb5ee1cbb8f9c4bd8ae80d7f1fbb8e4e3c9a5ab2f1c2d3e4f5a6b'", "'ca_trusted_fingerprint': '<fp>'"],
    ['a fingerprint in openssl\'s colon form', 'sha256 Fingerprint=3B:6A:27:BC:CE:BF:B5:EE:1C:BB:8F:9C:4B:D8:AE:80:D7:F1:FB:B8:E4:E3:C9:A5:AB:2F:1C:2D:3E:4F:5A:6B', 'sha256 Fingerprint=<fp>'],
    ['a base64 CA pin', 'pin zD6+kx1Zr/0ZRbVwhp3TBzvAlaxQ9v3jvtxC0cOVXpM= refused', 'pin <base64> refused'],
    ['an ISO timestamp and Elasticsearch\'s comma form', '[2025-01-01T10:00:00,123][WARN ] 2025-01-01T10:00:00.000Z', '[<time>][WARN ] <time>'],
    ['Go\'s expiry times', 'current time 2026-11-28T06:50:08Z is after 2026-11-27T06:50:08Z', 'current time <time> is after <time>'],
    ['Go\'s time.Time with its monotonic reading', 'at 2026-11-28 06:50:08.123456789 +0000 UTC m=+0.001234 done', 'at <time> done'],
    ['durations', 'init 5s, max 10m0s', 'init <time>, max <time>'],
    ['a service token name', 'with token name [token-1619029603948]', 'with token name [<token>]'],
    ['versions and long numbers', '(Agent: 9.1.0, Elasticsearch: 8.17.0-SNAPSHOT) pid 123456', '(Agent: <version>, Elasticsearch: <version>) pid <num>'],
    ['typographic quotes and runs of spaces', 'client didn\u2019t  provide\ta certificate', "client didn't provide a certificate"],
  ])('replaces %s', (_what, line, expected) => {
    expect(normalise(line)).toBe(expected);
  });

  it.each([
    ['x509 and TLS versions', 'x509: certificate signed by unknown authority in TLS 1.3'],
    ['Go and Java source locations', 'transport/logging.go:38 Config.cpp:285 x509.IncorrectPasswordError javax.net.ssl.SSLHandshakeException'],
    ['relative paths', 'encoding/hex: invalid byte: U+003A \':\' for [elastic/fleet-server]'],
    ['HTTP statuses', 'status code: 400, [401 Unauthorized]'],
  ])('keeps %s as they are', (_what, line) => {
    expect(normalise(line)).toBe(line);
  });

  it('turns a template\'s {any} into the wildcard and {address} into the address placeholder', () => {
    expect(normaliseTemplate('from {address}: current time {any} is after {any}')).toBe('from <address>: current time <any> is after <any>');
  });
});

/** A host as Go prints it alone, and as it prints it before a port. */
const host = fc.oneof(
  fc.ipV4().map((ip) => ({ alone: ip, withPort: ip })),
  fc.ipV6().map((ip) => ({ alone: ip, withPort: `[${ip}]` })),
  // Names that end like source files (x.go, ca.crt) are read as files, not hosts: see FILE_EXTENSIONS.
  fc.domain().filter((d) => !/\.(?:go|java|js|mjs|ts|py|rb|rs|c|h|cc|cpp|hpp|kt|scala|cs|crt|pem|key|p12|pfx|jks|csr|der|cer|yml|yaml|json|log|txt|conf|cfg|ini|sh|md|html|xml|exe|zip|gz|tgz|tar|deb|rpm)$/.test(d)).map((d) => ({ alone: d, withPort: d })),
  fc.constant({ alone: 'localhost', withPort: 'localhost' }),
);
const port = fc.integer({ min: 0, max: 65535 });
const path = fc.array(fc.stringMatching(/^[\w.-]{1,12}$/).filter((s) => s !== '.' && s !== '..'), { minLength: 1, maxLength: 6 }).map((parts) => `/${parts.join('/')}`);
const time = fc.date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2090-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString());

/** Real lines with their variable parts as holes. */
const LINES: ReadonlyArray<(v: { a: { alone: string; withPort: string }; p: number; b: { alone: string; withPort: string }; path: string; t: string }) => string> = [
  (v) => `http: TLS handshake error from ${v.a.withPort}:${v.p}: tls: client didn't provide a certificate`,
  (v) => `x509: certificate is valid for ${v.a.alone}, not ${v.b.alone}`,
  (v) => `Failed to connect to backoff(elasticsearch(https://${v.a.withPort}:${v.p})): Get "https://${v.a.withPort}:${v.p}/_bulk": x509: certificate signed by unknown authority`,
  (v) => `open ${v.path}: no such file or directory`,
  (v) => `x509: certificate has expired or is not yet valid: current time ${v.t} is after ${v.t}`,
  (v) => `${v.t} ERROR [esclientleg] Error dialing ${v.a.withPort}:${v.p} x509: certificate signed by unknown authority`,
];

const values = fc.record({ a: host, p: port, b: host, path, t: time });

describe('normalise, for any input', () => {
  it('never throws and is idempotent', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme-ascii', maxLength: 300 }), (text) => {
      const once = normalise(text);
      expect(normalise(once)).toBe(once);
    }), { numRuns: 2000 });
  });

  it('is idempotent on text made of the pieces it replaces', () => {
    const piece = fc.oneof(host.map((h) => h.alone), port.map(String), path, time, fc.constantFrom(':', ' ', '.', '/', '[', ']', '-', '<', '>', 'x509', 'token name [', '<ip>', '<port>'));
    fc.assert(fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
      const once = normalise(pieces.join(''));
      expect(normalise(once)).toBe(once);
    }), { numRuns: 2000 });
  });

  it('gives the same text whatever the hosts, ports, paths and times of a real line', () => {
    fc.assert(fc.property(fc.constantFrom(...LINES), values, values, (line, one, other) => {
      expect(normalise(line(one))).toBe(normalise(line(other)));
    }), { numRuns: 1000 });
  });
});
