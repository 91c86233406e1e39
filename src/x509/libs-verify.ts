/**
 * How an Elastic Agent (or Fleet Server talking to Elasticsearch) judges a server's
 * certificate chain, per elastic-agent-libs transport/tlscommon tls_config.go
 * (makeVerifyConnection, verifyCertsWithOpts, verifyHostname, trustRootCA) on top of
 * Go's crypto/tls client; and how a Go TLS server judges a client's chain.
 *
 * Only `strict` lets Go verify during the handshake (InsecureSkipVerify=false): Go >= 1.20
 * wraps that error as "tls: failed to verify certificate: ..." (crypto/tls
 * CertificateVerificationError, CL 449336), Go 1.19 returns it bare. `full` and
 * `certificate` verify in VerifyConnection, whose error Go returns unwrapped in every version.
 */
import { HarnessError } from '../errors.js';
import type { Cert } from './certificate.js';
import { goVerify, type GoVerifyResult, type GoX509Error } from './go-verify.js';
import { hostnameErrorMessage, matchHostnames, validHostname } from './hostname.js';
import { ipEqual, parseIP } from './ip.js';
import { trustRootCA, verifyCAPin } from './libs-fingerprint.js';

export { caSha256Pin, caTrustedFingerprint, ERR_CA_PIN_MISMATCH } from './libs-fingerprint.js';

export type VerificationMode = 'full' | 'strict' | 'certificate' | 'none';

export interface ServerChainOptions {
  mode: VerificationMode;
  /** certificate_authorities; 'system' when none are configured (Go then uses the system pool). */
  roots: Cert[] | 'system';
  /** The host the client dialled, a DNS name or an IP. */
  serverName: string;
  caTrustedFingerprint?: string;
  caSha256?: string[];
  now?: Date;
  /** Which Go the agent was built with: only the `strict` message differs. */
  goVersion?: '1.19' | 'current';
}

export interface ServerChainVerdict {
  ok: boolean;
  /** The error text the agent logs (bare x509 text, or Go's TLS wrapper in strict mode). */
  message?: string;
  /** Warn-level lines libs logs on the way (mode none, ca_trusted_fingerprint trouble). */
  warnings: string[];
  /** The underlying crypto/x509 error, when that is what failed. */
  error?: GoX509Error;
}

/** Go's TLS client refuses a leaf key it cannot use, after verification, whatever the mode. */
function unsupportedKey(leaf: Cert): string | null {
  if (['RSA', 'ECDSA', 'Ed25519'].includes(leaf.publicKeyAlgorithm)) return null;
  return `tls: server's certificate contains an unsupported type of public key: ${leaf.parsedPublicKey.goType}`;
}

/**
 * libs' own verifyHostname: IPs match IP SANs or a CN that parses as the same IP; names
 * match DNS SANs, or the CN when there are none (the legacy fallback Go itself dropped).
 */
export function libsVerifyHostname(cert: Cert, hostname: string): string | null {
  if (hostname === '') return null;
  const bare = hostname.length >= 3 && hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  const ip = parseIP(bare);
  if (ip !== undefined) {
    if (cert.ipAddressBytes.some((san) => ipEqual(ip, san))) return null;
    const cnIP = parseIP(cert.commonName);
    if (cnIP !== undefined && ipEqual(ip, cnIP)) return null;
    // libs passes the host as given, brackets included, to x509.HostnameError.
    return hostnameErrorMessage(cert, hostname);
  }
  let names: readonly string[] = cert.dnsNames;
  if ((names.length === 0 || (names.length === 1 && names[0] === '')) && cert.commonName !== '') names = [cert.commonName];
  for (const name of names) {
    if (matchHostnames(name, hostname)) return validHostname(name, true) ? null : 'invalid hostname in cert';
  }
  return hostnameErrorMessage(cert, hostname);
}

const fail = (message: string, warnings: string[], error?: GoX509Error): ServerChainVerdict =>
  ({ ok: false, message, warnings, ...(error ? { error } : {}) });

