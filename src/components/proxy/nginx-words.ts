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

/** What nginx's access log records of one request (ngx_http_log_module's variables). */
export interface AccessRecord {
  readonly client: string;
  /** $request: the request line as the client sent it. */
  readonly request: string;
  readonly status: number;
  /** $body_bytes_sent. */
  readonly bytes: number;
  readonly headers: { readonly authorization?: string | undefined; readonly referer?: string | undefined; readonly 'user-agent'?: string | undefined };
  readonly at?: Date;
}

/**
 * A request's line in nginx's default access log format, `combined` (ngx_http_log_module: `$remote_addr -
 * $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"`),
 * checked against Debian's nginx 1.22 in test/integration/secure-proxy-nginx.test.ts. A variable
 * without a value is `-`; `"`, `\` and bytes outside printable ASCII are written `\xHH` (escape=default).
 */
export function accessLine(record: AccessRecord): string {
  const value = (text: string | undefined) => (text === undefined || text === '' ? '-' : escapeLogged(text));
  return `${value(record.client)} - ${value(basicUser(record.headers.authorization))} [${timeLocal(record.at ?? new Date())}] "${value(record.request)}" `
    + `${record.status} ${record.bytes} "${value(record.headers.referer)}" "${value(record.headers['user-agent'])}"`;
}

function escapeLogged(text: string): string {
  return [...Buffer.from(text, 'latin1')].map((b) => (b < 0x20 || b > 0x7e || b === 0x22 || b === 0x5c ? `\\x${b.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(b))).join('');
}

/** $remote_user: the user of a Basic Authorization header, whatever its password. */
function basicUser(header: string | undefined): string | undefined {
  const match = /^Basic\s+(\S+)/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('latin1');
  return decoded.includes(':') ? decoded.slice(0, decoded.indexOf(':')) : undefined;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** $time_local: `07/Dec/2026:06:47:06 +0000`, in the machine's time zone. */
function timeLocal(at: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  const offset = -at.getTimezoneOffset();
  const zone = `${offset < 0 ? '-' : '+'}${two(Math.floor(Math.abs(offset) / 60))}${two(Math.abs(offset) % 60)}`;
  return `${two(at.getDate())}/${MONTHS[at.getMonth()]}/${at.getFullYear()}:${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())} ${zone}`;
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
