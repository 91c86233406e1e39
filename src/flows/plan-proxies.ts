/**
 * The proxies an install command puts in the path: the agent's forward proxy (--proxy-*), the
 * intercepting proxy's files (--proxy-intercept-*) and a TLS-terminating proxy in front of Fleet
 * Server or Elasticsearch (--secure-proxy-*) with a load balancer's health check (--health-check-*),
 * each read and checked before anything starts.
 */
import type { ClientAuthentication } from '../tls/settings.js';
import { parseClientAuthentication } from '../tls/settings.js';
import { loadCertificateAuthorities, loadIdentity, type Identity } from '../tls/material.js';
import type { Cert } from '../x509/certificate.js';
import type { Pki } from '../pki/store.js';
import type { ParsedFlags } from './install-flags.js';
import { parseProxyHeaders, parseProxyUrl, parseUserPass, urlCredentials, type ProxyRoute, type ProxyScheme } from '../components/proxy/proxy-url.js';
import { goDurationMs } from '../dialects/go.js';
import type { PlannedHealthCheck } from './health-check-flow.js';
import { oneOf, usage, withFlag, type FlagReader } from './plan-read.js';

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

/**
 * --proxy-url, --proxy-header, --proxy-disabled. With --fleet-server-es the agent bootstraps a
 * Fleet Server on this host and enrolls into it without the proxy (elastic-agent's enroll
 * options set Transport.Proxy.Disable when FleetServer.ConnStr is set).
 */
export function planProxy(flags: ParsedFlags, bootstraps: boolean, notes: string[], intercept?: PlannedIntercept): PlannedProxy | undefined {
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
export function planIntercept({ str, file, list }: FlagReader, flags: ParsedFlags): PlannedIntercept | undefined {
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
export function planSecureProxy({ str, file, list }: FlagReader, wanted: boolean, pki: Pki): PlannedSecureProxy | undefined {
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

/** --health-check, --health-check-interval, --health-check-count. */
export function planHealthCheck(str: (name: string) => string | undefined): PlannedHealthCheck | undefined {
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