export function verifyServerChain(peer: Cert[], opts: ServerChainOptions): ServerChainVerdict {
  const warnings: string[] = [];
  const leaf = peer[0];
  // Go's TLS 1.3 client text; a server must send at least one certificate.
  if (leaf === undefined) return fail('tls: received empty certificates message', warnings);
  const now = opts.now ?? new Date();
  const intermediates = peer.slice(1);

  if (opts.mode === 'none') {
    // Logged once when the config is built (ToConfig); nothing is verified.
    warnings.push('SSL/TLS verifications disabled.');
    const keyErr = unsupportedKey(leaf);
    return keyErr === null ? { ok: true, warnings } : fail(keyErr, warnings);
  }

  if (opts.mode === 'strict') {
    const result = goVerify(leaf, { roots: opts.roots, intermediates, dnsName: opts.serverName, currentTime: now });
    if (!result.ok) {
      const prefix = (opts.goVersion ?? 'current') === 'current' ? 'tls: failed to verify certificate: ' : '';
      return fail(prefix + result.error.message, warnings, result.error);
    }
    const keyErr = unsupportedKey(leaf);
    if (keyErr !== null) return fail(keyErr, warnings);
    // libs installs a VerifyConnection in strict mode only when pins are configured; it may
    // still add a fingerprint CA to RootCAs, but too late to matter for this handshake.
    if (opts.caSha256 !== undefined && opts.caSha256.length > 0) {
      if (opts.caTrustedFingerprint) {
        const trust = trustRootCA(opts.caTrustedFingerprint, peer);
        warnings.push(...trust.warnings);
        if (trust.error !== undefined) return fail(trust.error, warnings);
      }
      const pinErr = verifyCAPin(opts.caSha256, result.chains);
      if (pinErr !== null) return fail(pinErr, warnings);
    }
    return { ok: true, warnings };
  }

  // full and certificate: Go checked nothing but the key type; libs verifies in VerifyConnection.
  const keyErr = unsupportedKey(leaf);
  if (keyErr !== null) return fail(keyErr, warnings);
  let roots = opts.roots;
  if (opts.caTrustedFingerprint) {
    const trust = trustRootCA(opts.caTrustedFingerprint, peer);
    warnings.push(...trust.warnings);
    if (trust.error !== undefined) return fail(trust.error, warnings);
    // With no certificate_authorities, RootCAs was nil: libs creates a pool holding only this
    // CA, so the system roots stop counting.
    if (trust.trusted !== undefined) roots = roots === 'system' ? [trust.trusted] : [...roots, trust.trusted];
  }
  const result = goVerify(leaf, { roots, intermediates, currentTime: now });
  if (!result.ok) return fail(result.error.message, warnings, result.error);
  if (opts.caSha256 !== undefined && opts.caSha256.length > 0) {
    const pinErr = verifyCAPin(opts.caSha256, result.chains);
    if (pinErr !== null) return fail(pinErr, warnings);
  }
  if (opts.mode === 'full') {
    const hostErr = libsVerifyHostname(leaf, opts.serverName);
    if (hostErr !== null) return fail(hostErr, warnings);
  }
  return { ok: true, warnings };
}

export interface ClientChainOptions {
  /** ClientCAs: the CAs the server trusts for client certificates. */
  clientCAs: Cert[];
  now?: Date;
}

/**
 * A Go TLS server's check of a client chain (crypto/tls processCertsFromClient): roots are
 * ClientCAs, intermediates are what the client sent after its leaf, and the clientAuth EKU
 * is required. Callers add Go's prefix: "tls: failed to verify client certificate: " in
 * 1.19, "tls: failed to verify certificate: " from 1.20.
 */
export function verifyClientChain(peer: Cert[], opts: ClientChainOptions): GoVerifyResult {
  const [leaf, ...intermediates] = peer;
  // Go answers an empty Certificate message before any verification; callers handle that case.
  if (leaf === undefined) throw new HarnessError('FTH_INTERNAL', 'verifyClientChain called without a client certificate');
  return goVerify(leaf, { roots: opts.clientCAs, intermediates, keyUsages: ['clientAuth'], currentTime: opts.now ?? new Date() });
}
