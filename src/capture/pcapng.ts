/**
 * A pcapng file of every leg's bytes: one TCP stream per connection (handshake, the recorded
 * payload both ways at its recorded time, FIN), and a Decryption Secrets Block holding the key
 * log, so Wireshark decrypts with no setup. Block layouts: the pcapng specification
 * (IETF draft-ietf-opsawg-pcapng), sections 4.1 (SHB), 4.2 (IDB), 4.3 (EPB), 4.7 (DSB).
 */
import type { Leg } from '../report/leg.js';
import { connectionsOf, keylogText, type LegWire } from './wire.js';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, frame, parseEndpoint, type Endpoint } from './frames.js';

const LINKTYPE_ETHERNET = 1;
const SECRETS_TLS_KEY_LOG = 0x544c534b;
/** Payload per synthesised segment: well under IPv4's 64 KiB datagram. */
const SEGMENT = 16_000;
const EMPTY: Buffer = Buffer.alloc(0);

interface Packet {
  readonly micros: bigint;
  readonly data: Buffer;
  readonly comment?: string;
}

export function pcapng(legs: readonly Leg[]): Buffer {
  const blocks = [sectionHeader(), interfaceDescription()];
  const secrets = keylogText(legs);
  if (secrets) blocks.push(decryptionSecrets(Buffer.from(secrets, 'latin1')));
  const used = new Set<string>();
  let spare = 40_000;
  const packets: Packet[] = [];
  for (const { leg, wire } of connectionsOf(legs)) {
    const server = parseEndpoint(wire.remote) ?? { address: '127.0.0.1', port: 443 };
    let client = parseEndpoint(wire.local) ?? { address: server.address, port: spare++ };
    // A reused client port would merge two connections in a reader's eyes: give it a fresh one.
    while (used.has(`${client.address}|${client.port}|${server.port}`)) client = { ...client, port: spare++ };
    used.add(`${client.address}|${client.port}|${server.port}`);
    packets.push(...stream(wire, client, server, `${leg.from} → ${leg.to}${leg.stage === 'policy' ? ' (policy)' : ''} ${leg.url}`));
  }
  packets.sort((a, b) => (a.micros < b.micros ? -1 : a.micros > b.micros ? 1 : 0));
  for (const packet of packets) blocks.push(enhancedPacket(packet));
  return Buffer.concat(blocks);
}

function stream(wire: LegWire, client: Endpoint, server: Endpoint, comment: string): Packet[] {
  const base = BigInt(wire.timeline.startedAt) * 1000n;
  const at = (ms: number) => base + BigInt(Math.round(ms * 1000));
  // Fixed initial sequence numbers: each stream is told apart by its ports, not by them.
  let clientSeq = 1_000;
  let serverSeq = 5_000;
  const packets: Packet[] = [];
  const push = (ms: number, fromClient: boolean, flags: number, payload: Buffer = EMPTY, note?: string) => {
    const from = fromClient ? client : server;
    const to = fromClient ? server : client;
    const seq = fromClient ? clientSeq : serverSeq;
    const ack = fromClient ? serverSeq : clientSeq;
    packets.push({ micros: at(ms), data: frame({ from, to, fromClient, seq, ack, flags, payload }), ...(note ? { comment: note } : {}) });
    const advance = payload.length + (flags & (TCP_SYN | TCP_FIN) ? 1 : 0);
    if (fromClient) clientSeq += advance;
    else serverSeq += advance;
  };
  push(0, true, TCP_SYN, undefined, comment);
  push(0, false, TCP_SYN | TCP_ACK);
  push(0, true, TCP_ACK);
  let last = 0;
  for (const chunk of wire.timeline.wire) {
    for (let offset = 0; offset < chunk.bytes.length; offset += SEGMENT) {
      push(chunk.at, chunk.sender === 'client', TCP_PSH | TCP_ACK, chunk.bytes.subarray(offset, offset + SEGMENT));
    }
    last = Math.max(last, chunk.at);
  }
  const events = wire.timeline.events;
  const reset = events.find((event) => event.what === 'Reset');
  const end = Math.max(last, ...events.map((event) => event.at));
  if (reset) push(reset.at, reset.sender === 'client', TCP_RST | TCP_ACK);
  else {
    push(end, true, TCP_FIN | TCP_ACK);
    push(end, false, TCP_FIN | TCP_ACK);
  }
  return packets;
}

function block(type: number, body: Buffer): Buffer {
  const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
  const out = Buffer.alloc(12 + padded.length);
  out.writeUInt32LE(type, 0);
  out.writeUInt32LE(out.length, 4);
  padded.copy(out, 8);
  out.writeUInt32LE(out.length, out.length - 4);
  return out;
}

function sectionHeader(): Buffer {
  const body = Buffer.alloc(16);
  body.writeUInt32LE(0x1a2b3c4d, 0);
  body.writeUInt16LE(1, 4);
  body.writeUInt16LE(0, 6);
  body.writeBigInt64LE(-1n, 8); // section length not given
  return block(0x0a0d0d0a, body);
}

function interfaceDescription(): Buffer {
  const body = Buffer.alloc(8);
  body.writeUInt16LE(LINKTYPE_ETHERNET, 0);
  body.writeUInt32LE(0, 4); // no snap length limit
  return block(0x00000001, body);
}

function decryptionSecrets(secrets: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32LE(SECRETS_TLS_KEY_LOG, 0);
  head.writeUInt32LE(secrets.length, 4);
  return block(0x0000000a, Buffer.concat([head, secrets, Buffer.alloc((4 - (secrets.length % 4)) % 4)]));
}

function enhancedPacket(packet: Packet): Buffer {
  const head = Buffer.alloc(20);
  head.writeUInt32LE(0, 0); // interface 0
  head.writeUInt32LE(Number(packet.micros >> 32n), 4);
  head.writeUInt32LE(Number(packet.micros & 0xffffffffn), 8);
  head.writeUInt32LE(packet.data.length, 12);
  head.writeUInt32LE(packet.data.length, 16);
  const data = Buffer.concat([packet.data, Buffer.alloc((4 - (packet.data.length % 4)) % 4)]);
  return block(0x00000006, Buffer.concat([head, data, packet.comment ? options([[1, Buffer.from(packet.comment, 'utf8')]]) : Buffer.alloc(0)]));
}

function options(list: readonly [number, Buffer][]): Buffer {
  const parts: Buffer[] = [];
  for (const [code, value] of list) {
    const head = Buffer.alloc(4);
    head.writeUInt16LE(code, 0);
    head.writeUInt16LE(value.length, 2);
    parts.push(head, value, Buffer.alloc((4 - (value.length % 4)) % 4));
  }
  parts.push(Buffer.alloc(4)); // opt_endofopt
  return Buffer.concat(parts);
}
