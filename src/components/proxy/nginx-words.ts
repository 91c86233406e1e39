/**
 * nginx's words for the faults a TLS-terminating proxy meets, as nginx 1.22 (Debian's
 * nginx-light, OpenSSL 3) writes them; every line and page here is held against the real nginx
 * in test/integration/secure-proxy-nginx.test.ts.
 */

/** OpenSSL's X509_V_ERR numbers and texts, which nginx prints as `(N:text)`, by Node's error code. */
const VERIFY: Readonly<Record<string, readonly [number, string]>> = {
  UNABLE_TO_GET_ISSUER_CERT: [2, 'unable to get issuer certificate'],
  CERT_NOT_YET_VALID: [9, 'certificate is not yet valid'],
  CERT_HAS_EXPIRED: [10, 'certificate has expired'],
  DEPTH_ZERO_SELF_SIGNED_CERT: [18, 'self-signed certificate'],
  SELF_SIGNED_CERT_IN_CHAIN: [19, 'self-signed certificate in certificate chain'],
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: [20, 'unable to get local issuer certificate'],
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: [21, 'unable to verify the first certificate'],
  INVALID_PURPOSE: [26, 'unsupported certificate purpose'],
  ERR_TLS_CERT_ALTNAME_INVALID: [62, 'hostname mismatch'],
};

export function verifyError(code: string | undefined): string {
  const known = code ? VERIFY[code] : undefined;
  return known ? `(${known[0]}:${known[1]})` : `(1:${code ?? 'unspecified certificate verification error'})`;
}

/** The context nginx appends to a request's error-log line. */
export function requestContext(request: { client: string; method: string; path: string; host: string; upstream?: string }): string {
  return `client: ${request.client}, server: , request: "${request.method} ${request.path} HTTP/1.1"${request.upstream ? `, upstream: "${request.upstream}"` : ''}, host: "${request.host}"`;
}

/** nginx's error page: the status in the title (or the special reason), the status again as h1. */
export function errorPage(status: 400 | 502 | 504, reason?: string): string {
  const text = { 400: 'Bad Request', 502: 'Bad Gateway', 504: 'Gateway Time-out' }[status];
  const title = reason ? `${status} ${reason}` : `${status} ${text}`;
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${status} ${text}</h1></center>\r\n${reason ? `<center>${reason}</center>\r\n` : ''}<hr><center>nginx/1.22.1</center>\r\n</body>\r\n</html>\r\n`;
}

export const NO_CERTIFICATE = 'No required SSL certificate was sent';
export const CERTIFICATE_ERROR = 'The SSL certificate error';
/** The page for a plain HTTP request on the TLS port (nginx's internal 497, answered as 400). */
export const PLAIN_HTTP = 'The plain HTTP request was sent to HTTPS port';

/** The error-log level nginx gives an OpenSSL failure towards an upstream. */
export type NginxLevel = 'error' | 'crit';

/**
 * An OpenSSL failure as nginx's ngx_ssl_connection_error words it: `SSL_do_handshake() failed
 * (SSL: error:0A000412:SSL routines::sslv3 alert bad certificate:SSL alert number 42)`. OpenSSL 3
 * leaves the function name empty. nginx lowers to `error` the reasons a peer can cause (alerts
 * up to no_renegotiation, a wrong version number...) and keeps `crit` for the rest, so TLS 1.3's
 * certificate_required (reason 1116) is `crit` (ngx_event_openssl.c, ngx_ssl_connection_error).
 */
export function opensslFailure(call: 'SSL_do_handshake' | 'SSL_read', nodeMessage: string): { text: string; level: NginxLevel } | undefined {
  const match = /error:([0-9A-F]{8}):SSL routines:[^:]*:([^:]+)(?::[^:\n]*:\d+)?(?::(SSL alert number \d+))?/.exec(nodeMessage);
  if (!match) return undefined;
  const [, code, reason, alert] = match;
  const number = parseInt(code!, 16) & 0xfff;
  const lowered = (number >= 1010 && number <= 1100) || PEER_REASONS.has(number);
  return { text: `${call}() failed (SSL: error:${code}:SSL routines::${reason}${alert ? `:${alert}` : ''})`, level: lowered ? 'error' : 'crit' };
}

/**
 * OpenSSL reasons outside the alert range that nginx also logs at `error`: only the one the suite
 * confirmed (267, wrong version number, an upstream that answers TLS with plain HTTP).
 */
const PEER_REASONS = new Set([267]);
