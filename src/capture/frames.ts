/**
 * Ethernet, IPv4/IPv6 and TCP headers around recorded payloads, so a capture reads as one TCP
 * stream per connection (RFC 791, RFC 8200, RFC 9293). Checksums are real: a reader that
 * validates them finds nothing to flag.
 */
import net from 'node:net';

export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

const CLIENT_MAC = Buffer.from('02000000000a', 'hex');
const SERVER_MAC = Buffer.from('02000000000b', 'hex');

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

export interface Segment {
  readonly from: Endpoint;
  readonly to: Endpoint;
  readonly fromClient: boolean;
  readonly seq: number;
  readonly ack: number;
  readonly flags: number;
  readonly payload: Buffer;
}

/** `127.0.0.1:8220`, `[::1]:8220` or `::1:8220` (Node's local address), to address and port. */
export function parseEndpoint(text: string): Endpoint | undefined {
  const colon = text.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const address = text.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(text.slice(colon + 1));
  if (!net.isIP(address) || !Number.isInteger(port) || port < 0 || port > 65535) return undefined;
  return { address, port };
}

export function frame(segment: Segment): Buffer {
  const v6 = net.isIPv6(segment.from.address);
  const tcp = tcpHeader(segment);
  const ip = v6 ? ipv6Header(segment, tcp.length + segment.payload.length) : ipv4Header(segment, tcp.length + segment.payload.length);
  const pseudo = v6 ? pseudoHeader6(segment, tcp.length + segment.payload.length) : pseudoHeader4(segment, tcp.length + segment.payload.length);
  tcp.writeUInt16BE(checksum(Buffer.concat([pseudo, tcp, segment.payload])), 16);
  const ethernet = Buffer.concat([segment.fromClient ? SERVER_MAC : CLIENT_MAC, segment.fromClient ? CLIENT_MAC : SERVER_MAC, Buffer.from([v6 ? 0x86 : 0x08, v6 ? 0xdd : 0x00])]);
  return Buffer.concat([ethernet, ip, tcp, segment.payload]);
}

function tcpHeader(segment: Segment): Buffer {
  const header = Buffer.alloc(20);
  header.writeUInt16BE(segment.from.port, 0);
  header.writeUInt16BE(segment.to.port, 2);
  header.writeUInt32BE(segment.seq >>> 0, 4);
  header.writeUInt32BE(segment.flags & TCP_ACK ? segment.ack >>> 0 : 0, 8);
  header[12] = 5 << 4;
  header[13] = segment.flags;
  header.writeUInt16BE(65535, 14);
  return header;
}

function ipv4Header(segment: Segment, length: number): Buffer {
  const header = Buffer.alloc(20);
  header[0] = 0x45;
  header.writeUInt16BE(20 + length, 2);
  header.writeUInt16BE(0x4000, 6); // don't fragment
  header[8] = 64;
  header[9] = 6;
  address4(segment.from.address).copy(header, 12);
  address4(segment.to.address).copy(header, 16);
  header.writeUInt16BE(checksum(header), 10);
  return header;
}

function ipv6Header(segment: Segment, length: number): Buffer {
  const header = Buffer.alloc(40);
  header.writeUInt32BE(6 << 28, 0);
  header.writeUInt16BE(length, 4);
  header[6] = 6;
  header[7] = 64;
  address6(segment.from.address).copy(header, 8);
  address6(segment.to.address).copy(header, 24);
  return header;
}

function pseudoHeader4(segment: Segment, length: number): Buffer {
  const header = Buffer.alloc(12);
  address4(segment.from.address).copy(header, 0);
  address4(segment.to.address).copy(header, 4);
  header[9] = 6;
  header.writeUInt16BE(length, 10);
  return header;
}

function pseudoHeader6(segment: Segment, length: number): Buffer {
  const header = Buffer.alloc(40);
  address6(segment.from.address).copy(header, 0);
  address6(segment.to.address).copy(header, 16);
  header.writeUInt32BE(length, 32);
  header[39] = 6;
  return header;
}

function address4(text: string): Buffer {
  return Buffer.from(text.split('.').map(Number));
}

function address6(text: string): Buffer {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(text);
  if (mapped) return Buffer.concat([Buffer.from('00000000000000000000ffff', 'hex'), address4(mapped[1]!)]);
  const [head = '', tail = ''] = text.split('::');
  const groups = (part: string) => (part ? part.split(':') : []);
  const left = groups(head);
  const right = text.includes('::') ? groups(tail) : [];
  const all = [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  const out = Buffer.alloc(16);
  all.forEach((group, i) => out.writeUInt16BE(parseInt(group, 16) || 0, i * 2));
  return out;
}

/** The Internet checksum (RFC 1071). */
function checksum(bytes: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < bytes.length; i += 2) sum += bytes.readUInt16BE(i);
  if (bytes.length % 2) sum += bytes[bytes.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
