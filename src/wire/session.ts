import { ContentType, TLS12, TLS13, encodeAlert, encodeRecord, type TlsRecord } from './record.js';
import {
  HandshakeReassembler, HandshakeType, MalformedHandshake, parseClientHello, parseServerHello,
  type HandshakeMessage,
} from './handshake.js';
import { suiteInfo, type SuiteInfo } from './suites.js';
import { parseKeylogLine, SecretStore } from './keylog.js';
import { Tls13RecordProtection } from './tls13.js';
import { keyBlock, Tls12RecordProtection } from './tls12.js';

export type Role = 'client' | 'server';
const TLS10 = 0x0301;
export { TLS12, TLS13 };

type Opener = { open(record: TlsRecord): { type: number; content: Buffer } };

/** What the session tells its owner, in protocol order. */
export interface SessionListener {
  message?(sender: Role, message: HandshakeMessage): void;
  alert?(sender: Role, level: number, description: number, encrypted: boolean): void;
  changeCipherSpec?(sender: Role): void;
  applicationData?(sender: Role, length: number): void;
  /** A record could not be decrypted: the session stops looking inside that direction. */
  opaque?(sender: Role, reason: string): void;
}

interface SenderState {
  reassembler: HandshakeReassembler;
  opener?: Opener;
  /** TLS 1.3 epoch of the sender's next encrypted record; TLS 1.2 has one epoch after CCS. */
  epoch: 'plaintext' | 'handshake' | 'application';
  /** The sender switched to encryption (TLS 1.2 ChangeCipherSpec, or TLS 1.3 after ServerHello). */
  encrypting: boolean;
  finished: boolean;
  appData: boolean;
  opaque: boolean;
}

/**
 * One TLS connection as seen from one end, both directions: the handshake transcript,
 * the negotiated version and suite, and the content of encrypted records, decrypted with
 * the secrets Node's `keylog` event hands over. Records are processed strictly in the
 * order they crossed the wire; one that needs a secret not yet known waits, and so does
 * everything behind it, until the key log catches up.
 */
export class TlsSession {
  readonly secrets = new SecretStore();
  readonly transcript: Array<{ sender: Role; message: HandshakeMessage }> = [];
  version?: number;
  suite?: SuiteInfo;
  clientRandom?: Buffer;
  serverRandom?: Buffer;
  helloRetry = false;
  extendedMasterSecret = false;
  /** After this, post-handshake records are passed over unread: the owner has seen what it needs. */
  stopAfterApplicationData = true;

  private readonly senders: Record<Role, SenderState> = { client: newSender(), server: newSender() };
  private readonly queue: Array<{ sender: Role; record: TlsRecord }> = [];

  constructor(private readonly listener: SessionListener = {}) {}

  /** Holds `sender`'s handshake messages to a real stack's size limits (before any arrives). */
  limitHandshake(sender: Role, limit: (type: number) => number): void {
    this.senders[sender] = { ...this.senders[sender], reassembler: new HandshakeReassembler(limit) };
  }

  /** Feeds one record; returns false if it is waiting for a secret (and is queued). */
  feed(sender: Role, record: TlsRecord): boolean {
    this.queue.push({ sender, record });
    this.drain();
    return this.queue.length === 0;
  }

