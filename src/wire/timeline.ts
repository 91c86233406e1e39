import { HandshakeType, parseCertificateRequest, parseClientHello, parseServerHello, type HandshakeMessage } from './handshake.js';
import { suiteInfo } from './suites.js';
import { TLS13, type Role, type TlsSession } from './session.js';
import { nameToString } from '../x509/certificate.js';
import { Remembered } from '../remember.js';

const MESSAGE_NAMES: Readonly<Record<number, string>> = {
  [HandshakeType.ClientHello]: 'ClientHello',
  [HandshakeType.ServerHello]: 'ServerHello',
  [HandshakeType.NewSessionTicket]: 'NewSessionTicket',
  [HandshakeType.EncryptedExtensions]: 'EncryptedExtensions',
  [HandshakeType.Certificate]: 'Certificate',
  [HandshakeType.ServerKeyExchange]: 'ServerKeyExchange',
  [HandshakeType.CertificateRequest]: 'CertificateRequest',
  [HandshakeType.ServerHelloDone]: 'ServerHelloDone',
  [HandshakeType.CertificateVerify]: 'CertificateVerify',
  [HandshakeType.ClientKeyExchange]: 'ClientKeyExchange',
  [HandshakeType.Finished]: 'Finished',
  [HandshakeType.KeyUpdate]: 'KeyUpdate',
};

export interface TimelineEvent {
  /** Milliseconds since the connection's first byte. */
  readonly at: number;
  readonly sender: Role;
  readonly what: string;
  readonly detail?: Readonly<Record<string, unknown>>;
}

/** The bytes one side put on the TCP connection at one moment (for pcapng captures). */
export interface WireChunk {
  readonly at: number;
  readonly sender: Role;
  readonly bytes: Buffer;
}

export interface Timeline {
  readonly events: TimelineEvent[];
  /** performance.now() at the first byte: lines up timelines of the two ends of one connection. */
  readonly start: number;
  /** Date.now() at the same moment, for captures' absolute timestamps. */
  readonly startedAt: number;
  /** The TCP payload both ways, in order, up to WIRE_LIMIT bytes (not part of the JSON report). */
  readonly wire: WireChunk[];
  /** The NSS key log lines of this connection (without newlines), in the order OpenSSL gave them. */
  readonly keylog: string[];
  add(sender: Role, what: string, detail?: Record<string, unknown>): void;
  addMessage(sender: Role, message: HandshakeMessage, session: TlsSession): void;
  /** Bytes `sender` wrote to the socket. */
  bytes(sender: Role, chunk: Buffer): void;
  addKeylog(line: Buffer | string): void;
  /** A component wrote `line` about this connection now. */
  log(sender: Role, component: string, line: string): void;
}

/**
 * Enough for every handshake and the first requests; a long-lived connection (a load test's
 * held checkin) stops recording there instead of growing.
 */
export const WIRE_LIMIT = 256 * 1024;

/** What crossed the wire, in order: the raw material of a per-leg handshake picture. */
export function newTimeline(): Timeline {
  const start = performance.now();
  const events: TimelineEvent[] = [];
  const wire: WireChunk[] = [];
  const keylog: string[] = [];
  let recorded = 0;
  const now = () => Math.round((performance.now() - start) * 100) / 100;
  const add = (sender: Role, what: string, detail?: Record<string, unknown>) =>
    events.push({ at: now(), sender, what, ...(detail ? { detail } : {}) });
  return {
    events,
    start,
    startedAt: Date.now(),
    wire,
    keylog,
    add,
    addMessage(sender, message, session) {
      const name = MESSAGE_NAMES[message.type] ?? `Handshake(${message.type})`;
      add(sender, name, describe(message, session));
    },
    bytes(sender, chunk) {
      if (chunk.length === 0 || recorded >= WIRE_LIMIT) return;
      const kept = chunk.subarray(0, WIRE_LIMIT - recorded);
      recorded += kept.length;
      wire.push({ at: now(), sender, bytes: Buffer.from(kept) });
    },
    addKeylog(line) {
      const text = (typeof line === 'string' ? line : line.toString('latin1')).trim();
      if (text && !keylog.includes(text)) keylog.push(text);
    },
    log(sender, component, line) {
      add(sender, 'Log', { component, line });
    },
  };
}

function describe(message: HandshakeMessage, session: TlsSession): Record<string, unknown> | undefined {
  switch (message.type) {
    case HandshakeType.ClientHello: {
      const hello = parseClientHello(message.body);
      return { serverName: hello.serverName ?? null, versions: hello.supportedVersions.map(versionName), alpn: hello.alpn };
    }
    case HandshakeType.ServerHello: {
      const hello = parseServerHello(message.body);
      if (hello.isHelloRetryRequest) return { helloRetryRequest: true };
      return { version: versionName(hello.selectedVersion), cipher: suiteInfo(hello.cipherSuite)?.iana ?? hello.cipherSuite };
    }
    case HandshakeType.CertificateRequest: {
      const names = parseCertificateRequest(message.body, session.version === TLS13).certificateAuthorities;
      return { certificateAuthorities: names.length, names: names.map(caName) };
    }
    case HandshakeType.Certificate: {
      // Empty from a client that withholds its certificate (or has none): the ladder shows that.
      return { certificates: certificateCount(message.body, session.version === TLS13) };
    }
    default:
      return undefined;
  }
}

export function versionName(version: number): string {
  switch (version) {
    case 0x0304: return '1.3';
    case 0x0303: return '1.2';
    case 0x0302: return '1.1';
    case 0x0301: return '1.0';
    default: return `0x${version.toString(16)}`;
  }
}

/**
 * CA names already printed, by their DER: a server lists the same few names in every
 * CertificateRequest, and both taps of a connection print them (a tenth of a fixture's tap work).
 */
const caNames = new Remembered<string, string>(256);

function caName(der: Buffer): string {
  return caNames.get(der.toString('latin1'), () => {
    try {
      return nameToString(der);
    } catch {
      return `(${der.length}-byte name that does not parse)`;
    }
  });
}

/** How many certificates a Certificate message carries, without parsing them. */
function certificateCount(body: Buffer, tls13: boolean): number {
  try {
    return countCertificates(body, tls13);
  } catch {
    return 0;
  }
}

function countCertificates(body: Buffer, tls13: boolean): number {
  let offset = tls13 ? 1 + body[0]! : 0;
  const end = Math.min(body.length, offset + 3 + body.readUIntBE(offset, 3));
  offset += 3;
  let count = 0;
  while (offset + 3 <= end) {
    offset += 3 + body.readUIntBE(offset, 3);
    if (tls13 && offset + 2 <= end) offset += 2 + body.readUInt16BE(offset);
    count++;
  }
  return count;
}
