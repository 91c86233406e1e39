import { describe, expect, it } from 'vitest';
import { caSha256Pin, caTrustedFingerprint } from '../../../src/x509/libs-verify.js';
import { expectClientChain, expectServerChain } from './expect-go.js';
import { issue, pki } from './helpers.js';

const LEGACY_CN = 'x509: certificate relies on legacy Common Name field, use SANs instead';

describe('verifyServerChain modes', () => {
  const { root, intermediate } = pki();
  const cnOnly = issue({ subject: [['O', 'Elastic'], ['CN', 'localhost']], issuer: intermediate, eku: ['serverAuth'] });
  const chain = [cnOnly, intermediate];

  it('accepts a CN-only certificate in full mode (libs falls back to the CN)', () => {
    expectServerChain(chain, { mode: 'full', roots: [root], serverName: 'localhost' }, null);
  });

  it('rejects the same certificate in strict mode, with the TLS prefix current Go adds', () => {
    expectServerChain(chain, { mode: 'strict', roots: [root], serverName: 'localhost' }, `tls: failed to verify certificate: ${LEGACY_CN}`);
  });

  it('rejects it in strict mode without a prefix when built with Go 1.19', () => {
    expectServerChain(chain, { mode: 'strict', roots: [root], serverName: 'localhost', goVersion: '1.19' }, LEGACY_CN);
  });

  it('accepts a CN that is the IP being dialled in full mode, which Go itself refuses', () => {
    const cnIp = issue({ subject: [['CN', '127.0.0.1']], issuer: intermediate });
    expectServerChain([cnIp, intermediate], { mode: 'full', roots: [root], serverName: '127.0.0.1' }, null);
    expectServerChain([cnIp, intermediate], { mode: 'strict', roots: [root], serverName: '127.0.0.1', goVersion: '1.19' }, LEGACY_CN);
  });

  it('rejects an IP host when the certificate has DNS SANs only', () => {
    const dnsOnly = issue({ dns: ['localhost'], issuer: intermediate });
    expectServerChain([dnsOnly, intermediate], { mode: 'full', roots: [root], serverName: '127.0.0.1' },
      "x509: cannot validate certificate for 127.0.0.1 because it doesn't contain any IP SANs");
  });

  it('reports a host name mismatch bare in full mode and ignores it in certificate mode', () => {
    const named = issue({ dns: ['fleet.example.internal'], issuer: intermediate });
    expectServerChain([named, intermediate], { mode: 'full', roots: [root], serverName: 'localhost' },
      'x509: certificate is valid for fleet.example.internal, not localhost');
    expectServerChain([named, intermediate], { mode: 'certificate', roots: [root], serverName: 'localhost' }, null);
  });

  it('checks the chain before the host name in full mode', () => {
    const { leaf } = pki();
    expectServerChain([leaf], { mode: 'full', roots: [root], serverName: 'localhost' }, 'x509: certificate signed by unknown authority');
  });

  it('rejects a server certificate that only allows clientAuth', () => {
    const clientOnly = issue({ dns: ['localhost'], eku: ['clientAuth'], issuer: intermediate });
    expectServerChain([clientOnly, intermediate], { mode: 'full', roots: [root], serverName: 'localhost' },
      'x509: certificate specifies an incompatible key usage');
  });

  it('accepts anything in none mode and warns that verification is off', () => {
    const { leaf } = pki();
    expectServerChain([leaf], { mode: 'none', roots: [root], serverName: 'nowhere' }, null, ['SSL/TLS verifications disabled.']);
  });
});

