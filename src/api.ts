import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { enrollAgent as enroll, type EnrollResult } from './components/agent.js';
import { FakeElasticsearch } from './components/elasticsearch.js';
import { FakeFleetServer } from './components/fleet-server.js';
import { newServiceToken } from './components/elasticsearch-api.js';
import { autoConfiguredChain } from './components/elasticsearch/chain.js';
import type { KeyType } from './pki/keys.js';
import type { CaName, LeafName } from './pki/profiles.js';
import { ensurePki, type Pki } from './pki/store.js';
import { BUILTIN_HARNESS, findScenarios, loadCatalog } from './scenarios/catalog.js';
import { runScenarios, type ScenarioResult } from './scenarios/run.js';
import { identityFromPem, type Identity } from './tls/material.js';
import { DEFAULT_VERSIONS, only, type ClientAuthentication, type TlsVersion, type VerificationMode } from './tls/settings.js';
import { parsePemCertificates, type Cert } from './x509/certificate.js';
import { HarnessError } from './errors.js';
import { ALLOWED, OptionReader, shown } from './api-validate.js';

/**
 * The PKI of Elastic's page, on disk: in `dir` (reused when valid), or in a fresh temporary
 * directory. Keys are written mode 0600.
 */
export async function createPki(options: { dir?: string; keyType?: KeyType; force?: boolean } = {}): Promise<Pki> {
  const read = OptionReader.of('createPki', options);
  read.string('dir');
  read.oneOf('keyType', ALLOWED.keyType);
  read.boolean('force');
  const dir = options.dir ?? (await mkdtemp(path.join(tmpdir(), 'fleet-tls-pki-')));
  const { pki } = await ensurePki({ dir, ...(options.keyType ? { keyType: options.keyType } : {}), ...(options.force ? { force: true } : {}) });
  return pki;
}

/** A leaf of the PKI as a certificate chain with its (decrypted) key. */
export function identity(pki: Pki, name: LeafName): Identity {
  OptionReader.of('identity', { pki }).pki();
  if (!(ALLOWED.leaf as readonly unknown[]).includes(name)) {
    throw new HarnessError('FTH_OPTION_INVALID', `identity: the leaf name must be one of ${ALLOWED.leaf.map((n) => `'${n}'`).join(', ')}, got ${shown(name)}`);
  }
  return identityFromPem(pki.leaves[name].pem, pki.leaves[name].key);
}

/** CA certificates of the PKI, by name. */
export function authorities(pki: Pki, ...names: CaName[]): Cert[] {
  OptionReader.of('authorities', { pki }).pki();
  const unknown = names.find((name) => !(ALLOWED.ca as readonly unknown[]).includes(name));
  if (unknown !== undefined || names.length === 0) {
    throw new HarnessError('FTH_OPTION_INVALID', `authorities: each CA name must be one of ${ALLOWED.ca.map((n) => `'${n}'`).join(', ')}, got ${names.length === 0 ? 'none' : shown(unknown)}`);
  }
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
  /** The `elastic` user's password for Basic authentication (default: a new one, in `es.password`). */
  readonly password?: string;
  /** More Basic-authentication users, name to password. */
  readonly users?: Readonly<Record<string, string>>;
  /** What its HTTPS port presents: es-cert with es-ca as auto-configured security does (default), or es-cert alone. */
  readonly chain?: 'with-ca' | 'leaf';
  /** CAs trusted for client certificates (default es-ca). */
  readonly clientCertificateAuthorities?: readonly CaName[];
  /** index.refresh_interval in ms (default 1000); -1: documents become searchable only on a refresh. */
  readonly refreshIntervalMs?: number;
}

/**
 * A fake Elasticsearch presenting es-cert and es-ca (the chain auto-configured security serves,
 * so CA fingerprints work) and trusting es-ca for client certificates.
 */
export async function startElasticsearch(options: StartElasticsearchOptions): Promise<FakeElasticsearch> {
  const read = OptionReader.of('startElasticsearch', options);
  read.pki();
  read.host();
  read.port();
  read.oneOf('clientAuthentication', ALLOWED.clientAuthentication);
  read.oneOf('tls', ALLOWED.tls);
  read.token('serviceToken');
  read.string('password');
  read.oneOf('chain', ['with-ca', 'leaf'] as const);
  read.list('clientCertificateAuthorities', ALLOWED.ca);
  if (options.users !== undefined) read.object('users', 'an object of user names to passwords', (users) => Object.values(users).every((v) => typeof v === 'string' && v !== ''));
  read.integer('refreshIntervalMs', -1);
  const leaf = identity(options.pki, 'es-cert');
  return FakeElasticsearch.start({
    identity: options.chain === 'leaf' ? leaf : autoConfiguredChain(leaf, authorities(options.pki, 'es-ca')[0]!),
    users: { ...options.users, ...(options.password !== undefined ? { elastic: options.password } : {}) },
    ...(options.refreshIntervalMs !== undefined ? { refreshIntervalMs: options.refreshIntervalMs } : {}),
    clientCertificateAuthorities: authorities(options.pki, ...(options.clientCertificateAuthorities ?? ['es-ca'])),
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
export async function startFleetServer(options: StartFleetServerOptions): Promise<FakeFleetServer> {
  const read = OptionReader.of('startFleetServer', options);
  read.pki();
  read.host();
  read.port();
  read.oneOf('clientAuthentication', ALLOWED.clientAuthentication);
  read.oneOf('tls', ALLOWED.tls);
  read.boolean('trustElasticsearch');
  read.boolean('presentClientCertificate');
  read.object('elasticsearch', 'a FakeElasticsearch or { url, serviceToken }', (es) => es instanceof FakeElasticsearch || ('url' in es && 'serviceToken' in es));
  if (options.elasticsearch instanceof FakeElasticsearch) {
    if (options.elasticsearch.closed) throw new HarnessError('FTH_CLOSED', 'startFleetServer: option elasticsearch is a FakeElasticsearch that was closed');
  } else {
    const es = OptionReader.of('startFleetServer', options.elasticsearch);
    es.url('url', true);
    es.token('serviceToken', true);
  }
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
}

/** Enrolls a fake agent into `fleetServer` and checks in once; the result carries the leg. */
export async function enrollAgent(options: EnrollOptions): Promise<EnrollResult> {
  const read = OptionReader.of('enrollAgent', options);
  read.pki();
  read.object('fleetServer', 'a FakeFleetServer from startFleetServer()', (fleet) => fleet instanceof FakeFleetServer);
  if (options.fleetServer.closed) throw new HarnessError('FTH_CLOSED', 'enrollAgent: option fleetServer is a FakeFleetServer that was closed');
  read.list('certificateAuthorities', ALLOWED.ca);
  read.boolean('clientCertificate');
  read.oneOf('verificationMode', ALLOWED.verificationMode);
  read.url('url');
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
  });
}

/** Runs one catalog scenario (or several) under the given TLS versions. */
export async function runScenario(ids: string | readonly string[], options: { pki: Pki; tls?: readonly TlsVersion[]; catalog?: readonly string[] }): Promise<ScenarioResult[]> {
  OptionReader.of('runScenario', { ids }).strings('ids', true);
  const read = OptionReader.of('runScenario', options);
  read.pki();
  read.list('tls', ALLOWED.tls);
  read.strings('catalog');
  const catalog = loadCatalog([BUILTIN_HARNESS, ...(options.catalog ?? [])]);
  return runScenarios(catalog, findScenarios(catalog, typeof ids === 'string' ? [ids] : ids), options.pki, options.tls ? { versions: options.tls } : {});
}
