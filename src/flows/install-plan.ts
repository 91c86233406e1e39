/**
 * An install command of Elastic's page read into a plan: every flag checked, every file loaded,
 * before any component starts (a refused command writes and starts nothing). The proxies' flags
 * are read in plan-proxies.ts, the fake Elasticsearch's Java-read files in plan-elasticsearch.ts.
 * (Over 250 lines: planInstall checks the flags in the order the real install does, so the first
 * refusal is the one the real command gives.)
 */
import path from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { HarnessError, systemErrorCode } from '../errors.js';
import { checkServiceToken } from '../tokens.js';
import type { GoClientTls } from '../components/go-client.js';
import { loadCertificateAuthorities, loadIdentity, MaterialError, type Identity } from '../tls/material.js';
import { DEFAULT_VERSIONS, only, parseClientAuthentication, parseTlsVersion, type ClientAuthentication, type VersionRange } from '../tls/settings.js';
import { newServiceToken } from '../components/elasticsearch-api.js';
import type { Cert } from '../x509/certificate.js';
import type { Pki } from '../pki/store.js';
import type { ParsedFlags } from './install-flags.js';
import type { PlannedHealthCheck } from './health-check-flow.js';
import { planPolicy, type PlannedPolicy } from './policy-flags.js';
import { AGENT_PAIR, FLEET_ES_PAIR, FLEET_PAIR, flagError, oneOf, safeUrl, usage, withFlag } from './plan-read.js';
import { elasticsearchMaterial } from './plan-elasticsearch.js';
import { planHealthCheck, planIntercept, planProxy, planSecureProxy, type PlannedProxy, type PlannedSecureProxy } from './plan-proxies.js';

export type { FlagReader } from './plan-read.js';
export type { PlannedIntercept, PlannedProxy, PlannedSecureProxy } from './plan-proxies.js';
export { elasticsearchMaterial } from './plan-elasticsearch.js';

