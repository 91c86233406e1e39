/**
 * `serve --proxy-intercept <port>`: a TLS-intercepting proxy (squid ssl-bump's words) beside the
 * fakes, for outside clients (curl --proxy, a real agent's --proxy-url). Its flags carry install's
 * names; unlike install it verifies servers with the fakes' CAs from --certs by default, so that
 * the fakes it serves are reachable through it out of the box.
 */
import { ComponentLog } from '../../components/log.js';
import { FakeInterceptingProxy } from '../../components/proxy/intercepting-proxy.js';
import { HarnessError } from '../../errors.js';
import type { Pki } from '../../pki/store.js';
import { loadCertificateAuthorities, loadIdentity, type Identity } from '../../tls/material.js';
import type { VersionRange } from '../../tls/settings.js';
import type { Cert } from '../../x509/certificate.js';
import { credentials, named, parsePort } from './shared.js';

export interface InterceptFlags {
  proxyIntercept?: string;
  proxyInterceptCa?: string;
  proxyInterceptCaKey?: string;
  proxyInterceptUpstreamCa?: string;
  proxyInterceptCert?: string;
  proxyInterceptCertKey?: string;
  proxyInterceptAuth?: string;
}

/** What the flags ask for, files read and checked before anything listens. */
export interface InterceptPlan {
  readonly port: number;
  readonly root?: Identity;
  readonly upstreamAuthorities: readonly Cert[];
  readonly upstreamIdentity?: Identity;
  readonly auth?: { readonly username: string; readonly password: string };
}

export const INTERCEPT_OPTIONS: ReadonlyArray<readonly [string, string]> = [
  ['--proxy-intercept <port>', 'also start a TLS-intercepting proxy (CONNECT, then a certificate it mints for the host, signed by its root; answers and logs as squid ssl-bump) on this port (0: any free port)'],
  ['--proxy-intercept-ca <file>', 'root CA certificate it signs with (default: one it makes, printed when ready)'],
  ['--proxy-intercept-ca-key <file>', 'private key of --proxy-intercept-ca'],
  ['--proxy-intercept-upstream-ca <files>', 'comma-separated CAs it verifies servers with (default: fleet-ca and es-ca from --certs, the fakes\' CAs)'],
  ['--proxy-intercept-cert <file>', 'client certificate it presents to servers that ask (default: none)'],
  ['--proxy-intercept-cert-key <file>', 'private key of --proxy-intercept-cert'],
  ['--proxy-intercept-auth <user:pass>', 'it answers 407 to a CONNECT without these Basic credentials in Proxy-Authorization'],
];

const DEPENDENT = ['proxyInterceptCa', 'proxyInterceptCaKey', 'proxyInterceptUpstreamCa', 'proxyInterceptCert', 'proxyInterceptCertKey', 'proxyInterceptAuth'] as const;

export function planIntercept(flags: InterceptFlags, pki: Pki, flagName: (key: string) => string): InterceptPlan | undefined {
  if (flags.proxyIntercept === undefined) {
    const stray = DEPENDENT.find((k) => flags[k] !== undefined);
    if (stray) throw new HarnessError('FTH_USAGE', `${flagName(stray)} needs --proxy-intercept`);
    return undefined;
  }
  const port = parsePort(flags.proxyIntercept, '--proxy-intercept');
  if (Boolean(flags.proxyInterceptCa) !== Boolean(flags.proxyInterceptCaKey)) throw new HarnessError('FTH_USAGE', '--proxy-intercept-ca and --proxy-intercept-ca-key go together');
  if (Boolean(flags.proxyInterceptCert) !== Boolean(flags.proxyInterceptCertKey)) throw new HarnessError('FTH_USAGE', '--proxy-intercept-cert and --proxy-intercept-cert-key go together');
  const root = flags.proxyInterceptCa
    ? named({ certificate: '--proxy-intercept-ca', key: '--proxy-intercept-ca-key' }, () => loadIdentity(flags.proxyInterceptCa!, flags.proxyInterceptCaKey!))
    : undefined;
  if (root && !root.chain[0]?.isCA) {
    throw new HarnessError('FTH_USAGE', `--proxy-intercept-ca ${flags.proxyInterceptCa}: not a CA certificate (basicConstraints CA:TRUE), so nothing it signs would verify`);
  }
  const upstreamFiles = flags.proxyInterceptUpstreamCa?.split(',').filter(Boolean) ?? [pki.certPath('fleet-ca'), pki.certPath('es-ca')];
  if (upstreamFiles.length === 0) throw new HarnessError('FTH_USAGE', '--proxy-intercept-upstream-ca: no CA file named');
  const upstreamAuthorities = named('--proxy-intercept-upstream-ca', () => loadCertificateAuthorities(upstreamFiles));
  const upstreamIdentity = flags.proxyInterceptCert
    ? named({ certificate: '--proxy-intercept-cert', key: '--proxy-intercept-cert-key' }, () => loadIdentity(flags.proxyInterceptCert!, flags.proxyInterceptCertKey!))
    : undefined;
  const auth = flags.proxyInterceptAuth !== undefined ? credentials(flags.proxyInterceptAuth, '--proxy-intercept-auth') : undefined;
  return { port, ...(root ? { root } : {}), upstreamAuthorities, ...(upstreamIdentity ? { upstreamIdentity } : {}), ...(auth ? { auth } : {}) };
}

/** Starts it on `host`; its lines go under `intercepting-proxy`. */
export async function startIntercept(plan: InterceptPlan, host: string, versions: VersionRange): Promise<{ proxy: FakeInterceptingProxy; line: string; ready: Record<string, string> }> {
  const log = new ComponentLog('intercepting-proxy');
  const proxy = await FakeInterceptingProxy.start({
    host, port: plan.port, log, versions, upstreamAuthorities: plan.upstreamAuthorities,
    ...(plan.root ? { root: plan.root } : {}), ...(plan.upstreamIdentity ? { upstreamIdentity: plan.upstreamIdentity } : {}), ...(plan.auth ? { auth: plan.auth } : {}),
  });
  const root = proxy.root;
  const line = `fake intercepting proxy ${proxy.url}  (CONNECT, then TLS re-signed by ${root.subject}, sha256 ${root.sha256Hex}; `
    + `${plan.auth ? `Proxy-Authorization required, user ${plan.auth.username}` : 'no authentication'})${plan.root ? '' : `\n${root.pem.trimEnd()}`}`;
  return { proxy, line, ready: { interceptingProxy: proxy.url, interceptingProxyRoot: root.pem } };
}
