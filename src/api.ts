/**
 * The library's public functions, each with its options and TSDoc: this file is the source of the
 * API reference (docs/api), and validates every option before anything starts.
 * (Over 250 lines: the reference reads in the order of this file, fakes first, then proxies and runs.)
 */
import { enrollAgent as enroll, type EnrollResult } from './components/agent.js';
import { FakeForwardProxy, type ForwardProxyOptions } from './components/proxy/forward-proxy.js';
import { FakeInterceptingProxy, type InterceptingProxyOptions } from './components/proxy/intercepting-proxy.js';
import { FakeSocksProxy, type SocksProxyOptions } from './components/proxy/socks-proxy.js';
import type { ProxySettings } from './components/proxy/proxy-url.js';
import type { ComponentLog } from './components/log.js';
import { FakeElasticsearch } from './components/elasticsearch.js';
import { FakeFleetServer } from './components/fleet-server.js';
import { newServiceToken } from './components/elasticsearch-api.js';
import { autoConfiguredChain } from './components/elasticsearch/chain.js';
import type { KeyType } from './pki/keys.js';
import type { CaName, LeafName } from './pki/profiles.js';
import { ensurePki, type Pki } from './pki/store.js';
import { makeTempDir } from './temp-dirs.js';
import { BUILTIN_HARNESS, findScenarios, loadCatalog } from './scenarios/catalog.js';
import { runScenarios, type ScenarioResult } from './scenarios/run.js';
import { identityFromPem, type Identity } from './tls/material.js';
import { DEFAULT_VERSIONS, only, type ClientAuthentication, type TlsVersion, type VerificationMode } from './tls/settings.js';
import { parsePemCertificates, type Cert } from './x509/certificate.js';
import { HarnessError } from './errors.js';
import { ALLOWED, OptionReader, shown } from './api-validate.js';

/**
 * A PKI that can be disposed of: `await using pki = await createPki()`, or `await pki.remove()`.
 * Removing deletes the temporary directory createPki made (never a `dir` the caller gave).
 */
export interface DisposablePki extends Pki, AsyncDisposable {
  /** Deletes the temporary directory createPki made, keys included; nothing when you gave `dir`. */
  remove(): Promise<void>;
}

/** Where and how {@link createPki} makes the PKI. */
export interface CreatePkiOptions {
  /** A directory to reuse (when its files are valid and the harness wrote them) or fill; default a fresh temporary directory. */
  readonly dir?: string;
  /** Key algorithm of every CA and leaf (default RSA). */
  readonly keyType?: KeyType;
  /** Regenerate every file the harness owns in `dir`, even valid ones. */
  readonly force?: boolean;
}

/**
 * The PKI of Elastic's page (fleet-ca, agent-ca, es-ca and their four leaves), on disk: in `dir`
 * (reused when valid), or in a fresh temporary directory (0700) that `remove()`, `await using` scope
 * exit and process exit (SIGINT and SIGTERM included) remove. Keys are written mode 0600; the
 * agent's key is encrypted, with its passphrase in `agent-cert-key-passphrase`.
 *
 * @example
 * ```ts
 * await using pki = await createPki();
 * console.log(pki.dir, pki.leaves['fleet-cert'].certPath);
 * ```
 */
export async function createPki(options: CreatePkiOptions = {}): Promise<DisposablePki> {
  const read = OptionReader.of('createPki', options);
  read.string('dir');
  read.oneOf('keyType', ALLOWED.keyType);
  read.boolean('force');
  const temp = options.dir === undefined ? await makeTempDir('pki') : undefined;
  const dir = options.dir ?? temp!.dir;
  let pki: Pki;
  try {
    ({ pki } = await ensurePki({ dir, ...(options.keyType ? { keyType: options.keyType } : {}), ...(options.force ? { force: true } : {}) }));
  } catch (error) {
    await temp?.remove();
    throw error;
  }
  const remove = async () => { await temp?.remove(); };
  return { ...pki, remove, [Symbol.asyncDispose]: remove };
}

