/**
 * The request heads Go's net/http server refuses before any handler runs, and the exact bytes it
 * answers them with (Go 1.19, net/http/server.go `conn.readRequest` and `conn.serve`,
 * net/textproto/reader.go `ReadMIMEHeader`, net/http/request.go `readRequest`): Fleet Server's
 * 400s for a missing or malformed Host, a header name or value with bytes HTTP does not allow,
 * a header line without a colon. Both of the fake Fleet Server's paths use it: the tapped path
 * behind node:http (whose own answers differ: it writes no body and accepts a second Host), and
 * the load's direct path.
 */
import { GO_BAD_REQUEST } from '../dialects/go.js';
import { GO_MAX_HEAD_BYTES, GO_TOO_LARGE, GO_VERSION_NOT_SUPPORTED, TOKEN, goErrorAnswer, goEarlyAnswer, goHeadForNode, goRequestLine, goTrim } from './go-request-line.js';

/** What Go writes for a refused head: `400 Bad Request`, with its reason when Go gives one (a `badRequestError`). */
function goBadRequest(reason: string | undefined): string {
  return reason === undefined ? GO_BAD_REQUEST : goErrorAnswer(`400 Bad Request: ${reason}`);
}
/** httpguts `ValidHeaderFieldValue`: no control byte but tab (DEL included); obs-text (0x80-0xff) passes. */
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;
/** httpguts `ValidHostHeader`: the bytes a Host value may hold. */
const HOST = /^[0-9A-Za-z!$%&'()*+,\-.:;=[\]_~]*$/;

/**
 * Why Go refuses a head (its lines without the final CRLF CRLF, decoded as latin1): a reason for
 * `goBadRequest`, `null` for a plain `400 Bad Request` (an error that is not a badRequestError),
 * or undefined when Go reads it (what comes after is the handler's). The request line is judged
 * elsewhere (request-target.ts); only HTTP/1.x lines are read here.
 */
function goHeadRefusal(lines: readonly string[]): string | null | undefined {
  const head = goFields(lines);
  if (head === null) return null;
  const [method = '', , version = ''] = lines[0]?.split(' ') ?? [];
  return goFieldsRefusal(method, version, head.fields);
}

/** A head's fields as net/textproto reads them, and whether every line was a field of its own. */
interface GoFields {
  /** Names as sent, values without their leading and trailing blanks. */
  readonly fields: ReadonlyArray<readonly [string, string]>;
  /** No continuation line was folded and no line with an empty name skipped. */
  readonly plain: boolean;
}

/**
 * The fields after the request line, read as textproto's ReadMIMEHeader does; null for its plain
 * error (a line without a colon, a continuation line before any field).
 */
function goFields(lines: readonly string[]): GoFields | null {
  const fields: Array<[string, string]> = [];
  let plain = true;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const first = line.charCodeAt(0);
    if (first === 0x20 || first === 0x09) {
      // A continuation line folds into the field before it; on the first field, a plain error.
      const last = fields.at(-1);
      if (!last) return null;
      // textproto's trim (ASCII blanks only: a latin1 0xA0 stays, as JavaScript's trim would not leave it).
      last[1] = `${last[1]} ${goTrim(line)}`;
      plain = false;
      continue;
    }
    const colon = line.indexOf(':');
    // textproto: `malformed MIME header line`, a plain error.
    if (colon < 0) return null;
    // textproto skips a field with an empty name, value unread.
    if (colon === 0) {
      plain = false;
      continue;
    }
    // textproto strips the value's leading blanks and the line's trailing ones.
    fields.push([line.slice(0, colon), blanksTrimmed(line, colon + 1)]);
  }
  return { fields, plain };
}

/** `line` from `from` on, without leading and trailing spaces and tabs (textproto's trim of a value). */
export function blanksTrimmed(line: string, from: number): string {
  let start = from;
  let end = line.length;
  while (start < end && (line.charCodeAt(start) === 0x20 || line.charCodeAt(start) === 0x09)) start++;
  while (end > start && (line.charCodeAt(end - 1) === 0x20 || line.charCodeAt(end - 1) === 0x09)) end--;
  return start === 0 && end === line.length ? line : line.slice(start, end);
}

