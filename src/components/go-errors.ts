import { ALERT } from '../wire/alerts.js';
import type { ClientTap } from '../wire/tap.js';
import { HTTPS_TO_HTTP_ERROR, remoteError, socketError } from '../dialects/go.js';
import { GO_DEADLINE, type GoDeadline } from './go-http.js';

/**
 * Go's error text for what a client saw, as the caller reads it after unwrapping `*url.Error`.
 * Every failure of a request is shaped here, from what crossed the wire and what Node said.
 */

/** A failed TCP dial (net.Dialer): Go names the address it dialled. */
export function dialError(error: NodeJS.ErrnoException, remote: string): string {
  return error.code === 'ECONNREFUSED' ? socketError('refused', '', remote) : `dial tcp ${remote}: ${error.message}`;
}

/**
 * http.Client.Timeout passed before the response headers (the agent's and Beats' clients, libs
 * httpcommon `timeout`): net/http client.go appends its note to the context's error. Checked
 * against Go 1.19 (test/integration/go-words-interop.test.ts), both with the server silent
 * during the handshake and after it.
 */
export const clientTimeout = (ms: number): GoDeadline => ({ ms, error: 'context deadline exceeded (Client.Timeout exceeded while awaiting headers)' });

/**
 * Transport.ResponseHeaderTimeout passed (Fleet Server's Elasticsearch transport sets it to
 * `output.elasticsearch.timeout`, fleet-server internal/pkg/config/output.go): net/http
 * transport.go's errTimeout. go-elasticsearch calls RoundTrip, so no `*url.Error` wraps it.
 */
export const responseHeaderTimeout = (ms: number): GoDeadline => ({ ms, error: 'net/http: timeout awaiting response headers' });

/** A plain-HTTP request that failed: a TLS server answering it gives Go a malformed response or EOF. */
export function plainHttpError(error: NodeJS.ErrnoException): string {
  return error.code === 'HPE_INVALID_CONSTANT' ? 'net/http: HTTP/1.x transport connection broken: malformed HTTP response' : 'EOF';
}

/** A TLS request that got no response: the client's own rejection, the server's alert, or the socket's end. */
export function tlsRequestError(tap: ClientTap, nodeError: NodeJS.ErrnoException | undefined, local: string, remote: string): string {
  if (tap.rejection?.by === 'client') return tap.rejection.error.message;
  if (nodeError?.code === GO_DEADLINE) return nodeError.message;
  const fatal = tap.alerts.find((a) => a.sender === 'server' && a.description !== ALERT.close_notify);
  if (fatal) return remoteError(fatal.description);
  if (tap.peerNotTls && tap.peerNotTls.subarray(0, 5).toString('latin1') === 'HTTP/') return HTTPS_TO_HTTP_ERROR;
  if (tap.peerClose === 'reset' || nodeError?.code === 'ECONNRESET') return socketError('reset', local, remote);
  if (nodeError?.code === 'ETIMEDOUT') return 'context deadline exceeded';
  return socketError('eof', local, remote);
}

/** A client that never sent its ClientHello learns only that the server closed. */
export function stalledError(local: string, remote: string): string {
  return socketError('eof', local, remote);
}
