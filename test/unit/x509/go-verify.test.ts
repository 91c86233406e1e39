import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkSignatureFrom } from '../../../src/x509/go-verify.js';
import { expectVerify } from './expect-go.js';
import { ecKey, issue, pki, rsaKey } from './helpers.js';

const UNKNOWN_AUTHORITY = 'x509: certificate signed by unknown authority';

describe('goVerify chain building', () => {
  it('accepts a leaf whose intermediate the peer supplied, and returns leaf, intermediate and root', () => {
    const { root, intermediate, leaf } = pki();
    const result = expectVerify(leaf, { roots: [root], intermediates: [intermediate] }, null);
    expect(result.ok && result.chains.map((chain) => chain.map((c) => c.commonName))).toEqual([
      ['leaf', 'test-intermediate', 'test-root'],
    ]);
  });

  it('reports an unknown authority when the leaf was issued by a CA nobody trusts', () => {
    const { leaf } = pki();
    const otherRoot = issue({ subject: [['CN', 'someone-else']], ca: true });
    expectVerify(leaf, { roots: [otherRoot] }, UNKNOWN_AUTHORITY);
  });

  it('reports an unknown authority for an incomplete chain (intermediate not sent)', () => {
    const { root, leaf } = pki();
    expectVerify(leaf, { roots: [root] }, UNKNOWN_AUTHORITY);
  });

  it('reports an unknown authority for a self-signed leaf that is not itself trusted', () => {
    const self = issue({ subject: [['CN', 'localhost']], dns: ['localhost'], eku: ['serverAuth'] });
    const { root } = pki();
    expectVerify(self, { roots: [root] }, UNKNOWN_AUTHORITY);
  });

  it('accepts a self-signed leaf that is in the roots, without building a chain', () => {
    const self = issue({ subject: [['CN', 'localhost']], dns: ['localhost'] });
    const result = expectVerify(self, { roots: [self] }, null);
    expect(result.ok && result.chains).toEqual([[self.cert]]);
  });

  it('rejects system-rooted verification of a private leaf with an unknown authority', () => {
    const { intermediate, leaf } = pki();
    expectVerify(leaf, { roots: 'system', intermediates: [intermediate] }, UNKNOWN_AUTHORITY);
  });
});

