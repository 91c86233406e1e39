import path from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { HarnessError, systemErrorCode } from '../errors.js';
import { checkServiceToken } from '../tokens.js';
import type { GoClientTls } from '../components/go-client.js';
import { loadCertificateAuthorities, loadIdentity, MaterialError, type Identity, type MaterialRole } from '../tls/material.js';
import { loadJavaAuthorities, loadJavaIdentity, loadKeystoreIdentity } from '../tls/java-material.js';
import { DEFAULT_VERSIONS, only, parseClientAuthentication, parseTlsVersion, type ClientAuthentication, type VersionRange } from '../tls/settings.js';
import { newServiceToken } from '../components/elasticsearch-api.js';
import { parsePemCertificates, type Cert } from '../x509/certificate.js';
import { autoConfiguredChain } from '../components/elasticsearch/chain.js';
import type { Pki } from '../pki/store.js';
import type { ParsedFlags } from './install-flags.js';
import { parseProxyHeaders, parseProxyUrl, parseUserPass, urlCredentials, type ProxyRoute, type ProxyScheme } from '../components/proxy/proxy-url.js';
import type { PlannedHealthCheck } from './health-check-flow.js';
import { goDurationMs } from '../dialects/go.js';
import { planPolicy, type PlannedPolicy } from './policy-flags.js';

/** A TLS-terminating proxy in front of Fleet Server or Elasticsearch (--secure-proxy and its harness flags). */
export interface PlannedSecureProxy {
  /** Which component it stands in front of (--secure-proxy-in-front-of, default fleet-server). */
  readonly inFrontOf: 'fleet-server' | 'elasticsearch';
  readonly identity: Identity;
  readonly clientAuthentication: ClientAuthentication;
  readonly clientCertificateAuthorities: readonly Cert[];
  readonly upstreamAuthorities?: readonly Cert[];
  /** proxy_ssl_certificate / proxy_ssl_certificate_key. */
  readonly upstreamCertificate?: Identity;
  /** proxy_ssl_name (default localhost, a name the PKI's server certificates carry). */
  readonly upstreamName?: string;
  /** proxy_pass's scheme when it is not the upstream's own (http to a TLS port, or https to a plain one). */
  readonly upstreamScheme?: 'http' | 'https';
}

/** The agent's --proxy-url, --proxy-header and --proxy-disabled as the install plan read them. */
export interface PlannedProxy {
  readonly route: ProxyRoute;
  readonly disabled: boolean;
  readonly bypassed: boolean;
  /** Credentials the fake proxy demands (--proxy-require-auth, else the URL's). */
  readonly requireAuth?: { readonly username: string; readonly password: string };
  /** --proxy-serves: what really listens at the URL (default: a proxy of its scheme); `none`: nothing. */
  readonly serves?: ProxyScheme | 'none';
  /** --proxy-allow-ports: the only target ports the fake proxy lets a tunnel reach. */
  readonly allowPorts?: readonly number[];
  /** --proxy-cert: what an https fake proxy presents (default: Fleet Server's certificate). */
  readonly identity?: Identity;
  /** --proxy-target-refused: the proxy's own dial to Fleet Server is refused. */
  readonly targetRefused?: boolean;
  /** --proxy-parent-refused: the proxy goes through a parent proxy that refuses its connection. */
  readonly parentRefused?: boolean;
  /** --proxy-intercept: the proxy terminates TLS with certificates it mints (squid ssl-bump). */
  readonly intercept?: PlannedIntercept;
}

/** The intercepting proxy's root, its trust toward Fleet Server and its own client certificate. */
export interface PlannedIntercept {
  /** Absent: the proxy makes a root of its own, which nothing trusts. */
  readonly root?: Identity;
  /** Absent: the system roots. */
  readonly upstreamAuthorities?: readonly Cert[];
  readonly upstreamIdentity?: Identity;
}

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

/** --health-check, --health-check-interval, --health-check-count. */
function planHealthCheck(str: (name: string) => string | undefined): PlannedHealthCheck | undefined {
  const kind = str('health-check');
  if (kind === undefined) {
    const stray = ['health-check-interval', 'health-check-count'].find((name) => str(name) !== undefined);
    if (stray) throw usage(`--${stray} needs --health-check`);
    return undefined;
  }
  if (kind !== 'tcp' && kind !== 'tls' && kind !== 'http') throw usage(`--health-check: '${kind}' is not tcp, tls or http`);
  const interval = str('health-check-interval') ?? '5s';
  const intervalMs = goDurationMs(interval);
  if (intervalMs === undefined || intervalMs > 600_000) throw usage(`--health-check-interval: '${interval}' is not a Go duration up to 10m (5s, 250ms)`);
  const countText = str('health-check-count') ?? '2';
  const count = Number(countText);
  if (!/^\d+$/.test(countText) || count < 1 || count > 100) throw usage(`--health-check-count: '${countText}' is not a number from 1 to 100`);
  return { kind, intervalMs, count };
}

