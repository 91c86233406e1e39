import { describe, expect, it } from 'vitest';
import { createPki, enrollAgent, startElasticsearch, startFleetServer } from '../../src/index.js';

// The README's library example, verbatim but for the import path.
describe('my Fleet integration over mutual TLS', () => {
  it('enrolls, and reports who refused when the agent has no certificate', async () => {
    await using pki = await createPki();                             // a fresh PKI in a temporary directory, removed after
    await using es = await startElasticsearch({ pki, clientAuthentication: 'required' });
    await using fleet = await startFleetServer({ pki, elasticsearch: es, clientAuthentication: 'required' });
    expect(fleet.state).toBe('HEALTHY');                             // fleet.url, fleet.port, es.url …

    expect((await enrollAgent({ pki, fleetServer: fleet })).ok).toBe(true);

    const refused = await enrollAgent({ pki, fleetServer: fleet, clientCertificate: false });
    expect(refused.leg).toMatchObject({ rejectedBy: 'server', alert: 'certificate_required', phase: 'after-handshake' });
    expect(refused.leg.logs['fleet-server']).toMatch(/tls: client didn't provide a certificate$/);
  });
});