/**
 * A leaf of the PKI as a certificate chain with its (decrypted) key, for the fakes' `identity` options.
 *
 * @example
 * ```ts
 * await using es = await FakeElasticsearch.start({ identity: identity(pki, 'es-cert') });
 * ```
 */
export function identity(pki: Pki, name: LeafName): Identity {
  OptionReader.of('identity', { pki }).pki();
  if (!(ALLOWED.leaf as readonly unknown[]).includes(name)) {
    throw new HarnessError('FTH_OPTION_INVALID', `identity: the leaf name must be one of ${ALLOWED.leaf.map((n) => `'${n}'`).join(', ')}, got ${shown(name)}`);
  }
  return identityFromPem(pki.leaves[name].pem, pki.leaves[name].key);
}

/**
 * CA certificates of the PKI, by name, for the fakes' trust options.
 *
 * @example
 * ```ts
 * authorities(pki, 'fleet-ca', 'agent-ca'); // what Fleet Server trusts for client certificates on the page
 * ```
 */
export function authorities(pki: Pki, ...names: CaName[]): Cert[] {
  OptionReader.of('authorities', { pki }).pki();
  const unknown = names.find((name) => !(ALLOWED.ca as readonly unknown[]).includes(name));
  if (unknown !== undefined || names.length === 0) {
    throw new HarnessError('FTH_OPTION_INVALID', `authorities: each CA name must be one of ${ALLOWED.ca.map((n) => `'${n}'`).join(', ')}, got ${names.length === 0 ? 'none' : shown(unknown)}`);
  }
  return names.flatMap((name) => parsePemCertificates(pki.cas[name].pem));
}

/** Options of {@link startElasticsearch}: the page's Elasticsearch, with the settings a test varies. */
export interface StartElasticsearchOptions {
  /** The PKI whose es-cert it presents and whose es-ca it trusts for client certificates. */
  readonly pki: Pki;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0: a free port. */
  readonly port?: number;
  /** Default none, Elasticsearch's own default for HTTP. */
  readonly clientAuthentication?: ClientAuthentication;
  /** Restrict to one TLS version. */
  readonly tls?: TlsVersion;
  /** The service token it accepts from Fleet Server (default a fresh one, readable as `es.serviceToken`). */
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
 * A fake Elasticsearch presenting es-cert and trusting es-ca for client certificates. Close it
 * with `await using` or `close()`.
 *
 * @example
 * ```ts
 * await using es = await startElasticsearch({ pki, clientAuthentication: 'required' });
 * es.url; // https://127.0.0.1:PORT
 * ```
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

/** Options of {@link startFleetServer}: the page's Fleet Server, with the settings a test varies. */
export interface StartFleetServerOptions {
  /** The PKI whose fleet-cert it presents, and whose fleet-es-cert and es-ca it uses towards Elasticsearch. */
  readonly pki: Pki;
  /** The Elasticsearch it bootstraps against: a fake, or any URL with the service token to send. */
  readonly elasticsearch: FakeElasticsearch | { readonly url: string; readonly serviceToken: string };
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0: a free port. */
  readonly port?: number;
  /** Default none. Client certificates are checked against fleet-ca and agent-ca, as on the page. */
  readonly clientAuthentication?: ClientAuthentication;
  /** Restrict to one TLS version. */
  readonly tls?: TlsVersion;
  /** Whether Fleet Server trusts es-ca for Elasticsearch (default true). */
  readonly trustElasticsearch?: boolean;
  /** Whether Fleet Server presents fleet-es-cert to Elasticsearch when asked (default true). */
  readonly presentClientCertificate?: boolean;
}

/**
 * A fake Fleet Server presenting fleet-cert; it bootstraps against `elasticsearch` before
 * resolving, and ends HEALTHY or FAILED (with Fleet Server's reason in `stateMessage`).
 *
 * @example
 * ```ts
 * await using fleet = await startFleetServer({ pki, elasticsearch: es, clientAuthentication: 'required' });
 * fleet.state; // 'HEALTHY'
 * ```
 */
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

/** Options of {@link enrollAgent}: the agent's install flags that matter to TLS. */
export interface EnrollOptions {
  /** The PKI whose agent-cert it presents and whose CAs it may trust. */
  readonly pki: Pki;
  /** The Fleet Server to enroll into (its enrollment token is used). */
  readonly fleetServer: FakeFleetServer;
  /** CAs the agent trusts (default fleet-ca); an empty list means the system roots. */
  readonly certificateAuthorities?: readonly CaName[];
  /** Present agent-cert (default) or none. */
  readonly clientCertificate?: boolean;
  /** `ssl.verification_mode` (default full; `--insecure` is none). */
  readonly verificationMode?: VerificationMode;
  /** The URL the agent uses (default the Fleet Server's), routed to it whatever the host. */
  readonly url?: string;
  /**
   * --proxy-url / --proxy-header / --proxy-disabled. A fake proxy (`startForwardProxy`,
   * `startSocksProxy`) puts its own lines into the agent → proxy leg.
   */
  readonly proxy?: ProxySettings & { readonly fake?: { readonly log: ComponentLog } };
}

/**
 * Enrolls a fake agent into `fleetServer` and checks in once; the result carries the leg, and a
 * refused enrollment is data (`ok: false`, who refused, both components' lines), not an exception.
 *
 * @example
 * ```ts
 * const refused = await enrollAgent({ pki, fleetServer: fleet, clientCertificate: false });
 * refused.leg.rejectedBy; // 'server'
 * refused.leg.logs['fleet-server']; // "http: TLS handshake error from …: tls: client didn't provide a certificate"
 * ```
 */
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
    ...(options.proxy ? { proxy: options.proxy, ...(options.proxy.fake ? { proxyFake: { log: options.proxy.fake.log } } : {}) } : {}),
  });
}