  addKeylog(line: Buffer | string): void {
    this.secrets.set(parseKeylogLine(line));
    this.drain();
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Whether `sender` has sent application data (after which its records are passed over unread). */
  sentApplicationData(sender: Role): boolean {
    return this.senders[sender].appData;
  }

  /** Whether `sender`'s records are protected now (TLS 1.2 after its ChangeCipherSpec, TLS 1.3 after the ServerHello). */
  encrypting(sender: Role): boolean {
    return this.senders[sender].encrypting;
  }

  handshakeComplete(sender: Role): boolean {
    return this.senders[sender].finished;
  }

  /** The secret for a TLS 1.3 epoch of `sender`, once the key log has given it. */
  trafficSecret(sender: Role, epoch: 'handshake' | 'application'): Buffer | undefined {
    if (!this.clientRandom) return undefined;
    const label = `${sender === 'client' ? 'CLIENT' : 'SERVER'}_${epoch === 'handshake' ? 'HANDSHAKE_TRAFFIC_SECRET' : 'TRAFFIC_SECRET_0'}`;
    return this.secrets.get(this.clientRandom, label);
  }

  /**
   * A fatal alert from `sender` as its next record: in the clear before encryption starts,
   * sealed under the sender's current TLS 1.3 epoch after. Undefined while that epoch's
   * secret is not in the key log yet. Nothing was sent under the epoch before the alert,
   * which holds wherever a Go or Java peer refuses a handshake.
   */
  sealAlert(sender: Role, description: number, earlyVersion = TLS10, level = 2): { record: Buffer; encrypted: boolean } | undefined {
    const content = encodeAlert(description, level);
    // Before a version is chosen Go writes records as TLS 1.0 (conn.go writeRecordLocked); JSSE as 1.2.
    if (this.version !== TLS13 || !this.suite) return { record: encodeRecord(ContentType.Alert, this.version ? TLS12 : earlyVersion, content), encrypted: false };
    const secret = this.trafficSecret(sender, this.handshakeComplete(sender) ? 'application' : 'handshake');
    return secret ? { record: new Tls13RecordProtection(this.suite, secret).seal(ContentType.Alert, content), encrypted: true } : undefined;
  }

  masterSecret(): Buffer | undefined {
    return this.clientRandom ? this.secrets.get(this.clientRandom, 'CLIENT_RANDOM') : undefined;
  }

  private drain(): void {
    while (this.queue.length > 0) {
      const { sender, record } = this.queue[0]!;
      if (!this.process(sender, record)) return;
      this.queue.shift();
    }
  }

  /** False when the record needs a secret the key log has not given yet. */
  private process(sender: Role, record: TlsRecord): boolean {
    const state = this.senders[sender];
    if (record.type === ContentType.ChangeCipherSpec) {
      // TLS 1.3 sends a dummy one for middleboxes; only TLS 1.2's switches encryption on.
      if (this.version !== TLS13) state.encrypting = true;
      this.listener.changeCipherSpec?.(sender);
      return true;
    }
    if (!state.encrypting || (this.version === TLS13 && record.type !== ContentType.ApplicationData)) {
      this.deliver(sender, record.type, record.fragment, false);
      return true;
    }
    if (state.opaque || (state.appData && this.stopAfterApplicationData)) {
      if (record.type === ContentType.ApplicationData) this.listener.applicationData?.(sender, record.fragment.length);
      return true;
    }
    const opener = state.opener ?? this.openerFor(sender);
    if (!opener) return false;
    state.opener = opener;
    let opened: { type: number; content: Buffer };
    try {
      opened = opener.open(record);
    } catch (error) {
      state.opaque = true;
      this.listener.opaque?.(sender, (error as Error).message);
      return true;
    }
    this.deliver(sender, opened.type, opened.content, true);
    return true;
  }

  private openerFor(sender: Role): Opener | undefined {
    const state = this.senders[sender];
    if (!this.suite) return undefined;
    if (this.version === TLS13) {
      const secret = this.trafficSecret(sender, state.epoch === 'application' ? 'application' : 'handshake');
      return secret ? new Tls13RecordProtection(this.suite, secret) : undefined;
    }
    const master = this.masterSecret();
    if (!master || !this.clientRandom || !this.serverRandom || !this.suite.aead) return undefined;
    const keys = keyBlock(this.suite, master, this.clientRandom, this.serverRandom);
    return sender === 'client'
      ? new Tls12RecordProtection(this.suite, keys.clientKey, keys.clientIv)
      : new Tls12RecordProtection(this.suite, keys.serverKey, keys.serverIv);
  }

  private deliver(sender: Role, type: number, content: Buffer, encrypted: boolean): void {
    const state = this.senders[sender];
    switch (type) {
      case ContentType.Handshake:
        for (const message of state.reassembler.push(content)) {
          try {
            this.onMessage(sender, message);
          } catch (error) {
            throw error instanceof MalformedHandshake ? error : new MalformedHandshake(message, error);
          }
        }
        return;
      case ContentType.Alert:
        this.listener.alert?.(sender, content[0] ?? 0, content[1] ?? 0, encrypted);
        return;
      case ContentType.ApplicationData:
        state.appData = true;
        this.listener.applicationData?.(sender, content.length);
        return;
      default:
        return;
    }
  }

  private onMessage(sender: Role, message: HandshakeMessage): void {
    const state = this.senders[sender];
    // NewSessionTicket and KeyUpdate come after the handshake and are not part of its transcript.
    const postHandshake = state.finished && (message.type === HandshakeType.NewSessionTicket || message.type === HandshakeType.KeyUpdate);
    if (!postHandshake) this.transcript.push({ sender, message });
    if (message.type === HandshakeType.ClientHello) {
      this.clientRandom = parseClientHello(message.body).random;
    } else if (message.type === HandshakeType.ServerHello) {
      const hello = parseServerHello(message.body);
      if (hello.isHelloRetryRequest) {
        this.helloRetry = true;
      } else {
        this.serverRandom = hello.random;
        this.version = hello.selectedVersion;
        this.suite = suiteInfo(hello.cipherSuite);
        this.extendedMasterSecret = hello.extendedMasterSecret;
        if (this.version === TLS13) {
          // From here on both sides encrypt with their handshake traffic secrets.
          for (const s of Object.values(this.senders)) {
            s.encrypting = true;
            s.epoch = 'handshake';
          }
        }
      }
    } else if (message.type === HandshakeType.Finished && !state.finished) {
      state.finished = true;
      if (this.version === TLS13) {
        state.epoch = 'application';
        state.opener = undefined;
      }
    }
    this.listener.message?.(sender, message);
  }
}

function newSender(): SenderState {
  return { reassembler: new HandshakeReassembler(), epoch: 'plaintext', encrypting: false, finished: false, appData: false, opaque: false };
}