export interface InstallPlan {
  readonly url: string;
  readonly agent: {
    readonly tls: GoClientTls;
    /** The agent's own certificate could not be loaded: it fails as the real agent would (libs' lines, then the error). */
    readonly loadError?: string;
    /** What libs logs while loading the agent's certificate (the legacy-key deprecation). */
    readonly warnings?: readonly string[];
    readonly enrollmentToken?: string;
    /** --proxy-url and friends; `bypassed` while the agent bootstraps its own Fleet Server. */
    readonly proxy?: PlannedProxy;
    /** --fleet-server-es: the agent runs Fleet Server itself (it takes no Fleet Server hosts from its policy). */
    readonly runsFleetServer: boolean;
  };
  /** The --policy-* flags: what the policy says once it takes over (default: what enrollment used). */
  readonly policy: PlannedPolicy;
  readonly fleetServer: {
    readonly host: string;
    readonly port: number;
    readonly identity: Identity;
    /** libs could not load the given pair: Fleet Server fails with this once bootstrapped. */
    readonly certificateError?: string;
    /** What libs logged on its way to `certificateError`. */
    readonly certificateLogs?: readonly string[];
    readonly selfSigned: boolean;
    /** false with --fleet-server-insecure-http. */
    readonly tls: boolean;
    readonly certificateAuthorities: readonly Cert[];
    readonly clientAuthentication: ClientAuthentication;
    readonly elasticsearchUrl: string;
    readonly elasticsearchTls: GoClientTls;
    readonly serviceToken: string;
    readonly policyId?: string;
    /** --secure-proxy: agents reach Fleet Server through it. */
    readonly secureProxy?: PlannedSecureProxy;
  };
  readonly elasticsearch: {
    readonly port: number;
    readonly identity: Identity;
    readonly clientCertificateAuthorities: readonly Cert[];
    readonly clientAuthentication: ClientAuthentication;
  };
  readonly versions: VersionRange;
  /** --health-check: a load balancer's probes of Fleet Server. */
  readonly healthCheck?: PlannedHealthCheck;
  /** What the harness read differently from a real host (placeholders, ignored flags). */
  readonly notes: readonly string[];
  /** One-line advice about the command itself (the page's repeated flag). */
  readonly hints: readonly string[];
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/**
 * Reads the files a command names and checks it as the agent's `validateEnrollFlags` does.
 * Bad input is a HarnessError (exit 2); the one exception is the page's repeated
 * `--elastic-agent-cert-key`, which is run as the agent runs it, so it fails as it does.
 */
export interface PlanContext {
  readonly pki: Pki;
  /** The certificate Fleet Server gets without --fleet-server-cert (the agent makes a self-signed one). */
  readonly makeSelfSigned: () => Identity;
  /** A directory whose `<name>.crt` / `<name>.key` win over the PKI's for `/path/to/<name>` (scenario certificates). */
  readonly extraDir?: string;
  /**
   * A catalog scenario reproduces the agent failing on its own certificate, key or CA file, or
   * Fleet Server on its certificate or key: such an error becomes the component's failure
   * instead of the harness's bad input.
   */
  readonly agentKeyErrorsAreFailures?: boolean;
}

export function planInstall(flags: ParsedFlags, context: PlanContext): InstallPlan {
  const { pki, makeSelfSigned } = context;
  const v = flags.values;
  const notes: string[] = flags.inert.length ? [`accepted but not emulated: ${flags.inert.join(', ')}`] : [];
  const hints: string[] = [];
  const str = (name: string) => (typeof v[name] === 'string' ? (v[name] as string) : undefined);
  const file = (name: string) => {
    const value = str(name);
    return value === undefined ? undefined : placeholder(value, context, notes);
  };
  const list = (name: string) => str(name)?.split(',').filter(Boolean).map((p) => placeholder(p, context, notes));

  const url = str('url');
  if (!url) throw usage('--url is required: the URL the agent enrolls through (e.g. https://localhost:8220)');
  const parsedUrl = safeUrl(url, '--url');
  if (parsedUrl.protocol === 'http:' && !v.insecure) {
    throw usage('connection to fleet-server is insecure, strongly recommended to use a secure connection (override with --insecure)');
  }
  for (const name of ['certificate-authorities', 'elastic-agent-cert', 'elastic-agent-cert-key', 'elastic-agent-cert-key-passphrase', 'fleet-server-cert-key-passphrase']) {
    const value = file(name);
    if (value !== undefined && !path.isAbsolute(value)) throw usage(`--${name} must be provided as an absolute path`);
  }
  if (str('elastic-agent-cert-key-passphrase') && !(str('elastic-agent-cert') && str('elastic-agent-cert-key'))) {
    throw usage('--elastic-agent-cert and --elastic-agent-cert-key must be provided when using --elastic-agent-cert-key-passphrase');
  }
  if (str('fleet-server-cert') && !str('fleet-server-cert-key')) throw usage('certificate private key is required when certificate provided');
  if (!str('fleet-server-cert') && str('fleet-server-cert-key')) throw usage('certificate is required when certificate private key is provided');
  if (str('fleet-server-service-token') && str('fleet-server-service-token-path')) {
    throw usage('--fleet-server-service-token and --fleet-server-service-token-path are mutually exclusive');
  }
  const clientAuthentication = oneOf(() => parseClientAuthentication(str('fleet-server-client-auth') ?? 'none'),
    '--fleet-server-client-auth must be one of [none, optional, required]');
  const esClientAuthentication = oneOf(() => parseClientAuthentication(str('es-client-auth') ?? 'optional'),
    '--es-client-auth must be one of [none, optional, required]');
  const tls = str('tls') ?? 'both';
  const versions = tls === 'both' ? DEFAULT_VERSIONS : only(oneOf(() => parseTlsVersion(tls), '--tls must be one of 1.2, 1.3, both'));

  // The agent's side.
  const cas = list('certificate-authorities');
  let loadError: string | undefined;
  let agentCas: Cert[] | undefined;
  try {
    agentCas = cas ? loadCertificateAuthorities(cas) : undefined;
  } catch (error) {
    if (!(error instanceof MaterialError) || !context.agentKeyErrorsAreFailures) throw flagError(error, '--certificate-authorities');
    // The fleet client's transport cannot be made: the agent logs libs' line and stops (enroll.go, "Error").
    loadError = [...error.logs, `Error: ${error.libsMessage}`].join('\n');
  }
  let agentIdentity: Identity | undefined;
  const repeatedKey = flags.repeated['elastic-agent-cert-key'];
  if (repeatedKey) {
    hints.push(`--elastic-agent-cert-key was given ${repeatedKey.length} times and the last value wins (${repeatedKey.at(-1)}); ` +
      'Elastic\'s page repeats it where it means --elastic-agent-cert-key-passphrase');
  }
  const agentCert = file('elastic-agent-cert');
  const agentKey = file('elastic-agent-cert-key');
  if (agentCert && agentKey && !loadError) {
    try {
      agentIdentity = loadIdentity(agentCert, agentKey, file('elastic-agent-cert-key-passphrase'));
    } catch (error) {
      if (!(error instanceof MaterialError) || !(repeatedKey || context.agentKeyErrorsAreFailures)) throw flagError(error, AGENT_PAIR);
      // libs logs on its way (Dropping ..., Failed loading ...); the agent then wraps its error once with "Error".
      loadError = [...error.logs, `Error: ${error.libsMessage}`].join('\n');
    }
  }
  const caSha256 = str('ca-sha256')?.split(',').filter(Boolean);
  const agentTls: GoClientTls = {
    verificationMode: v.insecure ? 'none' : 'full',
    ...(agentCas ? { certificateAuthorities: agentCas } : {}),
    ...(agentIdentity ? { certificate: agentIdentity } : {}),
    ...(caSha256 ? { caSha256 } : {}),
    versions: DEFAULT_VERSIONS,
  };

  // Fleet Server's side.
  const fleetCert = file('fleet-server-cert');
  const selfSigned = !fleetCert;
  let fleetCertificateError: string | undefined;
  let fleetCertificateLogs: readonly string[] | undefined;
  const fleetIdentity = fleetCert
    ? withFlag(FLEET_PAIR, () => {
      try {
        return loadIdentity(fleetCert, file('fleet-server-cert-key')!, file('fleet-server-cert-key-passphrase'));
      } catch (error) {
        // Two good files that do not belong together are no bad input: Fleet Server starts,
        // bootstraps, then fails on them in Go's words (the flow fails, exit 1).
        if (!(error instanceof MaterialError) || (error.code !== 'FTH_KEY_MISMATCH' && !context.agentKeyErrorsAreFailures)) throw error;
        fleetCertificateError = error.libsMessage;
        if (error.logs.length) fleetCertificateLogs = error.logs;
        return makeSelfSigned();
      }
    })
    : makeSelfSigned();
  if (selfSigned) notes.push('no --fleet-server-cert: Fleet Server uses a self-signed certificate for this host, as the agent generates one');
  const esUrlFlag = str('fleet-server-es');
  const elasticsearchUrl = esUrlFlag ?? 'https://localhost:9200';
  const esUrl = safeUrl(elasticsearchUrl, '--fleet-server-es');
  if (esUrl.protocol !== 'https:' && esUrl.protocol !== 'http:') throw usage('invalid connection string: scheme must be http or https');
  const tokenPath = file('fleet-server-service-token-path');
  // An empty --fleet-server-service-token counts as absent, as in the agent.
  const tokenFlag = str('fleet-server-service-token');
  const serviceToken = (tokenFlag ? checkServiceToken(tokenFlag, '--fleet-server-service-token') : undefined) || (tokenPath ? readToken(tokenPath) : undefined);
  if (esUrlFlag && !serviceToken) throw usage('invalid connection string: must include a service token');
  const esCa = file('fleet-server-es-ca');
  const esClientCert = file('fleet-server-es-cert');
  const esClientKey = file('fleet-server-es-cert-key');
  if (Boolean(esClientCert) !== Boolean(esClientKey)) throw usage('--fleet-server-es-cert and --fleet-server-es-cert-key go together');
  const fingerprint = str('fleet-server-es-ca-trusted-fingerprint');
  const elasticsearchTls: GoClientTls = {
    verificationMode: v['fleet-server-es-insecure'] ? 'none' : 'full',
    ...(esCa ? { certificateAuthorities: withFlag('--fleet-server-es-ca', () => loadCertificateAuthorities([esCa])) } : {}),
    ...(esClientCert && esClientKey ? { certificate: withFlag(FLEET_ES_PAIR, () => loadIdentity(esClientCert, esClientKey)) } : {}),
    ...(fingerprint ? { caTrustedFingerprint: fingerprint } : {}),
    versions: DEFAULT_VERSIONS,
  };
  if (!esUrlFlag) notes.push('no --fleet-server-es: the agent enrolls into a Fleet Server the harness sets up from --certs');

  const es = elasticsearchMaterial({ str, file, list }, pki);
  const planned = planProxy(flags, Boolean(esUrlFlag), notes, planIntercept({ str, file, list }, flags));
  const proxyCert = file('proxy-cert');
  const proxyKey = file('proxy-cert-key');
  if (Boolean(proxyCert) !== Boolean(proxyKey)) throw usage('--proxy-cert and --proxy-cert-key go together');
  const proxy = planned && proxyCert && proxyKey
    ? { ...planned, identity: withFlag({ certificate: '--proxy-cert', key: '--proxy-cert-key' }, () => loadIdentity(proxyCert, proxyKey)) }
    : planned;
  const secureProxy = planSecureProxy({ str, file, list }, v['secure-proxy'] === true, pki);
  const healthCheck = planHealthCheck(str);
  const port = Number(str('fleet-server-port') ?? 8220);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw usage(`--fleet-server-port: '${str('fleet-server-port')}' is not a port number`);
  return {
    url,
    agent: {
      tls: agentTls,
      ...(loadError ? { loadError } : {}),
      ...(agentIdentity?.warnings ? { warnings: agentIdentity.warnings } : {}),
      ...(str('enrollment-token') ? { enrollmentToken: str('enrollment-token')! } : {}),
      ...(proxy ? { proxy } : {}),
      runsFleetServer: Boolean(esUrlFlag),
    },
    policy: planPolicy(flags, { str, list }, url, notes),
    fleetServer: {
      host: str('fleet-server-host') ?? '127.0.0.1',
      port,
      identity: fleetIdentity,
      ...(fleetCertificateError ? { certificateError: fleetCertificateError } : {}),
      ...(fleetCertificateLogs ? { certificateLogs: fleetCertificateLogs } : {}),
      selfSigned,
      tls: !v['fleet-server-insecure-http'],
      certificateAuthorities: agentCas ?? [],
      clientAuthentication,
      elasticsearchUrl,
      elasticsearchTls,
      serviceToken: serviceToken ?? newServiceToken(),
      ...(str('fleet-server-policy') ? { policyId: str('fleet-server-policy')! } : {}),
      ...(secureProxy ? { secureProxy } : {}),
    },
    elasticsearch: {
      // A loopback URL names the port to listen on; any other host is mapped to a free local port.
      port: LOOPBACK.has(esUrl.hostname) && esUrlFlag ? Number(esUrl.port || 443) : 0,
      identity: es.identity,
      clientCertificateAuthorities: es.clientCertificateAuthorities,
      clientAuthentication: esClientAuthentication,
    },
    versions,
    ...(healthCheck ? { healthCheck } : {}),
    notes,
    hints,
  };
}

/**
 * Elastic's page writes `/path/to/<name>`: the harness reads `<name>.crt`, `<name-without-key>.key`
 * or the passphrase file from the scenario's directory, then from the PKI directory.
 */
export function placeholder(value: string, context: Pick<PlanContext, 'pki' | 'extraDir'>, notes: string[] = []): string {
  const match = /^\/path\/to\/([\w.-]+)$/.exec(value);
  if (!match) return value;
  const name = match[1]!;
  const exact = context.extraDir ? path.join(context.extraDir, name) : undefined;
  if (exact && existsSync(exact)) return exact;
  const file = name.endsWith('-key-passphrase') ? name : name.endsWith('-key') ? `${name.slice(0, -4)}.key` : `${name}.crt`;
  const extra = context.extraDir ? path.join(context.extraDir, file) : undefined;
  const mapped = extra && existsSync(extra) ? extra : path.join(context.pki.dir, file);
  const note = `${value} read as ${path.relative(process.cwd(), mapped) || mapped}`;
  if (!notes.includes(note)) notes.push(note);
  return mapped;
}

function readToken(file: string): string {
  try {
    // The trailing newline an editor or `echo` leaves is not part of the token; any other is.
    return checkServiceToken(readFileSync(file, 'latin1').trim(), `--fleet-server-service-token-path ${file}`, 'FTH_FILE_MALFORMED');
  } catch (error) {
    if (error instanceof HarnessError) throw error;
    const reason = systemErrorCode(error) === 'ENOENT' ? 'no such file or directory' : (error as Error).message;
    throw new HarnessError('FTH_FILE_UNREADABLE', `--fleet-server-service-token-path ${file}: ${reason}`);
  }
}

