import net from 'node:net';
import os from 'node:os';

/**
 * What tinyproxy 1.11 sends on, recorded from Debian's tinyproxy with a recording server behind
 * it (test/integration/forward-proxy-parent.test.ts): the request line (origin form to the
 * target itself, absolute form `http://HOST:PORT/PATH` to an `Upstream http` parent, CONNECT as
 * the client gave it), then the client's Host, `Connection: close`, its own Via, and the client's
 * other headers in their order without the hop-by-hop ones (reqs.c's skipheaders and the names
 * the Connection headers list). A Proxy-Authorization that BasicAuth consumed stays behind.
 */
const HOP_BY_HOP = new Set(['host', 'connection', 'proxy-connection', 'keep-alive', 'te', 'trailers', 'upgrade']);

export const TINYPROXY_VERSION = 'tinyproxy/1.11.1';

export interface UpstreamTarget {
  readonly host: string;
  readonly port: number;
  /** Origin-form path and query ('' for CONNECT). */
  readonly path: string;
}

export function upstreamRequest(
  method: string, target: UpstreamTarget, version: string, headerLines: readonly string[],
  options: { readonly viaParent: boolean; readonly authConsumed: boolean },
): string {
  const minor = /^HTTP\/1\.(\d)$/.exec(version)?.[1] ?? '0';
  const named = (line: string) => line.slice(0, Math.max(0, line.indexOf(':'))).trim().toLowerCase();
  const value = (line: string) => line.slice(line.indexOf(':') + 1).trim();
  const listed = new Set(headerLines
    .filter((l) => ['connection', 'proxy-connection'].includes(named(l)))
    .flatMap((l) => value(l).split(',').map((t) => t.trim().toLowerCase())));
  const host = headerLines.find((l) => named(l) === 'host');
  const kept = headerLines.filter((l) => {
    const name = named(l);
    return name !== '' && !HOP_BY_HOP.has(name) && !listed.has(name) && !(options.authConsumed && name === 'proxy-authorization');
  });
  // tinyproxy prints the host without brackets, an IPv6 literal included (`http://::1:9200/`).
  const line = method === 'CONNECT'
    ? `CONNECT ${target.host}:${target.port}`
    : options.viaParent ? `${method} http://${target.host}:${target.port}${target.path || '/'}` : `${method} ${target.path || '/'}`;
  const head = [
    `${line} HTTP/1.${minor}`,
    ...(host ? [`Host: ${value(host)}`] : []),
    'Connection: close',
    `Via: ${via(minor)}`,
    ...kept,
  ];
  return `${head.join('\r\n')}\r\n\r\n`;
}

/** tinyproxy's own Via entry, with the client's HTTP version (`1.1 vm (tinyproxy/1.11.1)`). */
const via = (minor: string) => `1.${minor} ${os.hostname()} (${TINYPROXY_VERSION})`;

/** Headers tinyproxy 1.11 drops from a server's answer (reqs.c, process_server_headers' skipheaders), besides Connection and what it lists. */
const ANSWER_SKIPPED = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'via']);

/**
 * The answer head tinyproxy 1.11 gives the client of a plain (non-CONNECT) request, recorded from
 * Debian's tinyproxy 1.11.1 (test/integration/forward-proxy-parent.test.ts): the server's status
 * line as it came, then `Via:` (the server's first Via, if any, then tinyproxy's own entry with the
 * client's HTTP version), then the server's headers in their order, each name once (1.11's header
 * table keeps the first: a second Set-Cookie is lost), values without leading blanks, and without
 * the hop-by-hop ones.
 */
export function answerHead(head: Buffer, clientVersion: string): Buffer {
  const minor = /^HTTP\/1\.(\d)$/.exec(clientVersion)?.[1] ?? '0';
  const [status = '', ...lines] = head.toString('latin1').replace(/\r?\n\r?\n$/, '').split(/\r?\n/);
  const first = new Map<string, { name: string; value: string }>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    if (!first.has(name.toLowerCase())) first.set(name.toLowerCase(), { name, value: line.slice(colon + 1).replace(/^[ \t]+/, '') });
  }
  const listed = new Set((first.get('connection')?.value ?? '').split(',').map((t) => t.trim().toLowerCase()));
  const upstreamVia = first.get('via')?.value;
  const kept = [...first].filter(([key]) => !ANSWER_SKIPPED.has(key) && !listed.has(key)).map(([, h]) => `${h.name}: ${h.value}`);
  const out = [status, `Via: ${upstreamVia ? `${upstreamVia}, ` : ''}${via(minor)}`, ...kept];
  return Buffer.from(`${out.join('\r\n')}\r\n\r\n`, 'latin1');
}

/**
 * The parent's answer head as tinyproxy's process_server_headers waits for it: bytes up to the
 * blank line, and what followed. `undefined` when the parent closed or the head grew past 64 KiB.
 */
export function readAnswerHead(socket: net.Socket): Promise<{ head: Buffer; rest: Buffer } | undefined> {
  return new Promise((resolve) => {
    let buffer = Buffer.alloc(0);
    const done = (result: { head: Buffer; rest: Buffer } | undefined) => {
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.pause();
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const end = buffer.indexOf('\r\n\r\n');
      if (end >= 0) done({ head: buffer.subarray(0, end + 4), rest: buffer.subarray(end + 4) });
      else if (buffer.length > 65_536) done(undefined);
    };
    const onClose = () => done(undefined);
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.resume();
  });
}
