import { ALERT, alertName } from '../wire/alerts.js';
import type { ClientTap } from '../wire/tap.js';
import { versionName } from '../wire/timeline.js';
import { nameToString, parseCertificate, type Cert } from '../x509/certificate.js';
import type { ClientCertificateSummary, Phase } from '../report/leg.js';
import type { GoClientTls } from './go-client-tls.js';

/** Everything observed about one connection, from the client's side. */
export interface ClientConnection {
  readonly local: string;
  readonly localPort?: number;
  readonly remote: string;
  readonly tap?: ClientTap;
  readonly version: string | null;
  readonly cipher: string | null;
  readonly serverChain: readonly Cert[];
  readonly clientCertificate: ClientCertificateSummary | null;
  readonly rejectedBy: 'client' | 'server' | null;
  /** `http`: the handshake completed and the client gave up waiting for the answer. */
  readonly phase: Phase | null;
  readonly alert: string | null;
  readonly node: { code: string; message: string } | null;
  /** Warnings libs logs while verifying (`SSL/TLS verifications disabled.`, fingerprint notes). */
  readonly warnings: readonly string[];
  /** What the client verifies the server with: its mode and CAs (null: the system roots). */
  readonly verifies?: { readonly mode: string; readonly authorities: readonly string[] | null };
}

export function describeConnection(
  tap: ClientTap, settings: GoClientTls, local: string, localPort: number | undefined, remote: string,
  warnings: string[], nodeError: NodeJS.ErrnoException | undefined,
): ClientConnection {
  const session = tap.session;
  const fatal = tap.alerts.find((a) => a.description !== ALERT.close_notify);
  const rejectedBy = tap.rejection ? tap.rejection.by : fatal ? fatal.sender : null;
  const failed = rejectedBy !== null || !tap.clientHandshakeDone || tap.peerClose === 'reset';
  const phase: ClientConnection['phase'] = !failed
    ? null
    : fatal?.afterHandshake || (!fatal && tap.clientHandshakeDone) ? 'after-handshake' : 'handshake';
  return {
    local, localPort, remote, tap,
    version: session.version ? versionName(session.version) : null,
    cipher: session.suite?.iana ?? null,
    serverChain: parsable(tap.serverChain),
    clientCertificate: clientCertificateSummary(tap, settings),
    rejectedBy: failed ? rejectedBy ?? 'server' : null,
    phase: failed ? phase : null,
    alert: fatal ? alertName(fatal.description) : null,
    node: nodeError ? { code: nodeError.code ?? 'ERR', message: nodeError.message } : null,
    warnings,
    verifies: { mode: settings.verificationMode ?? 'full', authorities: settings.certificateAuthorities?.map((ca) => ca.subject) ?? null },
  };
}

function clientCertificateSummary(tap: ClientTap, settings: GoClientTls): ClientCertificateSummary | null {
  const configured = settings.certificate?.chain[0];
  const subject = configured?.subject;
  if (!tap.certificateRequest) {
    if (!tap.session.handshakeComplete('server')) return null;
    return { presented: false, ...(subject ? { subject } : {}), why: 'the server did not ask for a client certificate' };
  }
  const sent = tap.clientChain;
  if (sent && sent.length > 0) {
    return { presented: true, subject: parseCertificate(sent[0]!).subject, why: 'the server asked for a client certificate' };
  }
  if (!configured) return { presented: false, why: 'the server asked for a client certificate and none is configured' };
  if (sent === null) return { presented: false, subject: configured.subject, why: 'the handshake ended before the client sent its certificate' };
  const asked = tap.certificateRequest.certificateAuthorities.map(nameOf).join('; ');
  return {
    presented: false,
    subject: configured.subject,
    why: `withheld, as Go does: its issuer ${configured.issuer} is not among the CAs the server asked for (${asked})`,
  };
}

/** The certificates Go's parser takes; one it refuses failed the handshake and is named by its error. */
function parsable(chain: readonly Buffer[]): Cert[] {
  const certs: Cert[] = [];
  for (const der of chain) {
    try {
      certs.push(parseCertificate(der));
    } catch {
      // The refusal is the client's error text (tls: failed to parse certificate from server: ...).
    }
  }
  return certs;
}

function nameOf(rawName: Buffer): string {
  try {
    return nameToString(rawName);
  } catch {
    return `${rawName.length}-byte name`;
  }
}

export function failedConnection(remote: string, error: NodeJS.ErrnoException | null): ClientConnection {
  return {
    local: '', remote, version: null, cipher: null, serverChain: [], clientCertificate: null,
    rejectedBy: error ? 'server' : null, phase: error ? 'connect' : null, alert: null,
    node: error ? { code: error.code ?? 'ERR', message: error.message } : null, warnings: [],
  };
}

