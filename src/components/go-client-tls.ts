import type { Cert } from '../x509/certificate.js';
import type { VerificationMode, VersionRange } from '../tls/settings.js';
import type { Identity } from '../tls/material.js';

/**
 * A Go client's `ssl.*` settings (elastic-agent-libs `tlscommon.Config`). Types only, so the
 * connection, transport and leg modules can name them without importing the client itself.
 */
export interface GoClientTls {
  readonly verificationMode?: VerificationMode;
  /** Absent: the system roots, as Go uses when `certificate_authorities` is empty. */
  readonly certificateAuthorities?: readonly Cert[];
  readonly certificate?: Identity;
  readonly caTrustedFingerprint?: string;
  readonly caSha256?: readonly string[];
  readonly versions?: VersionRange;
  /**
   * `go` (default): withhold a certificate whose issuer the server's CertificateRequest does not
   * list, as Go does. `always`: send it anyway, as curl and OpenSSL clients do.
   */
  readonly sendCertificate?: 'go' | 'always';
  /**
   * Connect and send nothing, as a load balancer's TCP health check or a stuck client does,
   * until the server gives up (a harness knob, not an agent setting).
   */
  readonly stall?: boolean;
}
