/**
 * Offline decoding of a captured TLS connection with the wire primitives, the way the
 * interposer will use them: records per direction, handshake reassembly, keys from the key log.
 */
import { ContentType, RecordReader, TLS13, parseAlert, type TlsRecord } from '../../../../src/wire/record.js';
import {
  HandshakeReassembler,
  HandshakeType,
  parseClientHello,
  parseServerHello,
  type ClientHello,
  type HandshakeMessage,
  type ServerHello,
} from '../../../../src/wire/handshake.js';
import { suiteInfo, type SuiteInfo } from '../../../../src/wire/suites.js';
import { SecretStore } from '../../../../src/wire/keylog.js';
import { Tls13RecordProtection } from '../../../../src/wire/tls13.js';
import { Tls12RecordProtection, keyBlock } from '../../../../src/wire/tls12.js';

export type Role = 'client' | 'server';

export interface Side {
  records: TlsRecord[];
  messages: HandshakeMessage[];
  applicationData: Buffer;
  alerts: Array<{ level: number; description: number; encrypted: boolean }>;
  plaintextRecords: number;
  encryptedRecords: number;
  changeCipherSpecs: number;
}

export interface Decoded {
  version: number;
  suite: SuiteInfo;
  helloRetry: boolean;
  clientHellos: ClientHello[];
  serverHello: ServerHello;
  client: Side;
  server: Side;
}

export function records(stream: Buffer): TlsRecord[] {
  const reader = new RecordReader();
  const out = reader.push(stream);
  if (reader.buffered !== 0) throw new Error(`${reader.buffered} bytes of a partial record at the end of the capture`);
  return out;
}

/**
 * The plaintext hellos at the start of a stream, up to and including the first message `last`
 * accepts. Stopping there matters: after a TLS 1.2 ChangeCipherSpec, type-22 records are encrypted.
 */
function leadingMessages(recs: TlsRecord[], last: (m: HandshakeMessage) => boolean): HandshakeMessage[] {
  const reassembler = new HandshakeReassembler();
  const out: HandshakeMessage[] = [];
  for (const r of recs) {
    if (r.type === ContentType.ChangeCipherSpec) continue;
    if (r.type !== ContentType.Handshake) break;
    for (const m of reassembler.push(r.fragment)) {
      out.push(m);
      if (last(m)) return out;
    }
  }
  return out;
}

interface Opener {
  open(record: TlsRecord): { type: number; content: Buffer };
}

export function decode(c2s: Buffer, s2c: Buffer, store: SecretStore): Decoded {
  const clientRecords = records(c2s);
  const serverRecords = records(s2c);
  const isServerHello = (m: HandshakeMessage): boolean => m.type === HandshakeType.ServerHello && !parseServerHello(m.body).isHelloRetryRequest;
  const serverLead = leadingMessages(serverRecords, isServerHello).map((m) => parseServerHello(m.body));
  const serverHello = serverLead.find((h) => !h.isHelloRetryRequest);
  if (!serverHello) throw new Error('no ServerHello in the capture');
  const helloRetry = serverLead.some((h) => h.isHelloRetryRequest);
  let wanted = helloRetry ? 2 : 1;
  const clientHellos = leadingMessages(clientRecords, () => --wanted === 0).map((m) => parseClientHello(m.body));
  const clientRandom = clientHellos[0]!.random;
  const suite = suiteInfo(serverHello.cipherSuite);
  if (!suite) throw new Error(`unknown suite ${serverHello.cipherSuite}`);
  const tls13 = serverHello.selectedVersion === TLS13;

  const secret = (label: string): Buffer => {
    const value = store.get(clientRandom, label);
    if (!value) throw new Error(`key log has no ${label}`);
    return value;
  };
  const opener = (role: Role, stage: 'handshake' | 'application'): Opener => {
    if (tls13) {
      const prefix = role === 'client' ? 'CLIENT' : 'SERVER';
      return new Tls13RecordProtection(suite, secret(stage === 'handshake' ? `${prefix}_HANDSHAKE_TRAFFIC_SECRET` : `${prefix}_TRAFFIC_SECRET_0`));
    }
    const keys = keyBlock(suite, secret('CLIENT_RANDOM'), clientRandom, serverHello.random);
    return role === 'client'
      ? new Tls12RecordProtection(suite, keys.clientKey, keys.clientIv)
      : new Tls12RecordProtection(suite, keys.serverKey, keys.serverIv);
  };

  const side = (role: Role, recs: TlsRecord[]): Side => {
    const out: Side = { records: recs, messages: [], applicationData: Buffer.alloc(0), alerts: [], plaintextRecords: 0, encryptedRecords: 0, changeCipherSpecs: 0 };
    const reassembler = new HandshakeReassembler();
    let protection: Opener | undefined;
    const deliver = (type: number, content: Buffer, encrypted: boolean): void => {
      if (type === ContentType.Handshake) {
        for (const message of reassembler.push(content)) {
          out.messages.push(message);
          // TLS 1.3 switches to the application secret right after the sender's Finished.
          if (tls13 && message.type === HandshakeType.Finished) {
            if (reassembler.buffered !== 0) throw new Error('handshake message split across a key change');
            protection = opener(role, 'application');
          }
        }
      } else if (type === ContentType.ApplicationData) {
        out.applicationData = Buffer.concat([out.applicationData, content]);
      } else if (type === ContentType.Alert) {
        out.alerts.push({ ...parseAlert(content), encrypted });
      } else {
        throw new Error(`unexpected inner content type ${type}`);
      }
    };
    for (const r of recs) {
      if (r.type === ContentType.ChangeCipherSpec) {
        out.changeCipherSpecs++;
        // TLS 1.3's is a middlebox-compatibility dummy; TLS 1.2's starts encryption at sequence 0.
        if (!tls13) protection = opener(role, 'handshake');
        continue;
      }
      const encrypted = tls13 ? r.type === ContentType.ApplicationData : protection !== undefined;
      if (encrypted) {
        protection ??= opener(role, 'handshake');
        const opened = protection.open(r);
        out.encryptedRecords++;
        deliver(opened.type, opened.content, true);
      } else {
        out.plaintextRecords++;
        deliver(r.type, r.fragment, false);
      }
    }
    return out;
  };

  return {
    version: serverHello.selectedVersion,
    suite,
    helloRetry,
    clientHellos,
    serverHello,
    server: side('server', serverRecords),
    client: side('client', clientRecords),
  };
}

export function ofType(messages: HandshakeMessage[], type: number): HandshakeMessage[] {
  return messages.filter((m) => m.type === type);
}

export function indexOfType(messages: HandshakeMessage[], type: number): number {
  const index = messages.findIndex((m) => m.type === type);
  if (index < 0) throw new Error(`no handshake message of type ${type}`);
  return index;
}