describe('goVerify hints in UnknownAuthorityError', () => {
  it('names a root without CA:TRUE and the constraint violation it caused', () => {
    const noCa = issue({ subject: [['CN', 'noca-ca']], ca: false, keyUsage: 1 | 32 });
    const leaf = issue({ issuer: noCa, dns: ['localhost'] });
    expectVerify(leaf, { roots: [noCa] },
      'x509: certificate signed by unknown authority (possibly because of "x509: invalid signature: parent certificate cannot sign this kind of certificate" while trying to verify candidate authority certificate "noca-ca")');
  });

  it('names an intermediate that lacks basicConstraints altogether', () => {
    const root = issue({ subject: [['CN', 'root']], ca: true });
    const noBc = issue({ subject: [['CN', 'noca-intermediate']], issuer: root, keyUsage: 1 | 32 });
    const leaf = issue({ issuer: noBc, dns: ['localhost'] });
    expectVerify(leaf, { roots: [root], intermediates: [noBc] },
      'x509: certificate signed by unknown authority (possibly because of "x509: invalid signature: parent certificate cannot sign this kind of certificate" while trying to verify candidate authority certificate "noca-intermediate")');
  });

  it('rejects a CA whose key usage lacks keyCertSign', () => {
    const root = issue({ subject: [['CN', 'no-certsign']], ca: true, keyUsage: 1 });
    const leaf = issue({ issuer: root, dns: ['localhost'] });
    expectVerify(leaf, { roots: [root] },
      'x509: certificate signed by unknown authority (possibly because of "x509: invalid signature: parent certificate cannot sign this kind of certificate" while trying to verify candidate authority certificate "no-certsign")');
  });

  it('falls back to the first organization, then to the serial, to name the candidate', () => {
    const orgOnly = issue({ subject: [['O', 'Elastic'], ['O', 'Second']], ca: false, keyUsage: 32 });
    expectVerify(issue({ issuer: orgOnly }), { roots: [orgOnly] },
      'x509: certificate signed by unknown authority (possibly because of "x509: invalid signature: parent certificate cannot sign this kind of certificate" while trying to verify candidate authority certificate "Elastic")');
    const anonymous = issue({ subject: [['OU', 'ops']], ca: false, keyUsage: 32, serial: 4242n });
    expectVerify(issue({ issuer: anonymous }), { roots: [anonymous] },
      'x509: certificate signed by unknown authority (possibly because of "x509: invalid signature: parent certificate cannot sign this kind of certificate" while trying to verify candidate authority certificate "serial:4242")');
  });

  it('refuses SHA-1 signatures and says how Go 1.19 could be told otherwise', () => {
    const root = issue({ subject: [['CN', 'sha1-root']], ca: true });
    const leaf = issue({ issuer: root, hash: 'sha1' });
    expectVerify(leaf, { roots: [root] },
      'x509: certificate signed by unknown authority (possibly because of "x509: cannot verify signature: insecure algorithm ECDSA-SHA1 (temporarily override with GODEBUG=x509sha1=1)" while trying to verify candidate authority certificate "sha1-root")');
  });

  it('reports a signature made by a different key with the same issuer name', () => {
    const root = issue({ subject: [['CN', 'twin']], ca: true });
    const impostor = issue({ subject: [['CN', 'twin']], ca: true, key: ecKey() });
    const leaf = issue({ issuer: impostor });
    expectVerify(leaf, { roots: [root] },
      'x509: certificate signed by unknown authority (possibly because of "x509: ECDSA verification failure" while trying to verify candidate authority certificate "twin")');
  });

  it('reports RSA failures in crypto/rsa words, and a key of the wrong type by its Go type', () => {
    const root = issue({ subject: [['CN', 'rsa-root']], ca: true, key: rsaKey() });
    const otherRsa = issue({ subject: [['CN', 'rsa-root']], ca: true, key: { ...generateKeyPairSync('rsa', { modulusLength: 2048 }), kind: 'rsa' } });
    const ecTwin = issue({ subject: [['CN', 'rsa-root']], ca: true, key: ecKey() });
    const leaf = issue({ issuer: root });
    expect(checkSignatureFrom(leaf.cert, root.cert)).toBeNull();
    expectVerify(leaf, { roots: [otherRsa] },
      'x509: certificate signed by unknown authority (possibly because of "crypto/rsa: verification error" while trying to verify candidate authority certificate "rsa-root")');
    expectVerify(leaf, { roots: [ecTwin] },
      'x509: certificate signed by unknown authority (possibly because of "x509: signature algorithm specifies an RSA public key, but have public key of type *ecdsa.PublicKey" while trying to verify candidate authority certificate "rsa-root")');
  });
});

