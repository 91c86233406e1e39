/**
 * Why a TLS-terminating proxy passed nothing upstream, worded by who refused whom on its front
 * connection: a client that refused the proxy (its certificate, in the handshake) sent no request
 * at all, which is not the proxy answering it; only a proxy that refused its client answered it
 * itself (nginx's 400 page after the handshake).
 */
export function nothingForwarded(
  client: 'the agent' | 'Fleet Server',
  front: { readonly rejectedBy: 'client' | 'server' | null; readonly phase?: string | null } | undefined,
): string {
  if (front?.rejectedBy === 'client') return `${capital(client)} refused the proxy in the TLS handshake, so no request reached the proxy to pass on`;
  if (front?.rejectedBy === 'server') {
    return front.phase === 'handshake' ? `the proxy refused ${client} in the TLS handshake and forwarded nothing` : `the proxy answered ${client} itself and forwarded nothing`;
  }
  return 'no request reached the proxy, so it forwarded nothing';
}

/** The same from a doctor's predicted outcome of the front leg (nginx refuses at the HTTP layer). */
export function nothingForwardedPredicted(client: 'the agent' | 'Fleet Server', outcome: 'ok' | 'rejected-by-client' | 'rejected-by-server' | 'not-attempted'): string {
  return nothingForwarded(client, outcome === 'rejected-by-client' ? { rejectedBy: 'client' } : outcome === 'rejected-by-server' ? { rejectedBy: 'server', phase: 'http' } : undefined);
}

function capital(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
