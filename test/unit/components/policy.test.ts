import { describe, expect, it } from 'vitest';
import { fleetClientAfterPolicy, fleetClientEqual, mergeBootstrapOutput } from '../../../src/components/policy.js';
import { parseInstallFlags } from '../../../src/flows/install-flags.js';
import { planPolicy, withPolicyOutput } from '../../../src/flows/policy-flags.js';
import { HarnessError } from '../../../src/errors.js';
import { sharedPki } from '../../helpers/pki.js';
import { parsePemCertificates, type Cert } from '../../../src/x509/certificate.js';
import type { Pki } from '../../../src/pki/store.js';

const caOf = (pki: Pki, name: 'fleet-ca' | 'agent-ca' | 'es-ca'): Cert => parsePemCertificates(pki.cas[name].pem)[0]!;

/** The merges the real components make when the policy takes over (policy.ts), and the --policy-* flags. */
describe('the agent\'s Fleet client after its policy (updateFleetConfig)', () => {
  it('keeps --certificate-authorities, the verification mode and the enrollment proxy when the policy has none of them', async () => {
    const pki = await sharedPki();
    const ca = caOf(pki, 'fleet-ca');
    const enrolled = { url: 'https://localhost:8220', tls: { verificationMode: 'certificate' as const, certificateAuthorities: [ca] }, proxy: { url: 'http://127.0.0.1:3128' } };
    const after = fleetClientAfterPolicy(enrolled, { hosts: ['https://fleet.example.com:8220'], ssl: { verification_mode: 'none' } });
    expect(after.url).toBe('https://fleet.example.com:8220');
    expect(after.tls.verificationMode).toBe('certificate');
    expect(after.tls.certificateAuthorities?.map((c) => c.sha256Hex)).toEqual([ca.sha256Hex]);
    expect(after.proxy).toEqual({ url: 'http://127.0.0.1:3128' });
  });

  it('replaces the CAs and the proxy when the policy names them', async () => {
    const pki = await sharedPki();
    const enrolled = { url: 'https://localhost:8220', tls: { certificateAuthorities: [caOf(pki, 'fleet-ca')] } };
    const after = fleetClientAfterPolicy(enrolled, {
      hosts: [], ssl: { certificate_authorities: [pki.cas['agent-ca'].pem] }, proxy_url: 'socks5://127.0.0.1:1080', proxy_headers: { 'X-Test': '1' },
    });
    expect(after.url).toBe('https://localhost:8220');
    expect(after.tls.certificateAuthorities?.map((c) => c.subject)).toEqual([caOf(pki, 'agent-ca').subject]);
    expect(after.proxy).toEqual({ url: 'socks5://127.0.0.1:1080', headers: { 'X-Test': '1' }, disable: false });
  });
});

describe('whether the agent tests a policy\'s Fleet Server settings (clientEqual)', () => {
  const url = 'https://fleet.example.com:8220';
  const enrolled = { url, tls: {}, proxy: { headers: { 'X-Env': 'prod' } } };

  it('never finds the settings enrollment left equal to a policy\'s, even the same URL and proxy headers', () => {
    expect(fleetClientEqual(enrolled, { hosts: [url], proxy_headers: { 'X-Env': 'prod' } })).toBe(false);
  });

  it('finds a later policy with the same hosts (in any order), proxy switch and headers equal, and nothing else', async () => {
    const pki = await sharedPki();
    const held = fleetClientAfterPolicy(enrolled, { hosts: [url, 'https://b.example.com:8220'] });
    expect(held.held).toEqual({ hosts: [url, 'https://b.example.com:8220'], proxyHeaders: { 'X-Env': 'prod' }, proxyDisable: false });
    const same = { hosts: ['https://b.example.com:8220', url], proxy_headers: { 'X-Env': 'prod' } };
    expect(fleetClientEqual(held, same)).toBe(true);
    expect(fleetClientEqual(held, { ...same, hosts: [url] })).toBe(false);
    expect(fleetClientEqual(held, { ...same, proxy_headers: {} })).toBe(false);
    expect(fleetClientEqual(held, { ...same, proxy_disable: true })).toBe(false);
    // A proxy URL is a new *url.URL each time: never equal, even to itself.
    const proxied = fleetClientAfterPolicy(held, { ...same, proxy_url: 'http://proxy:3128' });
    expect(fleetClientEqual(proxied, { ...same, proxy_url: 'http://proxy:3128' })).toBe(false);
    // The verification mode is not compared (and not taken from the policy).
    expect(fleetClientEqual(held, { ...same, ssl: { verification_mode: 'none' } })).toBe(true);
    // CAs: any the agent does not hold as PEM differ; once held, the same PEM is equal.
    const ca = pki.cas['fleet-ca'].pem;
    expect(fleetClientEqual(held, { ...same, ssl: { certificate_authorities: [ca] } })).toBe(false);
    const withCa = fleetClientAfterPolicy(held, { ...same, ssl: { certificate_authorities: [ca] } });
    expect(fleetClientEqual(withCa, { ...same, ssl: { certificate_authorities: [ca] } })).toBe(true);
    expect(fleetClientEqual(withCa, { ...same, ssl: { certificate_authorities: [pki.cas['agent-ca'].pem] } })).toBe(false);
    // A policy without CAs leaves the held ones: still equal.
    expect(fleetClientEqual(withCa, same)).toBe(true);
  });
});

