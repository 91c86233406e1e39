/**
 * TLS 1.2 PRF, key block and AEAD record protection (RFC 5246 §5 and §6.3, RFC 5288 for
 * AES-GCM, RFC 7905 for ChaCha20-Poly1305), starting from the master secret that Node's key
 * log gives as CLIENT_RANDOM. That line carries the master secret whether or not Extended
 * Master Secret (RFC 7627) was negotiated, so nothing here needs to know which.
 */
import { createHmac } from 'node:crypto';
import { HarnessError } from '../errors.js';
import { Remembered } from '../remember.js';
import { MAX_PLAINTEXT, TLS12, encodeRecord, protocolError, type TlsRecord } from './record.js';
import { encodeHandshake, HandshakeType } from './handshake.js';
import { aeadOpen, aeadSeal, requireAead, TAG_LENGTH, xorSequence, type AeadName, type HashName, type SuiteInfo } from './suites.js';

/** RFC 5246 §5: PRF(secret, label, seed) = P_<hash>(secret, label + seed). */
export function prf(hash: HashName, secret: Buffer, label: string, seed: Buffer, length: number): Buffer {
  const labelSeed = Buffer.concat([Buffer.from(label, 'latin1'), seed]);
  const blocks: Buffer[] = [];
  let total = 0;
  let a = labelSeed; // A(0)
  while (total < length) {
    a = createHmac(hash, secret).update(a).digest();
    const block = createHmac(hash, secret).update(a).update(labelSeed).digest();
    blocks.push(block);
    total += block.length;
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/** GCM keeps a 4-byte implicit salt and sends 8 bytes per record; ChaCha20 derives all 12. */
export function fixedIvLength(aead: AeadName): number {
  return aead === 'chacha20-poly1305' ? 12 : 4;
}

function tls12Aead(suite: SuiteInfo): AeadName {
  if (suite.tls13) throw new HarnessError('FTH_WIRE_UNSUPPORTED', `${suite.iana} is a TLS 1.3 suite`);
  return requireAead(suite);
}

export interface Tls12Keys {
  clientKey: Buffer;
  serverKey: Buffer;
  clientIv: Buffer;
  serverIv: Buffer;
}

/** Key blocks by what they come from: both ends' taps of one connection derive the same one. */
const blocks = new Remembered<string, Tls12Keys>(1_024);

/** RFC 5246 §6.3; AEAD suites have no MAC keys, so the block is keys then IVs. */
export function keyBlock(suite: SuiteInfo, masterSecret: Buffer, clientRandom: Buffer, serverRandom: Buffer): Tls12Keys {
  const ivLength = fixedIvLength(tls12Aead(suite));
  const key = `${suite.id}:${masterSecret.toString('base64')}:${clientRandom.toString('base64')}:${serverRandom.toString('base64')}`;
  const known = blocks.get(key, () => deriveKeyBlock(suite, ivLength, masterSecret, clientRandom, serverRandom));
  // Copies, as tls13.ts hands out its traffic keys: a caller may write into what it is given.
  return { clientKey: Buffer.from(known.clientKey), serverKey: Buffer.from(known.serverKey), clientIv: Buffer.from(known.clientIv), serverIv: Buffer.from(known.serverIv) };
}

function deriveKeyBlock(suite: SuiteInfo, ivLength: number, masterSecret: Buffer, clientRandom: Buffer, serverRandom: Buffer): Tls12Keys {
  const k = suite.keyLength;
  // Note the order: server_random before client_random, unlike the master secret derivation.
  const block = prf(suite.hash, masterSecret, 'key expansion', Buffer.concat([serverRandom, clientRandom]), 2 * k + 2 * ivLength);
  return {
    clientKey: block.subarray(0, k),
    serverKey: block.subarray(k, 2 * k),
    clientIv: block.subarray(2 * k, 2 * k + ivLength),
    serverIv: block.subarray(2 * k + ivLength, 2 * k + 2 * ivLength),
  };
}

const EXPLICIT_NONCE_LENGTH = 8;

/**
 * One direction's record protection after its ChangeCipherSpec. `sequence` restarts at 0 with
 * every CCS, so the first protected record of each side (its Finished) is number 0.
 */
export class Tls12RecordProtection {
  sequence = 0n;
  readonly suite: SuiteInfo;
  private readonly aead: AeadName;

  constructor(
    suite: SuiteInfo,
    private readonly key: Buffer,
    private readonly iv: Buffer,
  ) {
    this.suite = suite;
    this.aead = tls12Aead(suite);
    if (key.length !== suite.keyLength || iv.length !== fixedIvLength(this.aead)) {
      throw new HarnessError('FTH_INTERNAL', `key/IV of ${key.length}/${iv.length} bytes do not fit ${suite.iana}`);
    }
  }

  /**
   * A full record. GCM's explicit nonce defaults to the sequence number, as OpenSSL and Go
   * send it; pass one to reproduce a peer's record byte for byte.
   */
  seal(type: number, content: Buffer, explicitNonce?: Buffer): Buffer {
    if (content.length > MAX_PLAINTEXT) throw protocolError(`TLS 1.2 record content of ${content.length} bytes exceeds 2^14`);
    const gcm = this.aead !== 'chacha20-poly1305';
    if (!gcm && explicitNonce) throw new HarnessError('FTH_INTERNAL', 'ChaCha20-Poly1305 records carry no explicit nonce');
    const explicit = gcm ? explicitNonce ?? this.sequenceBytes() : Buffer.alloc(0);
    if (explicit.length !== (gcm ? EXPLICIT_NONCE_LENGTH : 0)) throw new HarnessError('FTH_INTERNAL', 'explicit nonce must be 8 bytes');
    const sealed = aeadSeal(this.aead, this.key, this.nonce(explicit), this.aad(type, TLS12, content.length), content);
    this.sequence++;
    return encodeRecord(type, TLS12, Buffer.concat([explicit, sealed]));
  }

  /** Throws FTH_WIRE_PROTOCOL on a short record or a failed authentication. */
  open(record: TlsRecord): { type: number; content: Buffer } {
    const opened = this.tryOpen(record);
    if (!opened) throw protocolError(`TLS 1.2 record ${this.sequence} failed authentication (${this.suite.iana})`);
    return opened;
  }

  /** Like open, but a failed authentication returns undefined and leaves `sequence` alone. */
  tryOpen(record: TlsRecord): { type: number; content: Buffer } | undefined {
    const explicitLength = this.aead === 'chacha20-poly1305' ? 0 : EXPLICIT_NONCE_LENGTH;
    const plaintextLength = record.fragment.length - explicitLength - TAG_LENGTH;
    if (plaintextLength < 0 || plaintextLength > MAX_PLAINTEXT) {
      throw protocolError(`TLS 1.2 protected record of ${record.fragment.length} bytes has an impossible length`);
    }
    const explicit = record.fragment.subarray(0, explicitLength);
    const aad = this.aad(record.type, record.version, plaintextLength);
    const content = aeadOpen(this.aead, this.key, this.nonce(explicit), aad, record.fragment.subarray(explicitLength));
    if (!content) return undefined;
    this.sequence++;
    return { type: record.type, content };
  }

  private sequenceBytes(): Buffer {
    if (this.sequence >= 0xffffffffffffffffn) throw protocolError('TLS 1.2 sequence number exhausted');
    const seq = Buffer.alloc(8);
    seq.writeBigUInt64BE(this.sequence);
    return seq;
  }

  /** RFC 5246 §6.2.3.3: seq_num + type + version + length of the plaintext. */
  private aad(type: number, version: number, length: number): Buffer {
    const aad = Buffer.alloc(13);
    this.sequenceBytes().copy(aad, 0);
    aad.writeUInt8(type & 0xff, 8);
    aad.writeUInt16BE(version, 9);
    aad.writeUInt16BE(length, 11);
    return aad;
  }

  private nonce(explicit: Buffer): Buffer {
    // RFC 5288 §3: salt || explicit; RFC 7905 §2: IV XOR padded sequence number.
    return this.aead === 'chacha20-poly1305' ? xorSequence(this.iv, this.sequence) : Buffer.concat([this.iv, explicit]);
  }
}

export type FinishedLabel = 'client finished' | 'server finished';

/** RFC 5246 §7.4.9: verify_data = PRF(master_secret, label, Hash(handshake_messages))[0..11]. */
export function finished12(suite: SuiteInfo, masterSecret: Buffer, label: FinishedLabel, transcriptHash: Buffer): Buffer {
  return prf(suite.hash, masterSecret, label, transcriptHash, 12);
}

/** A Finished handshake message (header included), for either version. */
export function encodeFinished(verifyData: Buffer): Buffer {
  return encodeHandshake(HandshakeType.Finished, verifyData);
}
