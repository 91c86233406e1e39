/**
 * Go's encoding/pem Decode, because what libs and crypto/tls accept is decided by it: a
 * block starts at the beginning of the input or of a line, headers are `Key: Value` lines,
 * and `rest` begins after the END line (its line ending included). A block whose base64 or
 * END line is broken is skipped and decoding resumes after its BEGIN line.
 */
export interface PemBlock {
  readonly type: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly bytes: Buffer;
}

const BEGIN = '-----BEGIN ';
const END = '\n-----END ';
const TAIL = '-----';

/** Go's getLine: the line without its ending and trailing spaces or tabs, and what follows. */
function getLine(data: string): [string, string] {
  const i = data.indexOf('\n');
  const [line, rest] = i < 0 ? [data, ''] : [data.slice(0, i), data.slice(i + 1)];
  return [line.replace(/[ \t\r]+$/, ''), rest];
}

/** One pem.Decode: the first block and the text after it, or null when there is none. */
export function pemDecode(data: string): { block: PemBlock; rest: string } | null {
  let rest: string;
  if (data.startsWith(BEGIN)) rest = data.slice(BEGIN.length);
  else {
    const i = data.indexOf(`\n${BEGIN}`);
    if (i < 0) return null;
    rest = data.slice(i + 1 + BEGIN.length);
  }
  const [typeLine, afterType] = getLine(rest);
  if (!typeLine.endsWith(TAIL)) return retry(afterType);
  const type = typeLine.slice(0, -TAIL.length);
  rest = afterType;
  const headers: Record<string, string> = {};
  for (;;) {
    if (rest.length === 0) return null;
    const [line, next] = getLine(rest);
    const colon = line.indexOf(':');
    if (colon < 0) break;
    headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
    rest = next;
  }
  let endIndex: number;
  let endTrailer: string;
  // An empty body: the END line follows the header or BEGIN line directly.
  if (Object.keys(headers).length === 0 && rest.startsWith(END.slice(1))) {
    endIndex = 0;
    endTrailer = rest.slice(END.length - 1);
  } else {
    endIndex = rest.indexOf(END);
    endTrailer = endIndex < 0 ? '' : rest.slice(endIndex + END.length);
  }
  if (endIndex < 0) return retry(afterType);
  const [endLine, after] = getLine(endTrailer);
  if (endLine !== `${type}${TAIL}`) return retry(afterType);
  const body = rest.slice(0, endIndex).replace(/[\s]/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 !== 0) return retry(afterType);
  return { block: { type, headers, bytes: Buffer.from(body, 'base64') }, rest: after };
}

function retry(rest: string): { block: PemBlock; rest: string } | null {
  return pemDecode(rest);
}

/** Every block pem.Decode finds, in order (as crypto/x509's AppendCertsFromPEM walks them). */
export function pemDecodeAll(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  let rest = text;
  for (;;) {
    const next = pemDecode(rest);
    if (!next) return blocks;
    blocks.push(next.block);
    rest = next.rest;
  }
}

/** pem.Encode: 64-column base64, headers (Proc-Type first), then a blank line. */
export function pemEncode(block: { type: string; bytes: Buffer; headers?: Readonly<Record<string, string>> }): string {
  const lines = block.bytes.toString('base64').match(/.{1,64}/g) ?? [];
  const headers = Object.entries(block.headers ?? {});
  const head = headers.length
    ? `${headers.sort(([a], [b]) => (a === 'Proc-Type' ? -1 : b === 'Proc-Type' ? 1 : a.localeCompare(b))).map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n`
    : '';
  return `-----BEGIN ${block.type}-----\n${head}${lines.join('\n')}${lines.length ? '\n' : ''}-----END ${block.type}-----\n`;
}
