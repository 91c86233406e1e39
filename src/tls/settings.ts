import { HarnessError } from '../errors.js';

/**
 * elastic-agent-libs `ssl.verification_mode`. An empty value means `full`, as in libs.
 * - full: chain and host name, accepting the Common Name when a certificate has no SANs
 * - strict: Go's own verification, no Common Name fallback
 * - certificate: chain only
 * - none: nothing (and the agent logs `SSL/TLS verifications disabled.`)
 */
export type VerificationMode = 'full' | 'strict' | 'certificate' | 'none';
export const VERIFICATION_MODES: readonly VerificationMode[] = ['full', 'strict', 'certificate', 'none'];

/**
 * `ssl.client_authentication` of a TLS server.
 * - none: no CertificateRequest
 * - optional: asks, verifies a certificate if one is sent (Go VerifyClientCertIfGiven, Java want)
 * - required: asks and refuses a handshake without one (Go RequireAndVerifyClientCert, Java need)
 */
export type ClientAuthentication = 'none' | 'optional' | 'required';
export const CLIENT_AUTHENTICATIONS: readonly ClientAuthentication[] = ['none', 'optional', 'required'];

/** A TLS protocol version as the components' `supported_protocols` name it (without the `TLSv`). */
export type TlsVersion = '1.2' | '1.3';
export const TLS_VERSIONS: readonly TlsVersion[] = ['1.2', '1.3'];

/** Node's names for the protocol versions. */
export const NODE_VERSION: Readonly<Record<TlsVersion, 'TLSv1.2' | 'TLSv1.3'>> = { '1.2': 'TLSv1.2', '1.3': 'TLSv1.3' };

/** The lowest and highest TLS version a component accepts. */
export interface VersionRange {
  readonly min: TlsVersion;
  readonly max: TlsVersion;
}

/** elastic-agent-libs' default since v0.18.0, and what Elasticsearch on a current JDK accepts. */
export const DEFAULT_VERSIONS: VersionRange = { min: '1.2', max: '1.3' };

export function only(version: TlsVersion): VersionRange {
  return { min: version, max: version };
}

export function parseVerificationMode(value: string, setting = 'verification_mode'): VerificationMode {
  if (value === '') return 'full';
  return oneOf(value, VERIFICATION_MODES, setting);
}

export function parseClientAuthentication(value: string, setting = 'client_authentication'): ClientAuthentication {
  return oneOf(value, CLIENT_AUTHENTICATIONS, setting);
}

export function parseTlsVersion(value: string, setting = 'tls'): TlsVersion {
  const normalised = value.replace(/^TLSv/i, '');
  return oneOf(normalised, TLS_VERSIONS, setting);
}

/** `supported_protocols` (libs and Elasticsearch both take a list) as a range; undefined for none. */
export function versionRange(protocols: readonly string[] | undefined, setting = 'supported_protocols'): VersionRange | undefined {
  if (!protocols?.length) return undefined;
  const versions = protocols.map((p) => parseTlsVersion(p, setting));
  return { min: versions.includes('1.2') ? '1.2' : '1.3', max: versions.includes('1.3') ? '1.3' : '1.2' };
}

function oneOf<T extends string>(value: string, allowed: readonly T[], setting: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new HarnessError('FTH_CONFIG_VALUE', `${setting}: '${value}' is not one of ${allowed.join(', ')}`);
}
