import type tls from 'node:tls';

/**
 * What Node's TLS socket tells a proxy about the peer it connected to, read the same way by each
 * proxy's upstream (secure-upstream.ts, intercept-upstream.ts) and by the forward-proxy client
 * (proxy-dialer.ts).
 */

/** The chain the peer presented, leaf first, as DER; Node links a self-signed root to itself, so a repeat ends it. */
export function peerChainDer(socket: tls.TLSSocket): Buffer[] {
  const chain: Buffer[] = [];
  for (let cert = socket.getPeerCertificate(true); cert?.raw && !chain.some((c) => c.equals(cert.raw)); cert = cert.issuerCertificate) chain.push(cert.raw);
  return chain;
}

/**
 * OpenSSL's verify result for the peer's chain against the socket's CAs, as its code
 * (`UNABLE_TO_VERIFY_LEAF_SIGNATURE`...), or undefined when it verified. Node declares
 * `authorizationError` an Error but sets the code string; either is read.
 */
export function authorizationCode(socket: tls.TLSSocket): string | undefined {
  const reason = socket.authorizationError as unknown as string | Error | null | undefined;
  if (!reason) return undefined;
  return typeof reason === 'string' ? reason : (reason as NodeJS.ErrnoException).code ?? reason.message;
}
