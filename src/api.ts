import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { enrollAgent as enroll, type EnrollResult } from './components/agent.js';
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
 * (reused when valid), or in a fresh temporary directory. Keys are written mode 0600; the
 * agent's key is encrypted, with its passphrase in `agent-cert-key-passphrase`.
 *
 * @example
 * ```ts
 * const pki = await createPki({ dir: 'certs' });
 * console.log(pki.dir, pki.leaves['fleet-cert'].certPath);
 * ```
 */
export async function createPki(options: CreatePkiOptions = {}): Promise<Pki> {
  const dir = options.dir ?? (await mkdtemp(path.join(tmpdir(), 'fleet-tls-pki-')));
  const { pki } = await ensurePki({ dir, ...(options.keyType ? { keyType: options.keyType } : {}), ...(options.force ? { force: true } : {}) });
  return pki;
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
  });
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
  const catalog = loadCatalog([BUILTIN_HARNESS, ...(options.catalog ?? [])]);
  return runScenarios(catalog, findScenarios(catalog, typeof ids === 'string' ? [ids] : ids), options.pki, options.tls ? { versions: options.tls } : {});
}
