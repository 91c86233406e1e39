/**
 * `fleet-tls probe`: the fake agent against any HTTPS server (openssl s_server, a real Fleet
 * Server): the chain the server sends, version and cipher, whether it asks for a client
 * certificate and which CAs it names, and the agent's verdict under each verification mode.
 */
import { goRequest, type GoClientTls, type GoExchange } from '../components/go-client.js';
import { buildLeg, skippedLeg, summarise } from '../components/legs.js';
import { proxyLeg } from '../components/proxy/proxy-leg.js';
import { hostPort, type ProxyRoute } from '../components/proxy/proxy-url.js';
import { changedLeg } from '../capture/wire.js';
import type { CertificateSummary, Leg } from '../report/leg.js';
import type { Identity } from '../tls/material.js';
import { DEFAULT_VERSIONS, type VerificationMode, type VersionRange } from '../tls/settings.js';
import { nameToString, type Cert } from '../x509/certificate.js';

export const MODES: readonly VerificationMode[] = ['full', 'strict', 'certificate', 'none'];

/** Options of {@link probe}: the agent's TLS settings against `url`. */
export interface ProbeOptions {
  readonly url: string;
  readonly certificateAuthorities?: readonly Cert[];
  readonly caSha256?: readonly string[];
  readonly caTrustedFingerprint?: string;
  readonly certificate?: Identity;
  /** The mode whose leg is reported (the agent's: full, or none with --insecure). */
  readonly mode?: VerificationMode;
  readonly versions?: VersionRange;
  /** Where to connect instead of the URL's host, like curl --resolve. */
  readonly connectTo?: { readonly host: string; readonly port: number };
  /** --proxy-url and --proxy-header: every connection goes through this proxy, as Go's Transport.Proxy. */
  readonly proxy?: ProxyRoute;
}

/** The agent's verdict on the server under one verification mode. */
export interface ModeVerdict {
  readonly ok: boolean;
  /** The agent's enrollment error when it fails; what libs logged (or "verified") when it works. */
  readonly message: string;
}

/** What `fleet-tls probe --json` prints. */
export interface ProbeResult {
  readonly ok: boolean;
  readonly legs: readonly Leg[];
  readonly server: {
    readonly chain: readonly CertificateSummary[];
    readonly clientCertificateRequested: boolean;
    /** The CA names of the CertificateRequest, as Go prints a pkix.Name. */
    readonly acceptableCAs: readonly string[];
  };
  readonly modes: Readonly<Record<VerificationMode, ModeVerdict>>;
}

/**
 * The fake agent against any HTTPS server: the chain it sends, whether it asks for a client
 * certificate and which CAs it names, and the agent's verdict under each verification mode.
 *
 * @example
 * ```ts
 * const result = await probe({ url: 'https://fleet.example:8220', certificateAuthorities: loadCertificateAuthorities(['ca.crt']) });
 * result.modes.full.message; // 'x509: certificate is valid for localhost, not fleet.example' …
 * ```
 */
export async function probe(options: ProbeOptions): Promise<ProbeResult> {
  const exchanges = new Map<VerificationMode, GoExchange>();
  // One connection per mode, one after another: a plain s_server serves a single client at a time.
  for (const mode of MODES) {
    const tls: GoClientTls = {
      verificationMode: mode,
      ...(options.certificateAuthorities ? { certificateAuthorities: options.certificateAuthorities } : {}),
      ...(options.caSha256?.length ? { caSha256: options.caSha256 } : {}),
      ...(options.caTrustedFingerprint ? { caTrustedFingerprint: options.caTrustedFingerprint } : {}),
      ...(options.certificate ? { certificate: options.certificate } : {}),
      versions: options.versions ?? DEFAULT_VERSIONS,
    };
    exchanges.set(mode, await goRequest({
      method: 'GET', url: options.url, tls,
      headers: { 'user-agent': 'Elastic Agent v9.0.0' },
      ...(options.connectTo ? { connectTo: options.connectTo } : {}),
      ...(options.proxy ? { proxy: options.proxy } : {}),
    }));
  }
  const modes = Object.fromEntries(MODES.map((mode) => [mode, verdict(exchanges.get(mode)!)])) as Record<VerificationMode, ModeVerdict>;
  const all = [...exchanges.values()];
  const withChain = all.find((e) => e.connection.serverChain.length > 0);
  const request = all.map((e) => e.connection.tap?.certificateRequest).find(Boolean);
  const reported = options.mode ?? 'full';
  const exchange = exchanges.get(reported)!;
  const hop = exchange.proxy;
  const target = new URL(options.url);
  const targetAddr = hostPort(target.hostname.replace(/^\[|\]$/g, ''), Number(target.port || 443));
  const legs = hop?.error
    ? [proxyLeg('agent', hop, targetAddr, modes[reported].message), skippedLeg('agent', 'fleet-server', options.url, 'the proxy did not open a connection to the server')]
    : [
      ...(hop ? [proxyLeg('agent', hop, targetAddr, undefined)] : []),
      withProxy(buildLeg({ from: 'agent', to: 'fleet-server', url: options.url, exchange, ok: modes[reported].ok, method: 'GET', clientLog: modes[reported].message }), hop !== undefined),
    ];
  return {
    ok: legs.every((l) => l.ok),
    legs,
    server: {
      chain: (withChain?.connection.serverChain ?? []).map((c) => summarise(c)!),
      clientCertificateRequested: request !== undefined,
      acceptableCAs: (request?.certificateAuthorities ?? []).map((name) => safeName(name)),
    },
    modes,
  };
}

const withProxy = (leg: Leg, via: boolean): Leg => (via ? changedLeg(leg, { via: 'proxy' }) : leg);

function verdict(exchange: GoExchange): ModeVerdict {
  if (exchange.error !== undefined) return { ok: false, message: `fail to enroll: fail to execute request to fleet-server: ${exchange.error}` };
  const warnings = exchange.connection.warnings;
  return { ok: true, message: warnings.length ? warnings.join('\n') : `verified; HTTP ${exchange.response!.status}` };
}

function safeName(raw: Buffer): string {
  try {
    return nameToString(raw);
  } catch {
    return `(${raw.length}-byte name that does not parse)`;
  }
}
