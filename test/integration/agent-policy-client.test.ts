/**
 * The agent's Fleet client while it applies a policy (elastic-agent handler_action_policy_change.go):
 * it tests the policy's Fleet Server settings with GET /api/status unless clientEqual finds them
 * the same as the ones it holds, and the acker, handed the tested client (SetClient), sends the
 * ack over that client's kept-alive connection. Counted at a TCP relay in front of the fake Fleet Server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { authorities, enrollAgent, identity, startElasticsearch, startFleetServer } from '../../src/api.js';
import { applyAgentPolicy } from '../../src/components/agent-policy.js';
import type { EnrollResult } from '../../src/components/agent.js';
import type { FakeElasticsearch } from '../../src/components/elasticsearch.js';
import type { FakeFleetServer } from '../../src/components/fleet-server.js';
import { ComponentLog } from '../../src/components/log.js';
import type { FleetClientSettings } from '../../src/components/policy.js';
import type { Pki } from '../../src/pki/store.js';
import { sharedPki } from '../helpers/pki.js';

let pki: Pki;
let es: FakeElasticsearch;
let fleet: FakeFleetServer;
let enrolled: EnrollResult;
let relay: net.Server;
let connections = 0;

beforeAll(async () => {
  pki = await sharedPki();
  es = await startElasticsearch({ pki });
  fleet = await startFleetServer({ pki, elasticsearch: es });
  enrolled = await enrollAgent({ pki, fleetServer: fleet });
  relay = net.createServer((client) => {
    connections++;
    const upstream = net.connect(fleet.port, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
      a.on('error', () => b.destroy());
      a.on('close', () => b.destroy());
    }
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
}, 60_000);
afterAll(async () => {
  await new Promise((resolve) => relay.close(resolve));
  await fleet?.close();
  await es?.close();
});

/** The Fleet client enrollment left: --url and --certificate-authorities (no `held` settings yet). */
const enrollment = (): FleetClientSettings => ({ url: fleet.url, tls: { certificateAuthorities: authorities(pki, 'fleet-ca'), certificate: identity(pki, 'agent-cert') } });

/** Applies `fleetBlock` as the policy's `fleet` section; counts the TCP connections it opened to Fleet Server. */
async function apply(current: FleetClientSettings, fleetBlock: Record<string, unknown>) {
  const before = connections;
  const result = await applyAgentPolicy({
    enrolled: current, policy: { ...enrolled.policy, fleet: fleetBlock }, actionId: enrolled.policyActionId!, agentId: enrolled.agentId!,
    accessApiKey: enrolled.accessApiKey!, runsFleetServer: false, log: new ComponentLog('agent'),
    connectTo: { host: '127.0.0.1', port: (relay.address() as net.AddressInfo).port },
  });
  // The relay sees a connection as soon as it is accepted; let the last one arrive.
  await new Promise((resolve) => setImmediate(resolve));
  return { result, opened: connections - before };
}

describe('the agent\'s Fleet client when the policy takes over', () => {
  it('tests the first policy\'s Fleet Server host even when it is --url (enrollment holds it as host and protocol, a policy as hosts), then acks over the same connection', async () => {
    expect(enrolled.ok).toBe(true);
    const { result, opened } = await apply(enrollment(), { hosts: [fleet.url] });
    expect(result.applied).toBe(true);
    expect(result.leg).toMatchObject({ ok: true, stage: 'policy', http: { method: 'GET', path: '/api/status', status: 200 } });
    // GET /api/status and the POST of the ack: one TLS connection.
    expect(opened).toBe(1);
    expect(result.client.held).toEqual({ hosts: [fleet.url], proxyHeaders: {}, proxyDisable: false });
  });

  it('skips the test for a later policy that leaves the held settings as they are, and only acks', async () => {
    const first = await apply(enrollment(), { hosts: [fleet.url] });
    const { result, opened } = await apply(first.result.client, { hosts: [fleet.url] });
    expect(result.applied).toBe(true);
    expect(result.leg).toMatchObject({ ok: true, stage: 'policy', http: { method: 'POST', path: `/api/fleet/agents/${enrolled.agentId}/acks`, status: 200 } });
    expect(result.client).toBe(first.result.client);
    expect(opened).toBe(1);
  });

  it('tests a later policy that brings a CA, even the same CA as a file it was enrolled with', async () => {
    const first = await apply(enrollment(), { hosts: [fleet.url] });
    const { result } = await apply(first.result.client, { hosts: [fleet.url], ssl: { certificate_authorities: [pki.cas['fleet-ca'].pem] } });
    expect(result.leg).toMatchObject({ ok: true, http: { method: 'GET', path: '/api/status', status: 200 } });
    // Held now as the policy's PEM: the same CA again is equal, and not tested.
    const again = await apply(result.client, { hosts: [fleet.url], ssl: { certificate_authorities: [pki.cas['fleet-ca'].pem] } });
    expect(again.result.leg).toMatchObject({ http: { method: 'POST' } });
  });
});
