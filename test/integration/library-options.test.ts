import net from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { authorities, createPki, enrollAgent, identity, runScenario, startElasticsearch, startFleetServer } from '../../src/api.js';
import { FakeElasticsearch } from '../../src/components/elasticsearch.js';
import { FakeFleetServer } from '../../src/components/fleet-server.js';
import { isHarnessError } from '../../src/errors.js';
import { sharedPki } from '../helpers/pki.js';

/** The library as untyped callers use it: every bad option is one FTH_ error that names it and the value given. */

type Call = (pki: Awaited<ReturnType<typeof sharedPki>>) => unknown;
const any = (value: unknown) => value as never;

const REFUSED: ReadonlyArray<[string, Call, string]> = [
  ['startElasticsearch without options', () => startElasticsearch(any(undefined)), 'startElasticsearch: options must be an object, got undefined'],
  ['startElasticsearch without a pki', () => startElasticsearch(any({})), 'startElasticsearch: option pki must be a PKI from createPki(), got undefined'],
  ['a port that is a string (Node would listen on a pipe)', (pki) => startElasticsearch({ pki, port: any('abc') }), "startElasticsearch: option port must be an integer from 0 to 65535 (0 picks a free port), got 'abc'"],
  ['a port above 65535', (pki) => startElasticsearch({ pki, port: 70_000 }), 'startElasticsearch: option port must be an integer from 0 to 65535 (0 picks a free port), got 70000'],
  ['a negative port', (pki) => startFleetServer({ pki, elasticsearch: { url: 'https://es:9200', serviceToken: 't' }, port: -1 }), 'startFleetServer: option port must be an integer from 0 to 65535 (0 picks a free port), got -1'],
  ['a fractional port', (pki) => startElasticsearch({ pki, port: 1.5 }), 'startElasticsearch: option port must be an integer from 0 to 65535 (0 picks a free port), got 1.5'],
  ['a misspelt clientAuthentication', (pki) => startElasticsearch({ pki, clientAuthentication: any('requierd') }), "startElasticsearch: option clientAuthentication must be one of 'none', 'optional', 'required', got 'requierd'"],
  ['a TLS version that does not exist', (pki) => startElasticsearch({ pki, tls: any('1.4') }), "startElasticsearch: option tls must be one of '1.2', '1.3', got '1.4'"],
  ['a TLS version given as a number', (pki) => startFleetServer({ pki, elasticsearch: { url: 'https://es:9200', serviceToken: 't' }, tls: any(1.3) }), "startFleetServer: option tls must be one of '1.2', '1.3', got 1.3"],
  ['an empty host', (pki) => startElasticsearch({ pki, host: '' }), "startElasticsearch: option host must be a host name or IP address, got ''"],
  ['a service token with a line break', (pki) => startElasticsearch({ pki, serviceToken: 'abc\ndef' }), "startElasticsearch: option serviceToken must be a non-empty string of printable characters without spaces, got 'abc\ndef'"],
  ['startFleetServer without elasticsearch', (pki) => startFleetServer(any({ pki })), 'startFleetServer: option elasticsearch must be a FakeElasticsearch or { url, serviceToken }, got undefined'],
  ['an Elasticsearch URL that is not one', (pki) => startFleetServer({ pki, elasticsearch: { url: 'es:9200 please', serviceToken: 't' } }), "startFleetServer: option url must be an http or https URL, got 'es:9200 please'"],
  ['trustElasticsearch as a string', (pki) => startFleetServer({ pki, elasticsearch: { url: 'https://es:9200', serviceToken: 't' }, trustElasticsearch: any('no') }), "startFleetServer: option trustElasticsearch must be true or false, got 'no'"],
  ['enrollAgent without a Fleet Server', (pki) => enrollAgent(any({ pki })), 'enrollAgent: option fleetServer must be a FakeFleetServer from startFleetServer(), got undefined'],
  ['createPki with a key type it does not make', () => createPki({ keyType: any('dsa') }), "createPki: option keyType must be one of 'rsa', 'ecdsa', got 'dsa'"],
  ['createPki with force as a string', () => createPki({ force: any('yes') }), "createPki: option force must be true or false, got 'yes'"],
  ['runScenario with an unknown TLS version', (pki) => runScenario('x', { pki, tls: any(['1.4']) }), "runScenario: option tls must be an array of '1.2', '1.3', got an array of 1"],
  ['runScenario with an id that is not a string', (pki) => runScenario(any(42), { pki }), 'runScenario: option ids must be a non-empty string or array of non-empty strings, got 42'],
  ['identity of a leaf the PKI does not have', (pki) => identity(pki, any('kibana-cert')), "identity: the leaf name must be one of 'fleet-cert', 'agent-cert', 'es-cert', 'fleet-es-cert', got 'kibana-cert'"],
  ['authorities of a CA the PKI does not have', (pki) => authorities(pki, 'fleet-ca', any('root-ca')), "authorities: each CA name must be one of 'fleet-ca', 'agent-ca', 'es-ca', got 'root-ca'"],
];

