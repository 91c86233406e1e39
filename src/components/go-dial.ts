import net from 'node:net';
import tls from 'node:tls';
import { ALERT } from '../wire/alerts.js';
import { ClientTap, type CertificateRequestInfo, type Rejection } from '../wire/tap.js';
import { parseCertificate, type Cert } from '../x509/certificate.js';
import { verifyServerChain } from '../x509/libs-verify.js';
import { GoTlsError, goHandshakeLimit, goMalformedHandshake, goUnparsableCertificate, type GoRelease } from '../dialects/go.js';
import { DEFAULT_VERSIONS, NODE_VERSION, type VersionRange } from '../tls/settings.js';
import type { Identity } from '../tls/material.js';
import type { GoClientTls } from './go-client-tls.js';
import { GO_CIPHERS } from './go-ciphers.js';
import { dialError } from './go-errors.js';

/** An open TCP connection, with its addresses in Go's notation. */
export interface Dialled {
  readonly raw: net.Socket;
  readonly local: string;
  /** Read at connect time: Node forgets the local port once the socket is closed. */
  readonly localPort: number | undefined;
  readonly remote: string;
}

/** net.Dialer: a TCP connection to `target`, or Go's error for the failed dial. */
export async function dialTcp(target: { host: string; port: number }): Promise<Dialled | { error: string; remote: string; cause: NodeJS.ErrnoException }> {
  const raw = net.connect(target);
  const remote = net.isIPv6(target.host) ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
  const failed = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
    raw.once('connect', () => resolve(null));
    raw.once('error', (error) => resolve(error));
  });
  if (failed) {
    const dialled = dialledAddress(failed, remote);
    return { error: dialError(failed, dialled), remote: dialled, cause: failed };
  }
  // Read and write errors name the peer's address too, as the socket has it (127.0.0.1, not localhost).
  const peer = raw.remoteAddress && raw.remotePort !== undefined ? (net.isIPv6(raw.remoteAddress) ? `[${raw.remoteAddress}]:${raw.remotePort}` : `${raw.remoteAddress}:${raw.remotePort}`) : remote;
  return { raw, local: `${raw.localAddress}:${raw.localPort}`, localPort: raw.localPort, remote: peer };
}

/**
 * Go's *net.OpError names the address it dialled (localhost resolved to 127.0.0.1), not the host
 * asked for (checked against Go 1.19: test/integration/go-words-interop.test.ts); Node's error
 * carries that address when the connection was attempted.
 */
export function dialledAddress(failed: NodeJS.ErrnoException, asked: string): string {
  const { address, port } = failed as NodeJS.ErrnoException & { address?: string; port?: number };
  return address && port !== undefined ? (net.isIPv6(address) ? `[${address}]:${port}` : `${address}:${port}`) : asked;
}

/** A TLS client connection over the record tap, judged as a Go client with libs' settings judges it. */
export interface GoTlsConnection {
  readonly tap: ClientTap;
  readonly socket: tls.TLSSocket;
  /** Warnings libs logs while verifying the server's chain. */
  readonly warnings: string[];
  /** Node's first error on the socket, if any. */
  nodeError(): NodeJS.ErrnoException | undefined;
  noteError(error: NodeJS.ErrnoException): void;
}

/** Starts the client handshake on `raw` for `host` (SNI and verification name). */
export function startGoTls(raw: net.Socket, settings: GoClientTls, host: string, release: GoRelease): GoTlsConnection {
  const warnings: string[] = [];
  const tap = new ClientTap(raw, {
    verifyServer: (chain) => verifyServer(chain, settings, host, warnings, release),
    handshakeLimit: goHandshakeLimit(release),
    malformed: (fault) => goMalformedHandshake(fault, release),
    ...(settings.certificate && settings.sendCertificate !== 'always'
      ? { sendClientCertificate: (req: CertificateRequestInfo) => acceptable(settings.certificate!, req) }
      : {}),
  });
  const socket = tls.connect({
    socket: tap,
    // Go sends SNI only for host names; Node would warn about an IP here.
    servername: net.isIP(host) ? '' : host,
    rejectUnauthorized: false,
    secureContext: clientContext(settings.certificate, settings.versions ?? DEFAULT_VERSIONS),
  });
  tap.attach(socket);
  let first: NodeJS.ErrnoException | undefined;
  socket.on('error', (error: NodeJS.ErrnoException) => { first ??= error; });
  return { tap, socket, warnings, nodeError: () => first, noteError: (error) => { first ??= error; } };
}

/** OpenSSL's SSL_OP_NO_EXTENDED_MASTER_SECRET; see wire/rewrite.ts for why. */
const NO_EXTENDED_MASTER_SECRET = 0x1;

/**
 * Building a context parses the key each time, which cost a tenth of a catalog run: one context
 * per identity and version range serves every connection made with them.
 */
const contexts = new WeakMap<object, Map<string, tls.SecureContext>>();
const NO_IDENTITY = {};

function clientContext(identity: Identity | undefined, versions: VersionRange): tls.SecureContext {
  const byVersions = contexts.get(identity ?? NO_IDENTITY) ?? new Map<string, tls.SecureContext>();
  contexts.set(identity ?? NO_IDENTITY, byVersions);
  const key = `${versions.min}-${versions.max}`;
  let context = byVersions.get(key);
  if (!context) {
    context = tls.createSecureContext({
      minVersion: NODE_VERSION[versions.min],
      maxVersion: NODE_VERSION[versions.max],
      ciphers: GO_CIPHERS,
      ...(identity ? { cert: identity.certPem, key: identity.keyPem, secureOptions: NO_EXTENDED_MASTER_SECRET } : {}),
    });
    byVersions.set(key, context);
  }
  return context;
}

function verifyServer(chainDer: readonly Buffer[], settings: GoClientTls, host: string, warnings: string[], release: GoRelease): Rejection | null {
  let chain: Cert[];
  try {
    chain = chainDer.map((der) => parseCertificate(der));
  } catch (error) {
    return goUnparsableCertificate('server', error as Error);
  }
  const verdict = verifyServerChain(chain, {
    mode: settings.verificationMode ?? 'full',
    roots: settings.certificateAuthorities ? [...settings.certificateAuthorities] : 'system',
    serverName: host,
    ...(settings.caTrustedFingerprint ? { caTrustedFingerprint: settings.caTrustedFingerprint } : {}),
    ...(settings.caSha256 ? { caSha256: [...settings.caSha256] } : {}),
    goVersion: release === '1.19' ? '1.19' : 'current',
  });
  warnings.push(...verdict.warnings);
  // libs' VerifyConnection and Go's own verification both answer a bad certificate the same way.
  return verdict.ok ? null : { alert: ALERT.bad_certificate, error: new GoTlsError(verdict.message ?? 'x509: verification failed') };
}

/** Go's getClientCertificate: send the configured chain only if it is signed by a CA the server lists. */
function acceptable(identity: Identity, request: CertificateRequestInfo): boolean {
  if (request.certificateAuthorities.length === 0) return true;
  return identity.chain.some((cert) => request.certificateAuthorities.some((ca) => ca.equals(cert.rawIssuer)));
}

/** Resolves once the TCP socket is closed. */
export function settled(raw: net.Socket): Promise<void> {
  return raw.destroyed ? Promise.resolve() : new Promise((resolve) => raw.once('close', () => resolve()));
}
