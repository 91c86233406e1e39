import { describe, it } from 'vitest';
import { expectHostname } from './expect-go.js';
import { issue } from './helpers.js';

describe('goVerifyHostname', () => {
  const server = issue({ subject: [['CN', 'fleet-server']], dns: ['fleet.example.internal', '*.fleet.example.internal'], ips: ['10.0.0.5', '2001:db8::1'] });

  it('accepts an exact DNS SAN, case-insensitively and with a trailing dot', () => {
    expectHostname(server, 'fleet.example.internal', null);
    expectHostname(server, 'FLEET.Example.Internal.', null);
  });

  it('lets a wildcard stand for exactly one left-most label', () => {
    expectHostname(server, 'a.fleet.example.internal', null);
    expectHostname(server, 'a.b.fleet.example.internal',
      'x509: certificate is valid for fleet.example.internal, *.fleet.example.internal, not a.b.fleet.example.internal');
  });

  it('lists the DNS SANs when the host name is not among them', () => {
    expectHostname(server, 'localhost', 'x509: certificate is valid for fleet.example.internal, *.fleet.example.internal, not localhost');
  });

  it('matches IP hosts against IP SANs only, and lists them in Go notation when none match', () => {
    expectHostname(server, '10.0.0.5', null);
    expectHostname(server, '[2001:db8:0:0::1]', null);
    expectHostname(server, '127.0.0.1', 'x509: certificate is valid for 10.0.0.5, 2001:db8::1, not 127.0.0.1');
  });

  it('says an IP cannot be validated when the certificate has no IP SANs', () => {
    const dnsOnly = issue({ dns: ['localhost'] });
    expectHostname(dnsOnly, '127.0.0.1', "x509: cannot validate certificate for 127.0.0.1 because it doesn't contain any IP SANs");
    expectHostname(dnsOnly, '[::1]', "x509: cannot validate certificate for ::1 because it doesn't contain any IP SANs");
  });

  it('says the certificate is valid for no names when its SANs hold no DNS name', () => {
    const ipOnly = issue({ subject: [['CN', 'elasticsearch']], ips: ['10.0.0.9'] });
    expectHostname(ipOnly, 'localhost', 'x509: certificate is not valid for any names, but wanted to match localhost');
  });

  it('points at the legacy Common Name when only the CN would have matched', () => {
    const cnOnly = issue({ subject: [['O', 'Elastic'], ['CN', 'localhost']] });
    expectHostname(cnOnly, 'localhost', 'x509: certificate relies on legacy Common Name field, use SANs instead');
    expectHostname(cnOnly, 'elsewhere', 'x509: certificate is not valid for any names, but wanted to match elsewhere');
  });

  it('ignores the CN once a SAN extension exists, even an empty-handed one', () => {
    const cnAndSan = issue({ subject: [['CN', 'localhost']], dns: ['other.example'] });
    expectHostname(cnAndSan, 'localhost', 'x509: certificate is valid for other.example, not localhost');
  });

  it('does not apply wildcards when the host is not a valid host name', () => {
    const wildcard = issue({ dns: ['*.example.com', 'under_score.example.com'] });
    expectHostname(wildcard, 'under_score.example.com', null);
    expectHostname(wildcard, 'a b.example.com', 'x509: certificate is valid for *.example.com, under_score.example.com, not a b.example.com');
  });
});
