/**
 * The alert forgery the interposer will do, done from a test relay: forward the server's
 * records until its Finished has passed (decrypting them with the server's key log), swallow
 * everything Node's server sends after that, and write a forged alert in their place.
 */
import { ContentType, RecordReader, encodeAlert, type TlsRecord } from '../../../../src/wire/record.js';
import { HandshakeReassembler, HandshakeType, parseServerHello } from '../../../../src/wire/handshake.js';
import { suiteInfo, type SuiteInfo } from '../../../../src/wire/suites.js';
import { SecretStore, parseKeylogLine } from '../../../../src/wire/keylog.js';
import { Tls13RecordProtection } from '../../../../src/wire/tls13.js';
import { Tls12RecordProtection, keyBlock } from '../../../../src/wire/tls12.js';
import type { ServerChunkHook, ToClient } from './live.js';

export function forgeAfterServerFinished(version: 'TLSv1.2' | 'TLSv1.3', description: number, sequence: bigint) {
  return (serverKeylog: Buffer[]): { hook: ServerChunkHook; onSecureConnect: () => void } => {
    const reader = new RecordReader();
    const reassembler = new HandshakeReassembler();
    const store = new SecretStore();
    let clientRandom: Buffer | undefined;
    let serverRandom: Buffer | undefined;
    let suite: SuiteInfo | undefined;
    let opener: { open(r: TlsRecord): { type: number; content: Buffer } } | undefined;
    let finished = false;
    let toClient: ToClient | undefined;
    // Node has emitted every key log line the bytes in hand depend on: see the ordering notes.
    const secret = (label: string): Buffer => {
      for (const line of serverKeylog.splice(0)) {
        const entry = parseKeylogLine(line);
        clientRandom ??= entry.clientRandom;
        store.set(entry);
      }
      const value = store.get(clientRandom!, label);
      if (!value) throw new Error(`server has not logged ${label} yet`);
      return value;
    };
    const tls12Keys = () => keyBlock(suite!, secret('CLIENT_RANDOM'), clientRandom!, serverRandom!);
    const hook: ServerChunkHook = (chunk, write) => {
      toClient = write;
      const forward: Buffer[] = [];
      for (const record of reader.push(chunk)) {
        if (finished) continue;
        forward.push(record.raw);
        let content: Buffer | undefined;
        if (record.type === ContentType.ChangeCipherSpec) {
          if (version === 'TLSv1.2') opener = new Tls12RecordProtection(suite!, tls12Keys().serverKey, tls12Keys().serverIv);
        } else if (opener || record.type === ContentType.ApplicationData) {
          opener ??= new Tls13RecordProtection(suite!, secret('SERVER_HANDSHAKE_TRAFFIC_SECRET'));
          content = opener.open(record).content;
        } else if (record.type === ContentType.Handshake) {
          content = record.fragment;
        }
        for (const message of content ? reassembler.push(content) : []) {
          if (message.type === HandshakeType.ServerHello) {
            const hello = parseServerHello(message.body);
            serverRandom = hello.random;
            suite = suiteInfo(hello.cipherSuite);
          }
          if (message.type === HandshakeType.Finished) finished = true;
        }
      }
      return Buffer.concat(forward);
    };
    const onSecureConnect = (): void => {
      const alert = encodeAlert(description);
      let forged: Buffer;
      if (version === 'TLSv1.3') {
        const protection = new Tls13RecordProtection(suite!, secret('SERVER_TRAFFIC_SECRET_0'));
        protection.sequence = sequence;
        forged = protection.seal(ContentType.Alert, alert);
      } else {
        const keys = tls12Keys();
        const protection = new Tls12RecordProtection(suite!, keys.serverKey, keys.serverIv);
        protection.sequence = sequence;
        forged = protection.seal(ContentType.Alert, alert);
      }
      // Node keeps a socket open after a post-handshake alert (it only emits 'error'), while Go
      // closes the connection right after sending one: do what Go does.
      toClient!(forged, true);
    };
    return { hook, onSecureConnect };
  };
}