/** Names already seen to be tokens: a load sends the same few on every request. */
const tokenNames = new Set<string>();

function isToken(name: string): boolean {
  if (tokenNames.has(name)) return true;
  if (!TOKEN.test(name)) return false;
  if (tokenNames.size > 1_000) tokenNames.clear();
  tokenNames.add(name);
  return true;
}

/** ProtoAtLeast(1, 1): HTTP/1.2 to 1.9 need a Host too. */
const HOST_REQUIRED = /^HTTP\/1\.[1-9]$/;

/** goHeadRefusal's verdict on fields goFields read, in one pass over them. */
function goFieldsRefusal(method: string, version: string, fields: ReadonlyArray<readonly [string, string]>): string | null | undefined {
  let hosts = 0;
  let host = '';
  let badName = false;
  let badValue = false;
  for (const [name, value] of fields) {
    // A name that is not a token is not canonicalised, so `Host ` is not a Host field.
    if (!isToken(name)) badName = true;
    else if (name.length === 4 && name.toLowerCase() === 'host') {
      hosts++;
      host = value;
    }
    if (!badValue && BAD_VALUE.test(value)) badValue = true;
  }
  // request.go readRequest: `too many Host headers`, a plain error.
  if (hosts > 1) return null;
  if (hosts === 0 && method !== 'CONNECT' && HOST_REQUIRED.test(version)) return 'missing required Host header';
  if (hosts === 1 && !HOST.test(host)) return 'malformed Host header';
  // Go ranges over a map here, so with both faults either reason may come: names are judged first.
  if (badName) return 'invalid header name';
  if (badValue) return 'invalid header value';
  return undefined;
}

/** The head at the start of `data` (before its CRLF CRLF), or undefined when it is not all there. */
function headLines(data: Buffer): string[] | undefined {
  const end = data.indexOf('\r\n\r\n');
  return end < 0 ? undefined : data.subarray(0, end).toString('latin1').split('\r\n');
}

/** What node:http's parser tells of a head it refused (the `clientError` event's error). */
export interface ParserError extends Error {
  readonly code?: string;
  readonly reason?: string;
  /** The chunk it was parsing, and how far into it the fault lies. */
  readonly rawPacket?: Buffer;
  readonly bytesParsed?: number;
}

/** A request line goHeadRefusal can judge the head after: `METHOD target HTTP/1.x`. */
const REQUEST_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ \S+ HTTP\/1\.\d$/;

/**
 * Go's refusal of a head node:http's parser refused first, as for `goHeadRefusal`; undefined
 * when it is not a header fault or Go would read the head (a folded line, an empty field name:
 * read as Go reads them before node:http sees a connection's first head, go-head-gate.ts, and
 * on the direct path; a later head on a kept-alive tapped connection just closes).
 */
function goParserRefusal(error: ParserError): string | null | 'too large' | undefined {
  const raw = error.rawPacket;
  const lines = raw ? headLines(raw) : undefined;
  // A head past what node:http was told to read (Go's limit, or near it): Go's 431, not a 400.
  if (error.code === 'HPE_HEADER_OVERFLOW') return 'too large';
  // request.go parseRequestLine cuts at the first two spaces: a line without exactly three parts is
  // `malformed HTTP request` or `malformed HTTP version`, plain errors (a plain 400).
  if (lines && lines[0]!.split(' ').length !== 3) return null;
  if (error.code !== 'HPE_INVALID_HEADER_TOKEN') return undefined;
  // The whole head in the chunk (the usual case): judged as Go reads it.
  if (lines && REQUEST_LINE.test(lines[0]!)) return goHeadRefusal(lines);
  // A head that came in pieces: llhttp stops at the first bad byte of a name or a value.
  if (/value char/i.test(error.reason ?? '')) return 'invalid header value';
  if (error.reason === 'Invalid header token') {
    const byte = raw?.[error.bytesParsed ?? -1];
    // The line ended before a colon: textproto's malformed line, a plain 400.
    return byte === 0x0d || byte === 0x0a ? null : 'invalid header name';
  }
  return undefined;
}