describe('Fleet Server\'s policy output merged with its bootstrap (injectMissingOutputAttributes)', () => {
  it('takes the CA, the client certificate and the hosts from the bootstrap only where the policy has none', async () => {
    const pki = await sharedPki();
    const bootstrapCa = caOf(pki, 'es-ca');
    const merged = mergeBootstrapOutput({ hosts: [] }, { hosts: ['https://es.internal:9200'], tls: { certificateAuthorities: [bootstrapCa], caTrustedFingerprint: 'ab' } });
    expect(merged.hosts).toEqual(['https://es.internal:9200']);
    expect(merged.tls.certificateAuthorities).toEqual([bootstrapCa]);
    expect(merged.tls.caTrustedFingerprint).toBe('ab');
    const own = mergeBootstrapOutput({ hosts: ['https://localhost:9200'], ssl: { certificate_authorities: [pki.cas['fleet-ca'].pem] } }, { hosts: ['https://es.internal:9200'], tls: { certificateAuthorities: [bootstrapCa] } });
    expect(own.hosts).toEqual(['https://localhost:9200']);
    expect(own.tls.certificateAuthorities?.map((c) => c.subject)).toEqual([caOf(pki, 'fleet-ca').subject]);
  });

  it('drops the bootstrap\'s verification_mode none when the policy brings a CA, and keeps it when the policy brings none', async () => {
    const pki = await sharedPki();
    const bootstrap = { hosts: ['https://localhost:9200'], tls: { verificationMode: 'none' as const } };
    expect(mergeBootstrapOutput({ hosts: ['https://localhost:9200'], ssl: { certificate_authorities: [pki.cas['es-ca'].pem] } }, bootstrap).tls.verificationMode).toBe('full');
    expect(mergeBootstrapOutput({ hosts: ['https://localhost:9200'], ssl: { ca_trusted_fingerprint: 'ab' } }, bootstrap).tls.verificationMode).toBe('full');
    expect(mergeBootstrapOutput({ hosts: ['https://localhost:9200'] }, bootstrap).tls.verificationMode).toBe('none');
  });

  it('takes each proxy key on its own: the policy\'s URL with the bootstrap\'s headers', () => {
    const merged = mergeBootstrapOutput({ hosts: ['https://localhost:9200'], proxy_url: 'http://proxy:3128' }, { hosts: [], tls: {}, proxy: { url: 'http://other:3128', headers: { A: 'b' }, disable: false } });
    expect(merged.proxy).toEqual({ url: 'http://proxy:3128', headers: { A: 'b' }, disable: false });
  });
});

describe('the --policy-* install flags', () => {
  const plan = async (argv: string[]) => {
    const pki = await sharedPki();
    const flags = parseInstallFlags(argv);
    const str = (name: string) => (typeof flags.values[name] === 'string' ? flags.values[name] as string : undefined);
    const list = (name: string) => str(name)?.split(',').map((p) => p.replace(/^\/path\/to\/(.*)$/, (_, n: string) => pki.certPath(n as 'fleet-ca')));
    return planPolicy(flags, { str, list }, 'https://localhost:8220', []);
  };

  it('mirror the enrollment by default: the policy\'s Fleet Server host is --url, the output unchanged', async () => {
    expect(await plan([])).toEqual({ fleet: { hosts: ['https://localhost:8220'] }, output: {} });
  });

  it('give the policy its own host, CA, proxy and output, and `--policy-output-ca=none` removes the output\'s CA', async () => {
    const pki = await sharedPki();
    const planned = await plan(['--policy-fleet-url=https://fleet.example.com:8220', '--policy-fleet-ca=/path/to/agent-ca', '--policy-fleet-proxy-url=http://127.0.0.1:3128',
      '--policy-fleet-proxy-header=X-A=1', '--policy-output-hosts=http://localhost:9200', '--policy-output-ca=none', '--policy-output-proxy-url=socks5://127.0.0.1:1080']);
    expect(planned.fleet).toEqual({
      hosts: ['https://fleet.example.com:8220'], ssl: { certificate_authorities: [pki.cas['agent-ca'].pem] },
      proxy_url: 'http://127.0.0.1:3128', proxy_headers: { 'X-A': '1' },
    });
    const output = withPolicyOutput({ hosts: ['https://localhost:9200'], ssl: { certificate_authorities: ['PEM'], verification_mode: 'full' } }, planned.output);
    expect(output).toEqual({ hosts: ['http://localhost:9200'], ssl: { verification_mode: 'full' }, proxy_url: 'socks5://127.0.0.1:1080' });
  });

  it.each([
    [['--policy-fleet-url=fleet:8220'], "--policy-fleet-url: 'fleet:8220' is not an http or https URL"],
    [['--policy-output-hosts=not a url'], "--policy-output-hosts: 'not a url' is not a URL"],
    [['--policy-output-verification-mode=loose'], "--policy-output-verification-mode: 'loose' is not full, strict, certificate or none"],
    [['--policy-fleet-proxy-url=ftp://127.0.0.1:21'], '--policy-fleet-proxy-url: unsupported proxy scheme "ftp" (http, https or socks5)'],
    [['--policy-output-proxy-header=novalue'], 'invalid argument "novalue" for "--policy-output-proxy-header" flag: novalue must be formatted as key=value'],
    [['--proxy-require-auth=alice'], "--proxy-require-auth: 'alice' is not user:pass"],
  ])('refuse %j with one line naming the flag', async (argv, message) => {
    const error = await plan(argv).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HarnessError);
    expect((error as HarnessError).code).toBe('FTH_USAGE');
    expect((error as HarnessError).message).toBe(message);
  });
});
