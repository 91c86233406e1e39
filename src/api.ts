import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { enrollAgent as enroll, type EnrollResult } from './components/agent.js';
import { FakeForwardProxy, type ForwardProxyOptions } from './components/proxy/forward-proxy.js';
import { FakeSocksProxy, type SocksProxyOptions } from './components/proxy/socks-proxy.js';
import type { ProxySettings } from './components/proxy/proxy-url.js';
import type { ComponentLog } from './components/log.js';
import { FakeElasticsearch } from './components/elasticsearch.js';
import { FakeFleetServer } from './components/fleet-server.js';
import { newServiceToken } from './components/elasticsearch-api.js';
import type { KeyType } from './pki/keys.js';
import type { CaName, LeafName } from './pki/profiles.js';
import { ensurePki, type Pki } from './pki/store.js';
import { BUILTIN_HARNESS, findScenarios, loadCatalog } from './scenarios/catalog.js';
import { runScenarios, type ScenarioResult } from './scenarios/run.js';
import { identityFromPem, type Identity } from './tls/material.js';
import { DEFAULT_VERSIONS, only, type ClientAuthentication, type TlsVersion, type VerificationMode } from './tls/settings.js';
import { parsePemCertificates, type Cert } from './x509/certificate.js';

/**
 * The PKI of Elastic's page, on disk: in `dir` (reused when valid), or in a fresh temporary
 * directory. Keys are written mode 0600.
 */
export async function createPki(options: { dir?: string; keyType?: KeyType; force?: boolean } = {}): Promise<Pki> {
  const dir = options.dir ?? (await mkdtemp(path.join(tmpdir(), 'fleet-tls-pki-')));
  const { pki } = await ensurePki({ dir, ...(options.keyType ? { keyType: options.keyType } : {}), ...(options.force ? { force: true } : {}) });
  return pki;
}

/** A leaf of the PKI as a certificate chain with its (decrypted) key. */
export function identity(pki: Pki, name: LeafName): Identity {
  return identityFromPem(pki.leaves[name].pem, pki.leaves[name].key);
}

/** CA certificates of the PKI, by name. */
export function authorities(pki: Pki, ...names: CaName[]): Cert[] {
  return names.flatMap((name) => parsePemCertificates(pki.cas[name].pem));
}

export interface StartElasticsearchOptions {
  readonly pki: Pki;
  readonly host?: string;
  /** Default 0: a free port. */
  readonly port?: number;
  /** Default none, Elasticsearch's own default for HTTP. */
  readonly clientAuthentication?: ClientAuthentication;
  /** Restrict to one TLS version. */
  readonly tls?: TlsVersion;
  readonly serviceToken?: string;
}

