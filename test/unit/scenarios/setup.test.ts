import { describe, expect, it } from 'vitest';
import { applySettings, policyOutput } from '../../../src/scenarios/setup.js';
import type { FlowConfig } from '../../../src/flows/flow.js';

const base = {
  elasticsearch: { versions: { min: '1.2', max: '1.3' } },
  fleetServer: {
    certificateAuthorities: [{} as never], clientAuthentication: 'none',
    elasticsearchUrl: 'https://localhost:9200', elasticsearchTls: { verificationMode: 'full' }, serviceToken: 't',
  },
  agent: { url: 'https://localhost:8220', tls: { verificationMode: 'full' } },
} as unknown as FlowConfig;

describe('scenario settings', () => {
  it('reads CAs without client_authentication as required, as elastic-agent-libs does', () => {
    expect(applySettings(base, { 'fleet-server': { 'server.ssl.client_authentication': 'unset' } }).fleetServer.clientAuthentication).toBe('required');
    const noCas = { ...base, fleetServer: { ...base.fleetServer, certificateAuthorities: [] } };
    expect(applySettings(noCas, { 'fleet-server': { 'server.ssl.client_authentication': 'unset' } }).fleetServer.clientAuthentication).toBe('none');
  });

  it('turns supported_protocols into each component\'s version range', () => {
    const config = applySettings(base, {
      agent: { 'ssl.supported_protocols': ['TLSv1.3'] },
      'fleet-server': { 'server.ssl.supported_protocols': ['TLSv1.2'], 'output.elasticsearch.ssl.verification_mode': 'strict' },
      elasticsearch: { 'xpack.security.http.ssl.supported_protocols': ['TLSv1.2', 'TLSv1.3'] },
    });
    expect(config.agent.tls.versions).toEqual({ min: '1.3', max: '1.3' });
    expect(config.fleetServer.versions).toEqual({ min: '1.2', max: '1.2' });
    expect(config.fleetServer.elasticsearchTls.verificationMode).toBe('strict');
    expect(config.elasticsearch.versions).toEqual({ min: '1.2', max: '1.3' });
  });

  it('gives Elasticsearch a token of its own when it must not know Fleet Server\'s', () => {
    const config = applySettings(base, { elasticsearch: { knows_service_token: false } });
    expect(config.elasticsearchServiceToken).toMatch(/^AAEAAW/);
    expect(config.elasticsearchServiceToken).not.toBe(config.fleetServer.serviceToken);
  });

  it('leaves the configuration alone without settings', () => {
    expect(applySettings(base, undefined)).toBe(base);
  });
});

describe('the policy output', () => {
  const expand = { path: (p: string) => p.replace('/path/to/', '/pki/'), value: (v: string) => v.replace('{fingerprint:es-ca}', 'abc') };

  it('takes the flow\'s output and lets the scenario replace and remove settings', () => {
    const output = policyOutput(
      { hosts: ['https://localhost:9200'], 'ssl.certificate_authorities': ['/path/to/es-ca'] },
      { 'ssl.certificate_authorities': null, 'ssl.ca_trusted_fingerprint': '{fingerprint:es-ca}', 'ssl.verification_mode': 'strict' },
      expand,
    );
    expect(output).toEqual({ hosts: ['https://localhost:9200'], ssl: { verification_mode: 'strict', ca_trusted_fingerprint: 'abc' } });
  });

  it('resolves placeholders in CA, certificate and key paths', () => {
    expect(policyOutput(undefined, { 'ssl.certificate_authorities': ['/path/to/es-ca'], 'ssl.certificate': '/path/to/x', 'ssl.key': '/path/to/x-key' }, expand))
      .toEqual({ hosts: ['https://localhost:9200'], ssl: { certificate_authorities: ['/pki/es-ca'], certificate: '/pki/x', key: '/pki/x-key' } });
  });

  it('is absent when neither the flow nor the scenario has one', () => {
    expect(policyOutput(undefined, undefined, expand)).toBeUndefined();
  });
});
