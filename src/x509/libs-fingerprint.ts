/**
 * The two "fingerprint" settings of elastic-agent-libs transport/tlscommon, which are
 * easy to confuse:
 *   ca_trusted_fingerprint: hex SHA-256 of a CA certificate's DER; a matching CA sent by
 *     the server is added to the roots (tls_config.go trustRootCA).
 *   ca_sha256: base64 SHA-256 of a certificate's SubjectPublicKeyInfo; one must appear in
 *     a verified chain (ca_pinning.go verifyCAPin / Fingerprint).
 * Texts are quoted from elastic/elastic-agent-libs at 2238ac8 (May 2026).
 */
import { createHash } from 'node:crypto';
import type { Cert } from './certificate.js';
import { goHexDecode, goStringSlice } from './go-text.js';

/** ErrCAPinMissmatch (ca_pinning.go). */
export const ERR_CA_PIN_MISMATCH =
  "provided CA certificate pins doesn't match any of the certificate authorities used to validate the certificate";

/** The value to put in ca_trusted_fingerprint for a CA: hex SHA-256 of its DER (tlscommontest.GetCertFingerprint). */
export function caTrustedFingerprint(cert: Cert): string {
  return cert.sha256Hex;
}

/** The value to put in ca_sha256 for a certificate: base64 SHA-256 of its SPKI (ca_pinning.go Fingerprint). */
export function caSha256Pin(cert: Cert): string {
  return createHash('sha256').update(cert.spkiDer).digest('base64');
}

export interface TrustRootResult {
  /** The configuration error that fails the connection (an undecodable fingerprint). */
  error?: string;
  /** The peer CA certificate that matched, to be added to the roots. */
  trusted?: Cert;
  /** What libs logs at warn level (logger "tls"). */
  warnings: string[];
}

/**
 * trustRootCA (tls_config.go): scan the certificates the server sent, in order, for a CA
 * whose DER digest is the fingerprint. libs' IsCA is Go's, so a certificate without
 * basicConstraints cA=TRUE never qualifies.
 */
export function trustRootCA(fingerprint: string, peer: readonly Cert[]): TrustRootResult {
  const decoded = goHexDecode(fingerprint);
  if ('error' in decoded) return { error: `decode 'ca_trusted_fingerprint': ${decoded.error}`, warnings: [] };
  const warnings: string[] = [];
  const foundCADigests: string[] = [];
  for (const cert of peer) {
    const digest = Buffer.from(cert.sha256Hex, 'hex');
    if (cert.isCA) foundCADigests.push(cert.sha256Hex);
    if (!digest.equals(decoded.bytes)) continue;
    if (!cert.isCA) {
      warnings.push("Certificate matching 'ca_trusted_fingerprint' found, but it is not a CA certificate. 'ca_trusted_fingerprint' can only be used to trust CA certificates.");
      continue;
    }
    return { trusted: cert, warnings };
  }
  if (foundCADigests.length === 0) {
    warnings.push("The remote server's certificate is presented without its certificate chain. Using 'ca_trusted_fingerprint' requires that the server presents a certificate chain that includes the certificate's issuing certificate authority.");
  } else {
    warnings.push(`The provided 'ca_trusted_fingerprint': '${fingerprint}' does not match the fingerprint of any Certificate Authority present in the server's certificate chain. Found the following CA fingerprints instead: ${goStringSlice(foundCADigests)}`);
  }
  return { warnings };
}

/** verifyCAPin: any certificate of any verified chain (the leaf included) may carry the pin. */
export function verifyCAPin(pins: readonly string[], chains: readonly (readonly Cert[])[]): string | null {
  for (const chain of chains) {
    for (const cert of chain) if (pins.includes(caSha256Pin(cert))) return null;
  }
  return ERR_CA_PIN_MISMATCH;
}