/** A fake Elasticsearch presenting es-cert and trusting es-ca for client certificates. */
export function startElasticsearch(options: StartElasticsearchOptions): Promise<FakeElasticsearch> {
  return FakeElasticsearch.start({
    identity: identity(options.pki, 'es-cert'),
    clientCertificateAuthorities: authorities(options.pki, 'es-ca'),
    clientAuthentication: options.clientAuthentication ?? 'none',
    versions: options.tls ? only(options.tls) : DEFAULT_VERSIONS,
    serviceToken: options.serviceToken ?? newServiceToken(),
    ...(options.host ? { host: options.host } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
  });
}

export interface StartFleetServerOptions {
  readonly pki: Pki;
  readonly elasticsearch: FakeElasticsearch | { readonly url: string; readonly serviceToken: string };
  readonly host?: string;
  /** Default 0: a free port. */
  readonly port?: number;
  /** Default none. Client certificates are checked against fleet-ca and agent-ca, as on the page. */
  readonly clientAuthentication?: ClientAuthentication;
  readonly tls?: TlsVersion;
  /** Whether Fleet Server trusts es-ca for Elasticsearch (default true). */
  readonly trustElasticsearch?: boolean;
  /** Whether Fleet Server presents fleet-es-cert to Elasticsearch when asked (default true). */
  readonly presentClientCertificate?: boolean;
}

/** A fake Fleet Server presenting fleet-cert; it bootstraps against `elasticsearch` before resolving. */
export function startFleetServer(options: StartFleetServerOptions): Promise<FakeFleetServer> {
  const { pki } = options;
  return FakeFleetServer.start({
    identity: identity(pki, 'fleet-cert'),
    port: options.port ?? 0,
    certificateAuthorities: authorities(pki, 'fleet-ca', 'agent-ca'),
    clientAuthentication: options.clientAuthentication ?? 'none',
    versions: options.tls ? only(options.tls) : DEFAULT_VERSIONS,
    elasticsearch: {
      url: options.elasticsearch.url,
      serviceToken: options.elasticsearch.serviceToken,
      ...(options.elasticsearch instanceof FakeElasticsearch ? { connectTo: options.elasticsearch.endpoint } : {}),
      tls: {
        ...(options.trustElasticsearch === false ? {} : { certificateAuthorities: authorities(pki, 'es-ca') }),
        ...(options.presentClientCertificate === false ? {} : { certificate: identity(pki, 'fleet-es-cert') }),
      },
    },
    ...(options.host ? { host: options.host } : {}),
  });
}

export interface EnrollOptions {
  readonly pki: Pki;
  readonly fleetServer: FakeFleetServer;
  /** CAs the agent trusts (default fleet-ca); an empty list means the system roots. */
  readonly certificateAuthorities?: readonly CaName[];
  /** Present agent-cert (default) or none. */
  readonly clientCertificate?: boolean;
  readonly verificationMode?: VerificationMode;
  /** The URL the agent uses (default the Fleet Server's), routed to it whatever the host. */
  readonly url?: string;
  /**
   * --proxy-url / --proxy-header / --proxy-disabled. A fake proxy (`startForwardProxy`,
   * `startSocksProxy`) puts its own lines into the agent → proxy leg.
   */
  readonly proxy?: ProxySettings & { readonly fake?: { readonly log: ComponentLog } };
}

/** Enrolls a fake agent into `fleetServer` and checks in once; the result carries the leg. */
export function enrollAgent(options: EnrollOptions): Promise<EnrollResult> {
  const cas = options.certificateAuthorities ?? ['fleet-ca'];
  return enroll({
    url: options.url ?? options.fleetServer.url,
    connectTo: options.fleetServer.endpoint,
    enrollmentToken: options.fleetServer.enrollmentToken ?? '',
    fleetServer: options.fleetServer,
    tls: {
      ...(cas.length ? { certificateAuthorities: authorities(options.pki, ...cas) } : {}),
      ...(options.clientCertificate === false ? {} : { certificate: identity(options.pki, 'agent-cert') }),
      verificationMode: options.verificationMode ?? 'full',
    },
    ...(options.proxy ? { proxy: options.proxy, ...(options.proxy.fake ? { proxyFake: { log: options.proxy.fake.log } } : {}) } : {}),
  });
}

/** A forward proxy (HTTP CONNECT, optionally over TLS) that answers and logs as tinyproxy; `await using` closes it. */
export function startForwardProxy(options: ForwardProxyOptions = {}): Promise<FakeForwardProxy> {
  return FakeForwardProxy.start(options);
}

/** A SOCKS5 proxy that answers and logs as dante; `await using` closes it. */
export function startSocksProxy(options: SocksProxyOptions = {}): Promise<FakeSocksProxy> {
  return FakeSocksProxy.start(options);
}

/** Runs one catalog scenario (or several) under the given TLS versions. */
export async function runScenario(ids: string | readonly string[], options: { pki: Pki; tls?: readonly TlsVersion[]; catalog?: readonly string[] }): Promise<ScenarioResult[]> {
  const catalog = loadCatalog([BUILTIN_HARNESS, ...(options.catalog ?? [])]);
  return runScenarios(catalog, findScenarios(catalog, typeof ids === 'string' ? [ids] : ids), options.pki, options.tls ? { versions: options.tls } : {});
}