describe('verifyServerChain with ca_trusted_fingerprint', () => {
  const { root, intermediate, leaf } = pki({ dns: ['localhost'] });

  it('trusts the CA the server sends when its fingerprint matches, with no configured CAs', () => {
    expectServerChain([leaf, intermediate], { mode: 'full', roots: 'system', serverName: 'localhost', caTrustedFingerprint: caTrustedFingerprint(intermediate.cert) }, null);
    expectServerChain([leaf, intermediate, root], { mode: 'full', roots: 'system', serverName: 'localhost', caTrustedFingerprint: caTrustedFingerprint(root.cert).toUpperCase() }, null);
  });

  it('warns twice and fails when the fingerprint is the leaf', () => {
    expectServerChain([leaf, intermediate], { mode: 'full', roots: 'system', serverName: 'localhost', caTrustedFingerprint: caTrustedFingerprint(leaf.cert) },
      'x509: certificate signed by unknown authority', [
        "Certificate matching 'ca_trusted_fingerprint' found, but it is not a CA certificate. 'ca_trusted_fingerprint' can only be used to trust CA certificates.",
        `The provided 'ca_trusted_fingerprint': '${caTrustedFingerprint(leaf.cert)}' does not match the fingerprint of any Certificate Authority present in the server's certificate chain. Found the following CA fingerprints instead: [${caTrustedFingerprint(intermediate.cert)}]`,
      ]);
  });

  it('warns that the chain is missing when the server sends only its leaf', () => {
    expectServerChain([leaf], { mode: 'full', roots: 'system', serverName: 'localhost', caTrustedFingerprint: caTrustedFingerprint(intermediate.cert) },
      'x509: certificate signed by unknown authority', [
        "The remote server's certificate is presented without its certificate chain. Using 'ca_trusted_fingerprint' requires that the server presents a certificate chain that includes the certificate's issuing certificate authority.",
      ]);
  });

  it('fails the connection when the fingerprint is written with colons', () => {
    const colons = caTrustedFingerprint(intermediate.cert).match(/../g)?.join(':') ?? '';
    expectServerChain([leaf, intermediate], { mode: 'full', roots: 'system', serverName: 'localhost', caTrustedFingerprint: colons },
      "decode 'ca_trusted_fingerprint': encoding/hex: invalid byte: U+003A ':'");
  });
});

describe('verifyServerChain with ca_sha256', () => {
  const { root, intermediate, leaf } = pki({ dns: ['localhost'] });

  it('accepts a pin of any certificate in the verified chain', () => {
    expect(caSha256Pin(root.cert)).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expectServerChain([leaf, intermediate], { mode: 'full', roots: [root], serverName: 'localhost', caSha256: [caSha256Pin(root.cert)] }, null);
  });

  it('rejects a chain none of whose keys is pinned, in full and in strict mode alike', () => {
    const wrong = [caTrustedFingerprint(root.cert)];
    const message = "provided CA certificate pins doesn't match any of the certificate authorities used to validate the certificate";
    expectServerChain([leaf, intermediate], { mode: 'full', roots: [root], serverName: 'localhost', caSha256: wrong }, message);
    expectServerChain([leaf, intermediate], { mode: 'strict', roots: [root], serverName: 'localhost', caSha256: wrong }, message);
  });
});

describe('verifyClientChain', () => {
  const { root, intermediate } = pki();

  it('accepts a clientAuth certificate whose intermediate the client sent', () => {
    const agent = issue({ subject: [['CN', 'elastic-agent']], eku: ['clientAuth'], issuer: intermediate });
    expectClientChain([agent, intermediate], [root], null);
  });

  it('rejects a serverAuth-only client certificate with an incompatible key usage', () => {
    const agent = issue({ subject: [['CN', 'elastic-agent']], eku: ['serverAuth'], issuer: intermediate });
    expectClientChain([agent, intermediate], [root], 'x509: certificate specifies an incompatible key usage');
  });

  it('rejects a client certificate from an untrusted CA as an unknown authority', () => {
    const strangerCa = issue({ subject: [['CN', 'stranger-ca']], ca: true });
    const agent = issue({ eku: ['clientAuth'], issuer: strangerCa });
    const result = expectClientChain([agent], [root], 'x509: certificate signed by unknown authority');
    expect(result.ok ? null : result.error.kind).toBe('UnknownAuthority');
  });

  it('names the trusted CA in the hint when an untrusted CA copied its name', () => {
    const lookalike = pki();
    const agent = issue({ eku: ['clientAuth'], issuer: lookalike.intermediate });
    expectClientChain([agent, lookalike.intermediate], [root],
      'x509: certificate signed by unknown authority (possibly because of "x509: ECDSA verification failure" while trying to verify candidate authority certificate "test-root")');
  });

  it('rejects an expired client certificate with the Expired reason', () => {
    const agent = issue({ eku: ['clientAuth'], issuer: intermediate, notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2021-06-30T12:30:00Z') });
    const result = expectClientChain([agent, intermediate], [root],
      'x509: certificate has expired or is not yet valid: current time 2026-06-01T12:00:00Z is after 2021-06-30T12:30:00Z');
    expect(result.ok ? null : result.error.reason).toBe('Expired');
  });
});