describe('library options', () => {
  it.each(REFUSED)('refuses %s with FTH_OPTION_INVALID naming the option and the value', async (_name, call, message) => {
    const pki = await sharedPki();
    const error = await (async () => call(pki))().then(() => undefined, (e: unknown) => e);
    expect(isHarnessError(error, 'FTH_OPTION_INVALID')).toBe(true);
    expect((error as Error).message).toBe(message);
  });

  it('refuses a verification mode it does not know before enrolling', async () => {
    const pki = await sharedPki();
    await using es = await startElasticsearch({ pki });
    await using fleet = await startFleetServer({ pki, elasticsearch: es });
    await expect(enrollAgent({ pki, fleetServer: fleet, verificationMode: any('ful') })).rejects.toThrow("enrollAgent: option verificationMode must be one of 'full', 'strict', 'certificate', 'none', got 'ful'");
    await expect(enrollAgent({ pki, fleetServer: fleet, certificateAuthorities: any(['fleet-ca', 'root-ca']) })).rejects.toMatchObject({ code: 'FTH_OPTION_INVALID' });
  });
});

describe('closing the fakes', () => {
  it('closes idempotently, keeps the port readable, and refuses use after close with FTH_CLOSED', async () => {
    const pki = await sharedPki();
    const es = await startElasticsearch({ pki });
    const fleet = await startFleetServer({ pki, elasticsearch: es });
    const port = fleet.port;
    await Promise.all([fleet.close(), fleet.close()]);
    await fleet.close();
    expect(fleet.closed).toBe(true);
    expect(fleet.port).toBe(port);
    await expect(enrollAgent({ pki, fleetServer: fleet })).rejects.toMatchObject({ code: 'FTH_CLOSED', message: 'enrollAgent: option fleetServer is a FakeFleetServer that was closed' });
    await expect(fleet.connection(1234)).rejects.toMatchObject({ code: 'FTH_CLOSED' });
    await es.close();
    await es.close();
    await expect(startFleetServer({ pki, elasticsearch: es })).rejects.toMatchObject({ code: 'FTH_CLOSED', message: 'startFleetServer: option elasticsearch is a FakeElasticsearch that was closed' });
  });
});

describe('a start that fails', () => {
  /** The servers that start listening while `run` runs, to check each is closed afterwards. */
  async function serversDuring(run: () => Promise<unknown>): Promise<net.Server[]> {
    const servers: net.Server[] = [];
    const realListen = net.Server.prototype.listen;
    const listen = vi.spyOn(net.Server.prototype, 'listen').mockImplementation(function (this: net.Server, ...args: unknown[]) {
      servers.push(this);
      return realListen.apply(this, args as never);
    });
    try {
      await run().catch(() => undefined);
    } finally {
      listen.mockRestore();
    }
    return servers;
  }

  it('leaves no listener behind when the component\'s key does not match its certificate', async () => {
    const pki = await sharedPki();
    const mismatched = { ...identity(pki, 'es-cert'), keyPem: identity(pki, 'agent-cert').keyPem };
    await expect(FakeElasticsearch.start({ identity: mismatched })).rejects.toMatchObject({ code: 'FTH_KEY_MISMATCH', message: 'elasticsearch: its private key does not match its certificate' });
    expect(await serversDuring(() => FakeElasticsearch.start({ identity: mismatched }))).toEqual([]);
  });

  it('closes Fleet Server\'s listener when its bootstrap throws (its Elasticsearch client key does not fit)', async () => {
    const pki = await sharedPki();
    await using es = await startElasticsearch({ pki });
    const mismatched = { ...identity(pki, 'fleet-es-cert'), keyPem: identity(pki, 'agent-cert').keyPem };
    const start = () => FakeFleetServer.start({
      identity: identity(pki, 'fleet-cert'),
      elasticsearch: { url: es.url, connectTo: es.endpoint, serviceToken: es.serviceToken, tls: { certificateAuthorities: authorities(pki, 'es-ca'), certificate: mismatched } },
    });
    await expect(start()).rejects.toThrow(/key values mismatch/);
    const servers = await serversDuring(start);
    // It listened before bootstrapping, and closed again when the bootstrap threw.
    expect(servers).toHaveLength(1);
    expect(servers[0]!.listening).toBe(false);
  });
});
