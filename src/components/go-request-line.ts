/**
 * What Go's net/http server decides about a request head before it has judged its fields, and
 * what it reads that node:http's parser does not (Go 1.19):
 * - the request line, judged as soon as it is read (net/http/request.go readRequest:
 *   parseRequestLine, validMethod, ParseHTTPVersion, url.ParseRequestURI), a plain 400 at once,
 *   before any field line has come (`GET /x` with no version is HTTP/0.9 to node:http);
 * - the size of a head: server.go reads at most DefaultMaxHeaderBytes (1 MiB) plus 4096 bytes
 *   of bufio slop (initialReadLimitSize) for it, and answers a longer one with its 431;
 * - a major version other than 1: server.go http1ServerSupportsRequest, a 505 after the head;
 * - folded field lines and empty field names, which net/textproto reads (reader.go
 *   readContinuedLineSlice joins a continuation with one space; readMIMEHeader skips a field
 *   whose name is empty) and node:http refuses: rewritten here into the head Go reads.
 */
import type net from 'node:net';

/** server.go initialReadLimitSize with DefaultMaxHeaderBytes: a head (its CRLF CRLF included) may be this long. */
export const GO_MAX_HEAD_BYTES = (1 << 20) + 4096;

/** conn.serve's answer to a head it refuses: the status, server.go's errorHeaders, the status again as the body. */
export function goErrorAnswer(status: string): string {
  return `HTTP/1.1 ${status}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n${status}`;
}

/** conn.serve's answer to errTooLarge (then closeWriteAndWait). */
export const GO_TOO_LARGE = goErrorAnswer('431 Request Header Fields Too Large');
/** conn.readRequest's statusError for a version net/http/1 does not serve. */
export const GO_VERSION_NOT_SUPPORTED = goErrorAnswer('505 HTTP Version Not Supported: unsupported protocol version');

/** RFC 7230 token characters (golang.org/x/net/http/httpguts `ValidHeaderFieldName`, request.go validMethod). */
export const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** url.ParseRequestURI refuses a control byte anywhere in the target (net/url stringContainsCTLByte). */
const CTL = /[\x00-\x1f\x7f]/;

/** request.go ParseHTTPVersion: `HTTP/X.Y` with one digit each, or undefined when malformed. */
function goHttpVersion(version: string): { major: number; minor: number } | undefined {
  const parts = /^HTTP\/(\d)\.(\d)$/.exec(version);
  return parts ? { major: Number(parts[1]), minor: Number(parts[2]) } : undefined;
}

/**
 * The request line as Go's readRequest cuts it (at the first two spaces), or undefined when Go
 * refuses it as soon as it has read it: too few parts (`malformed HTTP request`), a method that
 * is not a token, a malformed version, an empty target or one with a control byte.
 */
export function goRequestLine(line: string): { method: string; target: string; version: { major: number; minor: number } } | undefined {
  const first = line.indexOf(' ');
  const second = first < 0 ? -1 : line.indexOf(' ', first + 1);
  if (second < 0) return undefined;
  const method = line.slice(0, first);
  const target = line.slice(first + 1, second);
  const version = goHttpVersion(line.slice(second + 1));
  if (!TOKEN.test(method) || !version || target === '' || CTL.test(target)) return undefined;
  return { method, target, version };
}

/**
 * Go's answer to a head still coming in (`data` is all of it received so far, `headEnd` the
 * offset of its CRLF CRLF or -1): its plain 400 once the request line is in and refused, its 431
 * once more than it reads for a head has come without one; undefined to wait for more.
 */
export function goEarlyAnswer(data: Buffer, headEnd: number, plain400: string): string | undefined {
  const lineEnd = data.indexOf(0x0a);
  if (lineEnd >= 0 && lineEnd < GO_MAX_HEAD_BYTES) {
    // textproto's ReadLine drops the LF and a CR before it.
    const line = data.toString('latin1', 0, data[lineEnd - 1] === 0x0d ? lineEnd - 1 : lineEnd);
    if (!goRequestLine(line)) return plain400;
  }
  const within = headEnd >= 0 && headEnd + 4 <= GO_MAX_HEAD_BYTES;
  return !within && data.length >= GO_MAX_HEAD_BYTES ? GO_TOO_LARGE : undefined;
}

/** textproto's trim: the blanks Go strips around a line (space, tab, CR, LF). */
export function goTrim(text: string): string {
  return text.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
}

/**
 * The bytes `data` (a whole head first, then anything after it) with the head as Go reads it,
 * in a form node:http's parser takes: continuation lines folded into the line before with one
 * space, lines with an empty field name dropped, a version HTTP/1.2 to 1.9 read as 1.1 (Go
 * serves them as HTTP/1.x, node:http refuses them). `data` itself when none of that is there,
 * or its head is not whole.
 */
export function goHeadForNode(data: Buffer): Buffer {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return data;
  const head = data.subarray(0, end + 2);
  const lineEnd = head.indexOf('\r\n');
  const odd = head.includes('\r\n ') || head.includes('\r\n\t') || head.includes('\r\n:') || /HTTP\/1\.[2-9]$/.test(head.toString('latin1', 0, lineEnd));
  if (!odd) return data;
  const lines = head.toString('latin1', 0, end).split('\r\n');
  const [request = '', ...fieldLines] = lines;
  const fields: string[] = [];
  // Go trims the first line of a folded field once, then appends each continuation trimmed.
  let folding = false;
  for (const line of fieldLines) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && fields.length > 0) {
      const last = fields.length - 1;
      fields[last] = `${folding ? fields[last] : goTrim(fields[last]!)} ${goTrim(line)}`;
      folding = true;
    } else {
      fields.push(line);
      folding = false;
    }
  }
  const kept = fields.filter((line) => !line.startsWith(':'));
  const requestLine = request.replace(/ HTTP\/1\.[2-9]$/, ' HTTP/1.1');
  return Buffer.concat([Buffer.from([requestLine, ...kept, '', ''].join('\r\n'), 'latin1'), data.subarray(end + 4)]);
}

/**
 * Writes a refusal and closes as Go's conn.serve does: after its 431, closeWriteAndWait (the
 * client reads the answer before the reset its unread bytes bring: rstAvoidanceDelay, 500 ms);
 * after any other, at once.
 */
export function writeAndClose(socket: net.Socket, answer: string): void {
  socket.write(answer);
  if (answer !== GO_TOO_LARGE) return void socket.destroySoon();
  socket.pause();
  socket.end();
  setTimeout(() => socket.destroy(), RST_AVOIDANCE_DELAY_MS).unref();
}

/** server.go rstAvoidanceDelay (Go 1.19). */
const RST_AVOIDANCE_DELAY_MS = 500;