/** A forward proxy (HTTP CONNECT, optionally over TLS) that answers and logs as tinyproxy; `await using` closes it. */
export function startForwardProxy(options: ForwardProxyOptions = {}): Promise<FakeForwardProxy> {
  return FakeForwardProxy.start(options);
}

/**
 * A TLS-intercepting proxy (CONNECT, then its own certificate for the host, signed by its root)
 * that answers and logs as squid's ssl-bump; `await using` closes it.
 *
 * @example
 * ```ts
 * await using proxy = await startInterceptingProxy({ upstreamAuthorities: authorities(pki, 'fleet-ca') });
 * proxy.root.pem; // what an agent must add to --certificate-authorities to get through
 * ```
 */
export function startInterceptingProxy(options: InterceptingProxyOptions = {}): Promise<FakeInterceptingProxy> {
  return FakeInterceptingProxy.start(options);
}

/** A SOCKS5 proxy that answers and logs as dante; `await using` closes it. */
export function startSocksProxy(options: SocksProxyOptions = {}): Promise<FakeSocksProxy> {
  return FakeSocksProxy.start(options);
}

/** Options of {@link runScenario}. */
export interface RunScenarioOptions {
  /** The PKI the scenarios' certificates come from (or are issued from). */
  readonly pki: Pki;
  /** TLS versions to run each scenario under (default both, as the scenario allows). */
  readonly tls?: readonly TlsVersion[];
  /** Catalog directories added to the built-in one (their `flows/` and `scenarios/`). */
  readonly catalog?: readonly string[];
}

/**
 * Runs one catalog scenario (or several) under the given TLS versions, as `fleet-tls run ID` does.
 *
 * @example
 * ```ts
 * const [result] = await runScenario('agent-fleet.mutual.agent-has-no-cert', { pki, tls: ['1.3'] });
 * result.pass; // true: every leg behaved as the scenario file expects
 * ```
 */
export async function runScenario(ids: string | readonly string[], options: RunScenarioOptions): Promise<ScenarioResult[]> {
  OptionReader.of('runScenario', { ids }).strings('ids', true);
  const read = OptionReader.of('runScenario', options);
  read.pki();
  read.list('tls', ALLOWED.tls);
  read.strings('catalog');
  const catalog = loadCatalog([BUILTIN_HARNESS, ...(options.catalog ?? [])]);
  return runScenarios(catalog, findScenarios(catalog, typeof ids === 'string' ? [ids] : ids), options.pki, options.tls ? { versions: options.tls } : {});
}