/** How a command's flags are read: values, paths (placeholders resolved) and comma lists of paths. */
export interface FlagReader {
  str(name: string): string | undefined;
  file(name: string): string | undefined;
  list(name: string): string[] | undefined;
}

/**
 * The fake Elasticsearch's certificate and client CAs from the harness's --es-* flags, falling
 * back on --certs; `install` and `serve` read them alike. Files are read as Java does (DER
 * certificates, PKCS#12 keystores), not as libs does.
 */
export function elasticsearchMaterial({ str, file, list }: FlagReader, pki: Pki): { identity: Identity; clientCertificateAuthorities: Cert[] } {
  const esKeystore = file('es-keystore');
  if (esKeystore && (str('es-cert') || str('es-cert-key'))) throw usage('--es-keystore and --es-cert/--es-cert-key are mutually exclusive, as ssl.keystore.path and ssl.certificate are');
  const esCert = file('es-cert') ?? pki.certPath('es-cert');
  const esKey = file('es-cert-key') ?? pki.keyPath('es-cert');
  const esClientCas = list('es-client-ca') ?? [pki.certPath('es-ca')];
  const esIdentity = esKeystore
    ? withFlag('--es-keystore', () => loadKeystoreIdentity(esKeystore, str('es-keystore-password') ?? ''))
    : withFlag(ES_PAIR, () => loadJavaIdentity(esCert, esKey));
  // Without --es-cert, Elasticsearch is as auto-configured security leaves it: es-ca rides in its chain.
  const identity = esKeystore || file('es-cert') ? esIdentity : autoConfiguredChain(esIdentity, parsePemCertificates(pki.cas['es-ca'].pem)[0]!);
  return {
    identity,
    clientCertificateAuthorities: withFlag('--es-client-ca', () => loadJavaAuthorities(esClientCas, str('es-keystore-password') ?? '')),
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

/**
 * --proxy-url, --proxy-header, --proxy-disabled. With --fleet-server-es the agent bootstraps a
 * Fleet Server on this host and enrolls into it without the proxy (elastic-agent's enroll
 * options set Transport.Proxy.Disable when FleetServer.ConnStr is set).
 */
function planProxy(flags: ParsedFlags, bootstraps: boolean, notes: string[], intercept?: PlannedIntercept): PlannedProxy | undefined {
  const v = flags.values;
  const url = typeof v['proxy-url'] === 'string' ? v['proxy-url'] : undefined;
  const headerValues = flags.repeated['proxy-header'] ?? (typeof v['proxy-header'] === 'string' ? [v['proxy-header']] : []);
  const headers = parseProxyHeaders(headerValues);
  if (!url) {
    if (intercept) throw usage('--proxy-intercept needs --proxy-url (the proxy the agent sends CONNECT to)');
    if (v['proxy-target-refused'] === true) throw usage('--proxy-target-refused needs --proxy-url');
    if (v['proxy-parent-refused'] === true) throw usage('--proxy-parent-refused needs --proxy-url');
    return undefined;
  }
  const route = parseProxyUrl(url, '--proxy-url', headers);
  const targetRefused = v['proxy-target-refused'] === true;
  const parentRefused = v['proxy-parent-refused'] === true;
  if (parentRefused && route.scheme === 'socks5') throw usage('--proxy-parent-refused needs an http:// or https:// --proxy-url (tinyproxy\'s Upstream), not socks5://');
  if (parentRefused && intercept) throw usage('--proxy-parent-refused and --proxy-intercept are two different proxies; give one');
  if (intercept && route.scheme !== 'http') throw usage(`--proxy-intercept needs an http:// --proxy-url (squid's ssl-bump port takes plain CONNECT), not ${route.scheme}://`);
  const disabled = v['proxy-disabled'] === true;
  const required = typeof v['proxy-require-auth'] === 'string' ? v['proxy-require-auth'] : undefined;
  const requireAuth = required !== undefined ? parseUserPass(required, '--proxy-require-auth') : urlCredentials(route.url);
  const serves = typeof v['proxy-serves'] === 'string' ? v['proxy-serves'] : undefined;
  if (serves !== undefined && !['http', 'https', 'socks5', 'none'].includes(serves)) throw usage(`--proxy-serves: '${serves}' is not http, https, socks5 or none`);
  const ports = typeof v['proxy-allow-ports'] === 'string' ? v['proxy-allow-ports'].split(',') : undefined;
  const allowPorts = ports?.map((port) => {
    if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) throw usage(`--proxy-allow-ports: '${port}' is not a port number`);
    return Number(port);
  });
  if (disabled) notes.push('--proxy-disabled: the agent ignores --proxy-url');
  else if (bootstraps) notes.push('--fleet-server-es: the agent enrolls into the Fleet Server it bootstraps on this host directly, without --proxy-url, as the real agent does');
  return {
    route, disabled, bypassed: bootstraps, ...(requireAuth ? { requireAuth } : {}),
    ...(serves ? { serves: serves as ProxyScheme | 'none' } : {}), ...(allowPorts ? { allowPorts } : {}),
    ...(targetRefused ? { targetRefused } : {}), ...(parentRefused ? { parentRefused } : {}), ...(intercept ? { intercept } : {}),
  };
}

const INTERCEPT_FLAGS = ['proxy-intercept-ca', 'proxy-intercept-ca-key', 'proxy-intercept-upstream-ca', 'proxy-intercept-cert', 'proxy-intercept-cert-key'];

/** --proxy-intercept and its files; the others without it are bad input. */
function planIntercept({ str, file, list }: FlagReader, flags: ParsedFlags): PlannedIntercept | undefined {
  if (flags.values['proxy-intercept'] !== true) {
    const stray = INTERCEPT_FLAGS.find((name) => str(name) !== undefined);
    if (stray) throw usage(`--${stray} needs --proxy-intercept`);
    return undefined;
  }
  const [rootCert, rootKey, cert, key] = [file('proxy-intercept-ca'), file('proxy-intercept-ca-key'), file('proxy-intercept-cert'), file('proxy-intercept-cert-key')];
  if (Boolean(rootCert) !== Boolean(rootKey)) throw usage('--proxy-intercept-ca and --proxy-intercept-ca-key go together');
  if (Boolean(cert) !== Boolean(key)) throw usage('--proxy-intercept-cert and --proxy-intercept-cert-key go together');
  const upstream = list('proxy-intercept-upstream-ca');
  const root = rootCert && rootKey ? withFlag({ certificate: '--proxy-intercept-ca', key: '--proxy-intercept-ca-key' }, () => loadIdentity(rootCert, rootKey)) : undefined;
  if (root && !root.chain[0]?.isCA) throw usage(`--proxy-intercept-ca ${rootCert}: not a CA certificate (basicConstraints CA:TRUE), so nothing it signs would verify`);
  return {
    ...(root ? { root } : {}),
    ...(upstream ? { upstreamAuthorities: withFlag('--proxy-intercept-upstream-ca', () => loadCertificateAuthorities(upstream)) } : {}),
    ...(cert && key ? { upstreamIdentity: withFlag({ certificate: '--proxy-intercept-cert', key: '--proxy-intercept-cert-key' }, () => loadIdentity(cert, key)) } : {}),
  };
}

const SECURE_PROXY_FLAGS = [
  'secure-proxy-in-front-of', 'secure-proxy-cert', 'secure-proxy-cert-key', 'secure-proxy-client-auth', 'secure-proxy-client-ca',
  'secure-proxy-upstream-ca', 'secure-proxy-upstream-cert', 'secure-proxy-upstream-cert-key', 'secure-proxy-upstream-name', 'secure-proxy-upstream-scheme',
];

/**
 * --secure-proxy and its harness flags: nginx's ssl_* (its front) and proxy_ssl_* (its upstream)
 * directives. In front of Elasticsearch it presents es-cert by default, in front of Fleet Server fleet-cert.
 */
function planSecureProxy({ str, file, list }: FlagReader, wanted: boolean, pki: Pki): PlannedSecureProxy | undefined {
  if (!wanted) {
    const stray = SECURE_PROXY_FLAGS.find((name) => str(name) !== undefined);
    if (stray) throw usage(`--${stray} needs --secure-proxy`);
    return undefined;
  }
  const place = str('secure-proxy-in-front-of') ?? 'fleet-server';
  if (place !== 'fleet-server' && place !== 'elasticsearch') throw usage(`--secure-proxy-in-front-of: '${place}' is not fleet-server or elasticsearch`);
  const scheme = str('secure-proxy-upstream-scheme');
  if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') throw usage(`--secure-proxy-upstream-scheme: '${scheme}' is not http or https`);
  const leaf = place === 'elasticsearch' ? 'es-cert' : 'fleet-cert';
  const cert = file('secure-proxy-cert') ?? pki.certPath(leaf);
  const key = file('secure-proxy-cert-key') ?? pki.keyPath(leaf);
  const upstreamCa = file('secure-proxy-upstream-ca');
  const upstreamCert = file('secure-proxy-upstream-cert');
  const upstreamKey = file('secure-proxy-upstream-cert-key');
  if (Boolean(upstreamCert) !== Boolean(upstreamKey)) throw usage('--secure-proxy-upstream-cert and --secure-proxy-upstream-cert-key go together');
  const name = str('secure-proxy-upstream-name');
  if (name !== undefined && !/^[A-Za-z0-9.*:[\]-]+$/.test(name)) throw usage(`--secure-proxy-upstream-name: '${name}' is not a host name`);
  return {
    inFrontOf: place,
    identity: withFlag({ certificate: '--secure-proxy-cert', key: '--secure-proxy-cert-key' }, () => loadIdentity(cert, key)),
    clientAuthentication: oneOf(() => parseClientAuthentication(str('secure-proxy-client-auth') ?? 'none'), `--secure-proxy-client-auth: '${str('secure-proxy-client-auth')}' is not none, optional or required`),
    clientCertificateAuthorities: withFlag('--secure-proxy-client-ca', () => loadCertificateAuthorities(list('secure-proxy-client-ca') ?? [pki.certPath(place === 'elasticsearch' ? 'es-ca' : 'agent-ca')])),
    ...(upstreamCa ? { upstreamAuthorities: withFlag('--secure-proxy-upstream-ca', () => loadCertificateAuthorities([upstreamCa])) } : {}),
    ...(upstreamCert && upstreamKey
      ? { upstreamCertificate: withFlag({ certificate: '--secure-proxy-upstream-cert', key: '--secure-proxy-upstream-cert-key' }, () => loadIdentity(upstreamCert, upstreamKey)) }
      : {}),
    ...(name ? { upstreamName: name } : {}),
    ...(scheme ? { upstreamScheme: scheme } : {}),
  };
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

function safeUrl(value: string, flag: string): URL {
  try {
    return new URL(value);
  } catch {
    throw usage(`${flag}: '${value}' is not a URL`);
  }
}

function oneOf<T>(parse: () => T, message: string): T {
  try {
    return parse();
  } catch {
    throw usage(message);
  }
}

/** The flags that give a certificate, its key, its passphrase or CAs: an error names the one at fault. */
type FlagsByRole = Partial<Record<MaterialRole, string>> & { readonly certificate?: string };
const AGENT_PAIR: FlagsByRole = { certificate: '--elastic-agent-cert', key: '--elastic-agent-cert-key', passphrase: '--elastic-agent-cert-key-passphrase' };
const FLEET_PAIR: FlagsByRole = { certificate: '--fleet-server-cert', key: '--fleet-server-cert-key', passphrase: '--fleet-server-cert-key-passphrase' };
const FLEET_ES_PAIR: FlagsByRole = { certificate: '--fleet-server-es-cert', key: '--fleet-server-es-cert-key' };
const ES_PAIR: FlagsByRole = { certificate: '--es-cert', key: '--es-cert-key' };

function withFlag<T>(flags: FlagsByRole | string, load: () => T): T {
  try {
    return load();
  } catch (error) {
    throw flagError(error, flags);
  }
}

function flagError(error: unknown, flags: FlagsByRole | string): HarnessError {
  const byRole: FlagsByRole = typeof flags === 'string' ? { certificate: flags, authority: flags } : flags;
  const flag = (error instanceof MaterialError ? byRole[error.role] : undefined) ?? byRole.certificate ?? byRole.authority ?? 'a flag';
  if (error instanceof HarnessError) return new HarnessError(error.code, `${flag} ${error.message}`, { cause: error });
  return new HarnessError('FTH_FILE_MALFORMED', `${flag}: ${(error as Error).message}`, { cause: error });
}

function usage(message: string): HarnessError {
  return new HarnessError('FTH_USAGE', message);
}