describe('goVerify validity and constraints', () => {
  it('rejects an expired leaf, printing both instants in RFC 3339', () => {
    const { root, intermediate } = pki();
    const leaf = issue({ issuer: intermediate, notAfter: new Date('2021-01-01T00:00:00Z'), notBefore: new Date('2020-01-01T00:00:00Z') });
    expectVerify(leaf, { roots: [root], intermediates: [intermediate] },
      'x509: certificate has expired or is not yet valid: current time 2026-06-01T12:00:00Z is after 2021-01-01T00:00:00Z');
  });

  it('rejects a leaf that is not yet valid', () => {
    const { root, intermediate } = pki();
    const leaf = issue({ issuer: intermediate, notBefore: new Date('2099-01-01T00:00:00Z'), notAfter: new Date('2100-01-01T00:00:00Z') });
    expectVerify(leaf, { roots: [root], intermediates: [intermediate] },
      'x509: certificate has expired or is not yet valid: current time 2026-06-01T12:00:00Z is before 2099-01-01T00:00:00Z');
  });

  it('reports the expired intermediate rather than an unknown authority', () => {
    const root = issue({ subject: [['CN', 'root']], ca: true });
    const intermediate = issue({ subject: [['CN', 'old-intermediate']], ca: true, issuer: root, notAfter: new Date('2024-02-29T23:59:59Z') });
    const leaf = issue({ issuer: intermediate });
    expectVerify(leaf, { roots: [root], intermediates: [intermediate] },
      'x509: certificate has expired or is not yet valid: current time 2026-06-01T12:00:00Z is after 2024-02-29T23:59:59Z');
  });

  it('checks the leaf before the host name, and the host name before the chain', () => {
    const { intermediate } = pki();
    const expired = issue({ issuer: intermediate, dns: ['a.example'], notAfter: new Date('2021-01-01T00:00:00Z'), notBefore: new Date('2020-01-01T00:00:00Z') });
    expectVerify(expired, { roots: [], dnsName: 'b.example' },
      'x509: certificate has expired or is not yet valid: current time 2026-06-01T12:00:00Z is after 2021-01-01T00:00:00Z');
    const valid = issue({ issuer: intermediate, dns: ['a.example'] });
    expectVerify(valid, { roots: [], dnsName: 'b.example' }, 'x509: certificate is valid for a.example, not b.example');
    expectVerify(valid, { roots: [], dnsName: 'a.example' }, UNKNOWN_AUTHORITY);
  });

  it('rejects a chain longer than a CA path length of zero allows', () => {
    const root = issue({ subject: [['CN', 'root']], ca: true, pathLen: 0 });
    const intermediate = issue({ subject: [['CN', 'intermediate']], ca: true, issuer: root });
    const leaf = issue({ issuer: intermediate });
    expect(root.cert.maxPathLen).toBe(0);
    expect(root.cert.maxPathLenZero).toBe(true);
    expectVerify(leaf, { roots: [root], intermediates: [intermediate] }, 'x509: too many intermediates for path length constraint');
  });

  it('rejects a leaf with a critical extension Go does not handle', () => {
    const { root, intermediate } = pki();
    const leaf = issue({ issuer: intermediate, extra: [{ oid: '1.3.6.1.4.1.11129.99', critical: true, value: Buffer.from([0x05, 0x00]) }] });
    expect(leaf.cert.unhandledCriticalExtensions).toEqual(['1.3.6.1.4.1.11129.99']);
    expectVerify(leaf, { roots: [root], intermediates: [intermediate] }, 'x509: unhandled critical extension');
  });

  it('enforces a DNS name constraint of an intermediate on the leaf', () => {
    const root = issue({ subject: [['CN', 'root']], ca: true });
    const constrained = issue({ subject: [['CN', 'constrained']], ca: true, issuer: root, permittedDNS: ['example.com'] });
    const ok = issue({ issuer: constrained, dns: ['fleet.example.com'] });
    expectVerify(ok, { roots: [root], intermediates: [constrained] }, null);
    const outside = issue({ issuer: constrained, dns: ['fleet.example.org'] });
    expectVerify(outside, { roots: [root], intermediates: [constrained] },
      'x509: a root or intermediate certificate is not authorized to sign for this name: DNS name "fleet.example.org" is not permitted by any constraint');
  });

  it('reports an excluded DNS subtree with both the name and the constraint', () => {
    const root = issue({ subject: [['CN', 'root']], ca: true, excludedDNS: ['.internal'] });
    const leaf = issue({ issuer: root, dns: ['es.corp.internal'] });
    expectVerify(leaf, { roots: [root] },
      'x509: a root or intermediate certificate is not authorized to sign for this name: DNS name "es.corp.internal" is excluded by constraint ".internal"');
  });
});

describe('goVerify extended key usage', () => {
  it('rejects a clientAuth-only certificate presented as a server certificate', () => {
    const { root, intermediate } = pki();
    const leaf = issue({ issuer: intermediate, dns: ['localhost'], eku: ['clientAuth'] });
    expectVerify(leaf, { roots: [root], intermediates: [intermediate] }, 'x509: certificate specifies an incompatible key usage');
  });

  it('rejects a serverAuth-only certificate where clientAuth is required', () => {
    const { root, intermediate } = pki();
    const leaf = issue({ issuer: intermediate, eku: ['serverAuth'] });
    expectVerify(leaf, { roots: [root], intermediates: [intermediate], keyUsages: ['clientAuth'] }, 'x509: certificate specifies an incompatible key usage');
  });

  it('lets an intermediate restrict the usages of everything below it', () => {
    const root = issue({ subject: [['CN', 'root']], ca: true });
    const clientOnly = issue({ subject: [['CN', 'client-ca']], ca: true, issuer: root, eku: ['clientAuth'] });
    const leaf = issue({ issuer: clientOnly, eku: ['serverAuth'] });
    expectVerify(leaf, { roots: [root], intermediates: [clientOnly] }, 'x509: certificate specifies an incompatible key usage');
    expectVerify(leaf, { roots: [root], intermediates: [clientOnly], keyUsages: ['any'] }, null);
  });

  it('treats a certificate without EKU, or with anyExtendedKeyUsage, as good for any usage', () => {
    const { root, intermediate } = pki();
    expectVerify(issue({ issuer: intermediate }), { roots: [root], intermediates: [intermediate], keyUsages: ['clientAuth'] }, null);
    expectVerify(issue({ issuer: intermediate, eku: ['any'] }), { roots: [root], intermediates: [intermediate], keyUsages: ['clientAuth'] }, null);
  });
});
