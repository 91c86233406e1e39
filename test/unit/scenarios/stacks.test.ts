import { describe, expect, it } from 'vitest';
import { authorities, identity } from '../../../src/api.js';
import { newServiceToken } from '../../../src/components/elasticsearch-api.js';
import type { FlowConfig } from '../../../src/flows/flow.js';
import { settingsKey } from '../../../src/scenarios/stacks.js';
import { sharedPki } from '../../helpers/pki.js';

async function config(change: (c: FlowConfig) => FlowConfig = (c) => c): Promise<FlowConfig> {
  const pki = await sharedPki();
  return change({
    elasticsearch: { identity: identity(pki, 'es-cert'), clientAuthentication: 'none', clientCertificateAuthorities: authorities(pki, 'es-ca') },
    fleetServer: {
      identity: identity(pki, 'fleet-cert'), certificateAuthorities: authorities(pki, 'fleet-ca'), clientAuthentication: 'none',
      elasticsearchUrl: 'https://localhost:9200', elasticsearchTls: { certificateAuthorities: authorities(pki, 'es-ca') }, serviceToken: newServiceToken(),
    },
    agent: { url: 'https://localhost:8220', tls: { verificationMode: 'full' } },
  });
}

describe('which scenario runs share an Elasticsearch and Fleet Server', () => {
  it('runs that differ only in the agent\'s settings and the random service token share', async () => {
    const a = await config();
    const b = await config((c) => ({ ...c, agent: { url: 'https://elsewhere:8220', tls: { verificationMode: 'none' } } }));
    expect(settingsKey(a)).toBeTypeOf('string');
    expect(settingsKey(a)).toBe(settingsKey(b));
  });

  it('a different certificate, client authentication or token Elasticsearch knows keeps runs apart', async () => {
    const pki = await sharedPki();
    const a = settingsKey(await config());
    expect(settingsKey(await config((c) => ({ ...c, fleetServer: { ...c.fleetServer, identity: identity(pki, 'es-cert') } })))).not.toBe(a);
    expect(settingsKey(await config((c) => ({ ...c, fleetServer: { ...c.fleetServer, clientAuthentication: 'required' } })))).not.toBe(a);
    expect(settingsKey(await config((c) => ({ ...c, elasticsearch: { ...c.elasticsearch, clientCertificateAuthorities: authorities(pki, 'fleet-ca') } })))).not.toBe(a);
    expect(settingsKey(await config((c) => ({ ...c, elasticsearchServiceToken: newServiceToken('token-deleted') })))).not.toBe(a);
  });

  it('a service token the scenario names keeps its runs apart from generated ones: its length shows on the wire', async () => {
    const generated = settingsKey(await config());
    const named = (token: string) => config((c) => ({ ...c, fleetServer: { ...c.fleetServer, serviceToken: token } }));
    expect(settingsKey(await named('FLEET-SERVER-SERVICE-TOKEN'))).not.toBe(generated);
    expect(settingsKey(await named(newServiceToken('other-name')))).not.toBe(generated);
    expect(settingsKey(await named('FLEET-SERVER-SERVICE-TOKEN'))).toBe(settingsKey(await named('FLEET-SERVER-SERVICE-TOKEN')));
  });

  it('settings holding something it cannot compare by value are never shared', async () => {
    expect(settingsKey(await config((c) => ({ ...c, fleetServer: { ...c.fleetServer, apiKeyCacheMs: 1, extra: new Map() } as FlowConfig['fleetServer'] })))).toBeUndefined();
  });
});
