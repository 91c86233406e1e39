import { writeFile } from 'node:fs/promises';
import { generateKeyPairSync } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorities, startElasticsearch, startFleetServer, startInterceptingProxy } from '../../src/index.js';
import { goRequest, type GoExchange } from '../../src/components/go-client.js';
import { clientTimeout } from '../../src/components/go-errors.js';
import { parseProxyUrl } from '../../src/components/proxy/proxy-url.js';
import { issueCa } from '../../src/pki/generate.js';
import { identityFromPem, type Identity } from '../../src/tls/material.js';
import type { FakeElasticsearch } from '../../src/components/elasticsearch.js';
import type { FakeFleetServer } from '../../src/components/fleet-server.js';
import type { FakeInterceptingProxy } from '../../src/components/proxy/intercepting-proxy.js';
import type { Pki } from '../../src/pki/store.js';
import { buildGoPeer, goClient } from '../helpers/go-peer.js';
import { scratchDir, sharedPki } from '../helpers/pki.js';
import { startSquidBump, type RealSquid } from '../helpers/squid.js';
import { settledLines } from '../helpers/tools.js';
import { freePort } from '../helpers/net.js';

/**
 * The fake TLS-intercepting proxy held against Debian's squid 5.7 (squid-openssl) with
 * `ssl_bump peek step1` / `ssl_bump bump all`, each driven by Go 1.19 and by the fake Go client:
 * the same outcome for the same fault, the same certificate minted, and the same log lines
 * (squid's access.log and cache.log, without what differs by run).
 */
let pki: Pki;
let es: FakeElasticsearch;
let fleet: FakeFleetServer;
let mutual: FakeFleetServer;
let mutual13: FakeFleetServer;
let binary: string;
let cleanup: () => Promise<void>;
let squid: RealSquid;
let fake: FakeInterceptingProxy;
let root: Identity;
let rootFile: string;
let denied: number;

beforeAll(async () => {
  pki = await sharedPki();
  const scratch = await scratchDir();
  cleanup = scratch.cleanup;
  const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ca = issueCa('Example Corp TLS Inspection CA', key);
  root = identityFromPem(ca.pem, key.privateKey);
  rootFile = path.join(scratch.dir, 'inspection-ca.crt');
  const rootKey = path.join(scratch.dir, 'inspection-ca.key');
  const upstreamCa = path.join(scratch.dir, 'fleet-ca.crt');
  await Promise.all([writeFile(rootFile, ca.pem), writeFile(rootKey, root.keyPem, { mode: 0o600 }), writeFile(upstreamCa, authorities(pki, 'fleet-ca')[0]!.pem)]);
  es = await startElasticsearch({ pki });
  denied = await freePort();
  [fleet, mutual, mutual13, binary, squid] = await Promise.all([
    startFleetServer({ pki, elasticsearch: es }),
    startFleetServer({ pki, elasticsearch: es, clientAuthentication: 'required', tls: '1.2' }),
    startFleetServer({ pki, elasticsearch: es, clientAuthentication: 'required', tls: '1.3' }),
    buildGoPeer(scratch.dir),
    startSquidBump(scratch.dir, { rootCert: rootFile, rootKey, upstreamCa, denyConnectPorts: [denied] }),
  ]);
  fake = await startInterceptingProxy({ root, upstreamAuthorities: authorities(pki, 'fleet-ca'), resolve: (_host, port) => ({ host: '127.0.0.1', port }) });
}, 120_000);

afterAll(async () => {
  await fake?.close();
  await squid?.stop();
  await fleet?.close();
  await mutual?.close();
  await mutual13?.close();
  await es?.close();
  await cleanup?.();
});