/**
 * A server's own refusals of request heads, for both of a listener's paths: the bytes to write
 * before closing, or undefined to serve the request.
 */
export interface HeadRules {
  /** A head node:http (or the direct path) read whole, as lines without the final CRLF CRLF. */
  refuse(lines: readonly string[]): string | undefined;
  /** A head node:http's parser refused: the answer, or undefined to close without one. */
  refuseUnparsed(error: ParserError): string | undefined;
  /** The longest head the server reads, its CRLF CRLF included (node:http is told to read as much). */
  readonly maxHeadBytes?: number;
  /**
   * A head still coming in (`data`: all of it received so far; `headEnd`: where its CRLF CRLF
   * is, or -1): the answer the server gives before reading it whole, or undefined to wait.
   * Called when a chunk brings the first LF, and once `maxHeadBytes` have come.
   */
  early?(data: Buffer, headEnd: number): string | undefined;
  /** `data` (a head, then what follows it) as node:http's parser must read it to see what the server reads. */
  forNode?(data: Buffer): Buffer;
  /** The answer to a client that ends its side with part of a head sent. */
  readonly cutShort?: string;
  /**
   * refuse() for the direct path, in one pass over the head: the refusal, or the fields as the
   * server reads them (every name a token and no value with a control byte, when it accepts).
   */
  read(lines: readonly string[]): { readonly refusal: string } | GoFields;
}

/** `METHOD target HTTP/1.x` with no control byte in the target: a line Go reads and serves as HTTP/1.x. */
const USUAL_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ [\x21-\x7e\x80-\xff]+ HTTP\/1\.\d$/;

/** Go's net/http server's rules (Fleet Server). */
export const GO_HEAD_RULES: HeadRules = {
  refuse(lines) {
    const read = GO_HEAD_RULES.read(lines);
    return 'refusal' in read ? read.refusal : undefined;
  },
  read(lines) {
    // readRequest: the request line, then the fields (plain errors), then the version, then Host and the fields' bytes.
    // The usual line passes the line's checks and the version's without being cut up.
    const first = lines[0] ?? '';
    const line = USUAL_LINE.test(first) ? undefined : goRequestLine(first) ?? null;
    if (line === null) return { refusal: GO_BAD_REQUEST };
    const head = goFields(lines);
    if (head === null) return { refusal: GO_BAD_REQUEST };
    const [method = '', , version = ''] = first.split(' ');
    const reason = goFieldsRefusal(method, version, head.fields);
    if (reason === null) return { refusal: GO_BAD_REQUEST };
    // http1ServerSupportsRequest: HTTP/1.x, or the HTTP/2 preface's `PRI * HTTP/2.0`.
    if (line && line.version.major !== 1 && !(line.version.major === 2 && line.version.minor === 0 && line.method === 'PRI' && line.target === '*')) return { refusal: GO_VERSION_NOT_SUPPORTED };
    return reason === undefined ? head : { refusal: goBadRequest(reason) };
  },
  refuseUnparsed(error) {
    const reason = goParserRefusal(error);
    if (reason === 'too large') return GO_TOO_LARGE;
    return reason === undefined ? undefined : goBadRequest(reason ?? undefined);
  },
  maxHeadBytes: GO_MAX_HEAD_BYTES,
  early: (data, headEnd) => goEarlyAnswer(data, headEnd, GO_BAD_REQUEST),
  forNode: goHeadForNode,
  // readRequest turns io.EOF after the first byte into io.ErrUnexpectedEOF, which conn.serve answers with a plain 400.
  cutShort: GO_BAD_REQUEST,
};
