import { HandshakeType, parseCertificateRequest, parseClientHello, parseServerHello, type HandshakeMessage } from './handshake.js';
import { suiteInfo } from './suites.js';
import { TLS13, type Role, type TlsSession } from './session.js';

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

export interface Timeline {
  readonly events: TimelineEvent[];
  add(sender: Role, what: string, detail?: Record<string, unknown>): void;
  addMessage(sender: Role, message: HandshakeMessage, session: TlsSession): void;
}

/** What crossed the wire, in order: the raw material of a per-leg handshake picture. */
export function newTimeline(): Timeline {
  const start = performance.now();
  const events: TimelineEvent[] = [];
  const add = (sender: Role, what: string, detail?: Record<string, unknown>) =>
    events.push({ at: Math.round((performance.now() - start) * 100) / 100, sender, what, ...(detail ? { detail } : {}) });
  return {
    events,
    add,
    addMessage(sender, message, session) {
      const name = MESSAGE_NAMES[message.type] ?? `Handshake(${message.type})`;
      add(sender, name, describe(message, session));
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
    case HandshakeType.CertificateRequest:
      return { certificateAuthorities: parseCertificateRequest(message.body, session.version === TLS13).certificateAuthorities.length };
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
