/**
 * TLS 1.3 key derivation and record protection (RFC 8446 §7, §5.2-5.4).
 *
 * The harness never runs the key schedule from a shared secret: Node's key log hands over the
 * traffic secrets, so this file starts from those. HKDF-Expand is written out because
 * node:crypto only offers extract-and-expand in one call.
 */
import { createHash, createHmac, type Hash } from 'node:crypto';
import { HarnessError } from '../errors.js';
import { Remembered } from '../remember.js';
import { ContentType, MAX_PLAINTEXT, TLS12, protocolError, recordHeader, type TlsRecord } from './record.js';
import { HandshakeType, HELLO_RETRY_REQUEST_RANDOM } from './handshake.js';
import { aeadOpen, aeadSeal, hashLength, requireAead, TAG_LENGTH, xorSequence, type AeadName, type HashName, type SuiteInfo } from './suites.js';

export function hkdfExtract(hash: HashName, salt: Buffer, ikm: Buffer): Buffer {
  return createHmac(hash, salt).update(ikm).digest();
}

/** RFC 5869 §2.3. */
export function hkdfExpand(hash: HashName, prk: Buffer, info: Buffer, length: number): Buffer {
  const size = hashLength(hash);
  if (length > 255 * size) throw new HarnessError('FTH_INTERNAL', `HKDF-Expand cannot produce ${length} bytes`);
  const blocks: Buffer[] = [];
  let previous = Buffer.alloc(0);
  for (let i = 1; blocks.length * size < length; i++) {
    previous = createHmac(hash, prk).update(previous).update(info).update(Buffer.from([i])).digest();
    blocks.push(previous);
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/** RFC 8446 §7.1: HKDF-Expand with the HkdfLabel structure and the "tls13 " prefix. */
export function hkdfExpandLabel(hash: HashName, secret: Buffer, label: string, context: Buffer, length: number): Buffer {
  const fullLabel = Buffer.from(`tls13 ${label}`, 'latin1');
  if (fullLabel.length > 255 || context.length > 255) throw new HarnessError('FTH_INTERNAL', 'HkdfLabel field too long');
  const info = Buffer.alloc(2 + 1 + fullLabel.length + 1 + context.length);
  info.writeUInt16BE(length, 0);
  info.writeUInt8(fullLabel.length, 2);
  fullLabel.copy(info, 3);
  info.writeUInt8(context.length, 3 + fullLabel.length);
  context.copy(info, 4 + fullLabel.length);
  return hkdfExpand(hash, secret, info, length);
}

/** Derive-Secret(Secret, Label, Messages) with the transcript hash already computed. */
export function deriveSecret(hash: HashName, secret: Buffer, label: string, transcriptHash: Buffer): Buffer {
  return hkdfExpandLabel(hash, secret, label, transcriptHash, hashLength(hash));
}

export const TLS13_IV_LENGTH = 12;

/**
 * Keys already derived, by suite and secret: both taps of a connection made in this process
 * read the same key log secrets, and derived every key twice. Bounded: a long run forgets.
 */
const derived = new Remembered<string, { key: Buffer; iv: Buffer }>(64);

export function trafficKeys(suite: SuiteInfo, secret: Buffer): { key: Buffer; iv: Buffer } {
  const keys = derived.get(`${suite.iana}:${secret.toString('base64')}`, () => ({
    key: hkdfExpandLabel(suite.hash, secret, 'key', Buffer.alloc(0), suite.keyLength),
    iv: hkdfExpandLabel(suite.hash, secret, 'iv', Buffer.alloc(0), TLS13_IV_LENGTH),
  }));
  // Copies: a caller may change what it is handed (a forger's test does), never the memo.
  return { key: Buffer.from(keys.key), iv: Buffer.from(keys.iv) };
}

/** RFC 8446 §7.2: the secret that follows a KeyUpdate. */
export function nextTrafficSecret(suite: SuiteInfo, secret: Buffer): Buffer {
  return hkdfExpandLabel(suite.hash, secret, 'traffic upd', Buffer.alloc(0), hashLength(suite.hash));
}

/** TLSCiphertext.length limit: 2^14 plaintext + type byte + up to 255 bytes of AEAD expansion. */
export const MAX_TLS13_CIPHERTEXT = MAX_PLAINTEXT + 256;

/**
 * One direction's record protection under one traffic secret. `sequence` is the number of the
 * next record; it is public so an interposer that lets some records pass untouched can account
 * for them (or start a forged record at a chosen number).
 */
export class Tls13RecordProtection {
  sequence = 0n;
  readonly suite: SuiteInfo;
  private readonly aead: AeadName;
  private readonly key: Buffer;
  private readonly iv: Buffer;

  constructor(suite: SuiteInfo, trafficSecret: Buffer) {
    if (!suite.tls13) throw new HarnessError('FTH_WIRE_UNSUPPORTED', `${suite.iana} is not a TLS 1.3 suite`);
    this.suite = suite;
    this.aead = requireAead(suite);
    ({ key: this.key, iv: this.iv } = trafficKeys(suite, trafficSecret));
  }

  /** A full TLSCiphertext record carrying `content` of `innerType`, padded with zeros. */
  seal(innerType: number, content: Buffer, padding = 0): Buffer {
    if (!Number.isInteger(padding) || padding < 0) throw new HarnessError('FTH_INTERNAL', `padding ${padding} is not a byte count`);
    if (content.length > MAX_PLAINTEXT || content.length + 1 + padding > MAX_PLAINTEXT + 1) {
      throw protocolError(`TLS 1.3 record content of ${content.length} bytes plus ${padding} padding is too long`);
    }
    const inner = Buffer.concat([content, Buffer.from([innerType & 0xff]), Buffer.alloc(padding)]);
    const header = recordHeader(ContentType.ApplicationData, TLS12, inner.length + TAG_LENGTH);
    const sealed = aeadSeal(this.aead, this.key, this.nonce(), header, inner);
    this.sequence++;
    return Buffer.concat([header, sealed]);
  }

  /** Decrypts and strips padding; throws FTH_WIRE_PROTOCOL when authentication fails. */
  open(record: TlsRecord): { type: number; content: Buffer } {
    const opened = this.tryOpen(record);
    if (!opened) throw protocolError(`TLS 1.3 record ${this.sequence} failed authentication (${this.suite.iana})`);
    return opened;
  }

  /**
   * Like open, but an authentication failure returns undefined and leaves `sequence` alone,
   * for trial decryption when the caller is unsure which key a record is under.
   */
  tryOpen(record: TlsRecord): { type: number; content: Buffer } | undefined {
    if (record.type !== ContentType.ApplicationData) {
      throw protocolError(`TLS 1.3 protected record has outer type ${record.type}, expected 23`);
    }
    const length = record.fragment.length;
    if (length < TAG_LENGTH + 1 || length > MAX_TLS13_CIPHERTEXT) throw protocolError(`TLS 1.3 record length ${length} out of range`);
    // The AAD is the record header as sent, whatever legacy_record_version it claims.
    const aad = recordHeader(record.type, record.version, length);
    const inner = aeadOpen(this.aead, this.key, this.nonce(), aad, record.fragment);
    if (!inner) return undefined;
    this.sequence++;
    let end = inner.length - 1;
    while (end >= 0 && inner[end] === 0) end--;
    if (end < 0) throw protocolError('TLS 1.3 record has no content type (all padding)');
    if (end > MAX_PLAINTEXT) throw protocolError(`TLS 1.3 record content of ${end} bytes exceeds 2^14`);
    return { type: inner[end]!, content: inner.subarray(0, end) };
  }

  private nonce(): Buffer {
    // RFC 8446 §5.5: the sequence must not wrap; a peer would rekey long before this.
    if (this.sequence >= 0xffffffffffffffffn) throw protocolError('TLS 1.3 sequence number exhausted');
    return xorSequence(this.iv, this.sequence);
  }
}

/** RFC 8446 §4.4.4: HMAC(finished_key, transcript hash up to but excluding this Finished). */
export function finishedVerifyData(suite: SuiteInfo, baseTrafficSecret: Buffer, transcriptHash: Buffer): Buffer {
  const finishedKey = hkdfExpandLabel(suite.hash, baseTrafficSecret, 'finished', Buffer.alloc(0), hashLength(suite.hash));
  return createHmac(suite.hash, finishedKey).update(transcriptHash).digest();
}

/** RFC 8446 §4.4.1: the synthetic message that replaces ClientHello1 after a HelloRetryRequest. */
export function messageHash(suite: SuiteInfo, clientHello1: Buffer): Buffer {
  const digest = createHash(suite.hash).update(clientHello1).digest();
  return Buffer.concat([Buffer.from([HandshakeType.MessageHash, 0, 0, digest.length]), digest]);
}

/**
 * Transcript-Hash over raw messages (headers included) in protocol order. With `helloRetry`,
 * the first message is ClientHello1 and is replaced by its message_hash.
 */
export function tls13Transcript(suite: SuiteInfo, rawMessagesInOrder: Buffer[], helloRetry: boolean): Buffer {
  const hash = createHash(suite.hash);
  rawMessagesInOrder.forEach((raw, i) => {
    hash.update(i === 0 && helloRetry && raw[0] === HandshakeType.ClientHello ? messageHash(suite, raw) : raw);
  });
  return hash.digest();
}

function isHelloRetryRequest(raw: Buffer | undefined): boolean {
  return raw !== undefined && raw[0] === HandshakeType.ServerHello && raw.subarray(6, 38).equals(HELLO_RETRY_REQUEST_RANDOM);
}

/** Transcript-Hash that notices a HelloRetryRequest in second place by itself. */
export function transcriptHash(suite: SuiteInfo, messages: Buffer[]): Buffer {
  return tls13Transcript(suite, messages, isHelloRetryRequest(messages[1]));
}

/**
 * An incremental transcript: the interposer adds messages as they cross and asks for the hash
 * at each Finished without rehashing from the start. Works for TLS 1.2 too (no HRR there).
 */
export class RunningTranscript {
  private hash: Hash;
  private count = 0;
  /** Kept only while a HelloRetryRequest could still turn it into message_hash. */
  private clientHello1: Buffer | undefined;

  constructor(private readonly suite: SuiteInfo) {
    this.hash = createHash(suite.hash);
  }

  add(raw: Buffer): void {
    if (this.clientHello1 && isHelloRetryRequest(raw)) {
      this.hash = createHash(this.suite.hash).update(messageHash(this.suite, this.clientHello1));
    }
    this.clientHello1 = this.count === 0 && raw[0] === HandshakeType.ClientHello ? raw : undefined;
    this.count++;
    this.hash.update(raw);
  }

  digest(): Buffer {
    return this.hash.copy().digest();
  }
}