/** Go 1.19's outcome and the fake client's through one proxy: a status, or the error unwrapped. */
async function through(proxyPort: number, port: number, trustRoot: boolean, timeoutMs?: number): Promise<{ go: string; fake: string; exchange: GoExchange }> {
  const url = `https://localhost:${port}/api/status`;
  const proxy = `http://127.0.0.1:${proxyPort}`;
  const cas = trustRoot ? [rootFile] : [pki.certPath('fleet-ca')];
  const [[go], exchange] = await Promise.all([
    goClient(binary, [{ url, cas, proxy, ...(timeoutMs ? { timeoutMs } : {}) }]),
    goRequest({
      method: 'GET', url, tls: { certificateAuthorities: trustRoot ? root.chain : authorities(pki, 'fleet-ca') }, proxy: parseProxyUrl(proxy, 'proxy'), goRelease: '1.19',
      ...(timeoutMs ? { deadline: clientTimeout(timeoutMs) } : {}),
    }),
  ]);
  return { go: go!.status ? String(go!.status) : go!.unwrapped!, fake: exchange.response ? String(exchange.response.status) : exchange.error!, exchange };
}

/** What differs by run: elapsed time, byte counts (squid adds its own headers), ports, connection ids, addresses. */
function shape(lines: readonly string[]): string[] {
  return lines
    .map((l) => l.replace(/^\s*\d+ /, 'T ').replace(/(\/\d{3}) \d+ /, '$1 B ').replace(/localhost:\d+/g, 'localhost:PORT'))
    .map((l) => l.replace(/conn\d+/, 'connN').replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:P').replace(/FD \d+/, 'FD N').replace(/0x[0-9a-f]+\*1$/, '0xADDR*1'))
    .sort();
}

async function squidLines(action: () => Promise<void>): Promise<string[]> {
  const [access, cache] = await Promise.all([settledLines(() => squid.access()), settledLines(() => squid.cache())]);
  await action();
  const [accessAfter, cacheAfter] = await Promise.all([settledLines(() => squid.access()), settledLines(() => squid.cache())]);
  return [...accessAfter.slice(access.length), ...cacheAfter.slice(cache.length)];
}

async function fakeLines(action: () => Promise<void>): Promise<string[]> {
  const read = () => fake.log.entries.map((e) => e.message);
  const before = read().length;
  await action();
  return (await settledLines(read)).slice(before);
}

describe('squid ssl-bump, the fake intercepting proxy and Go 1.19', () => {
  it('gives Go the same outcome through squid and the fake, and the fake logs what squid logs', async () => {
    const cases: Array<[string, () => number, boolean, string]> = [
      ['root not trusted', () => fleet.port, false, 'x509: certificate signed by unknown authority'],
      ['root trusted', () => fleet.port, true, '200'],
      ['server the proxy cannot verify', () => es.port, true, '503'],
      ['server that wants a client certificate (TLS 1.2)', () => mutual.port, true, '503'],
    ];
    for (const [name, port, trust, expected] of cases) {
      const real = await squidLines(async () => {
        const outcome = await through(squid.port, port(), trust);
        expect({ name, go: outcome.go, fake: outcome.fake }).toEqual({ name, go: expected, fake: expected });
      });
      const ours = await fakeLines(async () => {
        const outcome = await through(fake.port, port(), trust);
        expect({ name, go: outcome.go, fake: outcome.fake }).toEqual({ name, go: expected, fake: expected });
      });
      expect({ name, lines: shape(ours) }).toEqual({ name, lines: shape(real) });
    }
  });

  it('denies CONNECT to a port its rules refuse only after bumping it: a 403 over TLS, with squid\'s lines, and the host alone minted', async () => {
    await using strict = await startInterceptingProxy({ root, connectPorts: [fleet.port], resolve: (_host, port) => ({ host: '127.0.0.1', port }) });
    let fromSquid: GoExchange | undefined;
    const real = await squidLines(async () => {
      const outcome = await through(squid.port, denied, true);
      expect([outcome.go, outcome.fake, outcome.exchange.response?.headers['x-squid-error']]).toEqual(['403', '403', 'ERR_ACCESS_DENIED 0']);
      fromSquid = outcome.exchange;
    });
    const read = () => strict.log.entries.map((e) => e.message);
    const outcome = await through(strict.port, denied, true);
    expect([outcome.go, outcome.fake, outcome.exchange.response?.headers['x-squid-error']]).toEqual(['403', '403', 'ERR_ACCESS_DENIED 0']);
    const leaf = (exchange: GoExchange | undefined) => ({ subject: exchange?.connection.serverChain[0]?.subject, dns: exchange?.connection.serverChain[0]?.dnsNames });
    expect(leaf(outcome.exchange)).toEqual(leaf(fromSquid));
    const ours = await settledLines(read);
    expect(shape(ours)).toEqual(shape(real));
    expect(shape(real)).toEqual([
      'T 127.0.0.1 NONE_NONE/403 B GET https://localhost:PORT/api/status - HIER_NONE/- text/html',
      'T 127.0.0.1 NONE_NONE/403 B GET https://localhost:PORT/api/status - HIER_NONE/- text/html',
      'T 127.0.0.1 TCP_DENIED/200 B CONNECT localhost:PORT - HIER_NONE/- -',
      'T 127.0.0.1 TCP_DENIED/200 B CONNECT localhost:PORT - HIER_NONE/- -',
    ]);
  });

  it('leaves the client waiting for its own timeout when a TLS 1.3 server refuses the proxy after its handshake, and logs the transaction when the client gives up', async () => {
    const waited = 'context deadline exceeded (Client.Timeout exceeded while awaiting headers)';
    const url = `https://localhost:${mutual13.port}/api/status`;
    // squid 5.7 leaves Go waiting most times (32 of 37 Go runs while this was written); now and then it closes at once (Go:
    // EOF), a race inside squid. The fake does what squid does most: up to four tries find that.
    let real: string[] = [];
    for (let attempt = 0, outcome = ''; attempt < 4 && outcome !== waited; attempt++) {
      real = await squidLines(async () => {
        const [go] = await goClient(binary, [{ url, cas: [rootFile], proxy: `http://127.0.0.1:${squid.port}`, timeoutMs: 1_500 }]);
        outcome = go!.unwrapped ?? String(go!.status);
        expect(['EOF', waited]).toContain(outcome);
      });
      if (attempt === 3) expect(outcome).toBe(waited);
    }
    const ours = await fakeLines(async () => {
      const outcome = await through(fake.port, mutual13.port, true, 1_500);
      expect({ go: outcome.go, fake: outcome.fake }).toEqual({ go: waited, fake: waited });
    });
    expect(shape(real)).toEqual([
      'T 127.0.0.1 NONE_NONE/000 B - error:transaction-end-before-headers - HIER_NONE/- -',
      'T 127.0.0.1 NONE_NONE/200 B CONNECT localhost:PORT - HIER_DIRECT/127.0.0.1 -',
    ]);
    expect(shape(ours)).toEqual(shape([...real, ...real]));
  });

  it('mints what squid mints: Fleet Server\'s subject and names issued by the proxy root, or the host alone when the server failed', async () => {
    for (const port of [fleet.port, es.port]) {
      const [real, ours] = await Promise.all([through(squid.port, port, true), through(fake.port, port, true)]);
      const summary = (exchange: GoExchange) => {
        const leaf = exchange.connection.serverChain[0]!;
        return { subject: leaf.subject, issuer: leaf.issuer, dns: leaf.dnsNames, ips: leaf.ipAddresses, notAfter: leaf.notAfter.getTime() };
      };
      const fromSquid = summary(real.exchange);
      expect(fromSquid.issuer).toBe('CN=Example Corp TLS Inspection CA,O=fleet-tls-harness');
      // squid stamps its own validity on a certificate it did not mimic.
      expect({ ...summary(ours.exchange), notAfter: 0 }).toEqual({ ...fromSquid, notAfter: 0 });
      if (port === fleet.port) expect(summary(ours.exchange).notAfter).toBe(fromSquid.notAfter);
    }
  });

  it('shows Fleet Server the same refusal for squid\'s handshake and the fake\'s: no client certificate', async () => {
    const refusals = () => mutual.log.find("tls: client didn't provide a certificate").length;
    const before = refusals();
    await through(squid.port, mutual.port, true);
    const afterSquid = await settledLines(() => mutual.log.find("tls: client didn't provide a certificate").map((e) => e.message));
    expect(afterSquid.length - before).toBeGreaterThanOrEqual(1);
    await through(fake.port, mutual.port, true);
    const afterFake = await settledLines(() => mutual.log.find("tls: client didn't provide a certificate").map((e) => e.message));
    expect(afterFake.length).toBe(afterSquid.length + (afterSquid.length - before));
    expect(refusals()).toBe(afterFake.length);
  });
});
