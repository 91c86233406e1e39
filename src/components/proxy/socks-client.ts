import net from 'node:net';
import type { ProxyRoute } from './proxy-url.js';
import { ShortRead, type SocketReader } from './socket-reader.js';

/** RFC 1928 reply codes by the names x/net's socksReply.String gives them. */
export const SOCKS_REPLY: Readonly<Record<number, string>> = {
  0x00: 'succeeded',
  0x01: 'general SOCKS server failure',
  0x02: 'connection not allowed by ruleset',
  0x03: 'network unreachable',
  0x04: 'host unreachable',
  0x05: 'connection refused',
  0x06: 'TTL expired',
  0x07: 'command not supported',
  0x08: 'address type not supported',
};

export function socksReplyName(code: number): string {
  return SOCKS_REPLY[code] ?? `unknown code: ${code}`;
}

/**
 * The client half of SOCKS5 as net/http's bundled x/net dialer speaks it (socks_bundle.go):
 * methods "no auth", plus username/password (RFC 1929) when the URL has user info; then
 * CONNECT with an IP or a host name. Errors are its texts, without the `socks connect` prefix.
 */
export async function socksConnect(socket: net.Socket, reader: SocketReader, proxy: ProxyRoute, targetAddr: string): Promise<{ error?: string; reply?: string }> {
  const withAuth = Boolean(proxy.url.username || proxy.url.password);
  try {
    socket.write(Buffer.from(withAuth ? [5, 2, 0x00, 0x02] : [5, 1, 0x00]));
    const [version, method] = await reader.read(2);
    if (version !== 5) return { error: `unexpected protocol version ${version}` };
    if (method === 0xff) return { error: 'no acceptable authentication methods' };
    if (withAuth && method === 0x02) {
      const user = Buffer.from(decodeURIComponent(proxy.url.username));
      const password = Buffer.from(decodeURIComponent(proxy.url.password));
      if (user.length > 255 || password.length > 255) return { error: 'invalid username/password' };
      socket.write(Buffer.concat([Buffer.from([1, user.length]), user, Buffer.from([password.length]), password]));
      const status = await reader.read(2);
      if (status[0] !== 1) return { error: 'invalid username/password version' };
      if (status[1] !== 0) return { error: 'username/password authentication failed' };
    }
    const at = targetAddr.lastIndexOf(':');
    const host = targetAddr.slice(0, at).replace(/^\[|\]$/g, '');
    const port = Number(targetAddr.slice(at + 1));
    socket.write(Buffer.concat([Buffer.from([5, 1, 0]), address(host), Buffer.from([port >> 8, port & 0xff])]));
    const head = await reader.read(4);
    if (head[0] !== 5) return { error: `unexpected protocol version ${head[0]}` };
    if (head[1] !== 0) return { error: `unknown error ${socksReplyName(head[1]!)}`, reply: socksReplyName(head[1]!) };
    if (head[2] !== 0) return { error: 'non-zero reserved field' };
    const length = head[3] === 1 ? 4 : head[3] === 4 ? 16 : head[3] === 3 ? (await reader.read(1))[0]! : -1;
    if (length < 0) return { error: `unknown address type ${head[3]}` };
    await reader.read(length + 2);
    return { reply: 'succeeded' };
  } catch (error) {
    return { error: error instanceof ShortRead ? error.message : (error as Error).message };
  }
}

function address(host: string): Buffer {
  if (net.isIPv4(host)) return Buffer.from([1, ...host.split('.').map(Number)]);
  if (net.isIPv6(host)) {
    const socket = new net.SocketAddress({ address: host, family: 'ipv6' });
    return Buffer.concat([Buffer.from([4]), ipv6Bytes(socket.address)]);
  }
  const name = Buffer.from(host);
  return Buffer.concat([Buffer.from([3, name.length]), name]);
}

function ipv6Bytes(address: string): Buffer {
  const [head = '', tail = ''] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = address.includes('::') && tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return Buffer.from(groups.flatMap((g: string) => { const n = parseInt(g, 16); return [n >> 8, n & 0xff]; }));
}
