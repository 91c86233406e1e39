/**
 * Handshake messages (RFC 8446 §4, RFC 5246 §7.4). Parsers are strict about lengths (one that
 * disagrees with its contents is a bad parse, not something to guess around) and ignore content
 * the interposer does not need.
 * (Over 250 lines: one strict parser per handshake message the taps read.)
 */
import { HarnessError } from '../errors.js';
import { ByteReader, FrameSplitter, protocolError } from './record.js';

export enum HandshakeType {
  ClientHello = 1,
  ServerHello = 2,
  NewSessionTicket = 4,
  EndOfEarlyData = 5,
  EncryptedExtensions = 8,
  Certificate = 11,
  ServerKeyExchange = 12,
  CertificateRequest = 13,
  ServerHelloDone = 14,
  CertificateVerify = 15,
  ClientKeyExchange = 16,
  Finished = 20,
  KeyUpdate = 24,
  MessageHash = 254,
}

/** The extension code points the parsers read or the interposer is likely to look for. */
export const ExtensionType = {
  ServerName: 0, SupportedGroups: 10, SignatureAlgorithms: 13, Alpn: 16, ExtendedMasterSecret: 23,
  SessionTicket: 35, SupportedVersions: 43, CertificateAuthorities: 47, KeyShare: 51, RenegotiationInfo: 0xff01,
} as const;

export interface HandshakeMessage {
  type: number;
  body: Buffer;
  /** 4-byte header + body, as it enters the transcript. */
  raw: Buffer;
}

export type Extension = { type: number; data: Buffer };

/** Go's own ceiling (Certificate 256 KiB): larger means a desynchronised stream, not data. */
export const MAX_HANDSHAKE_MESSAGE = 262144;

/** A handshake header claiming more than any real peer accepts; the claim decides the peer's alert. */
export class OversizedHandshake extends HarnessError {
  constructor(readonly handshakeType: number, readonly claimedLength: number) {
    super('FTH_WIRE_PROTOCOL', `handshake message type ${handshakeType} claims ${claimedLength} bytes`);
  }
}

/**
 * A handshake message a parser (or the tap's judgement of it) refused: the message travels
 * with the error, because each real stack words its refusal by what it was reading.
 */
export class MalformedHandshake extends HarnessError {
  constructor(readonly handshake: HandshakeMessage, cause: unknown) {
    super('FTH_WIRE_PROTOCOL', `handshake message type ${handshake.type}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** Joins handshake fragments from consecutive records into whole messages, per direction. */
export class HandshakeReassembler {
  private readonly splitter: FrameSplitter;

  /** `limit` is the largest message the reader accepts, by type (a real stack's own ceiling). */
  constructor(limit: (type: number) => number = () => MAX_HANDSHAKE_MESSAGE) {
    this.splitter = new FrameSplitter(4, (header) => {
      const length = header.readUIntBE(1, 3);
      if (length <= Math.min(limit(header[0]!), MAX_HANDSHAKE_MESSAGE)) return length;
      throw new OversizedHandshake(header[0]!, length);
    });
  }

  push(fragment: Buffer): HandshakeMessage[] {
    return this.splitter.push(fragment).map((raw) => ({ type: raw.readUInt8(0), body: raw.subarray(4), raw }));
  }

  /** Non-zero at a key change means a violation: RFC 8446 §5.1 forbids a message across keys. */
  get buffered(): number {
    return this.splitter.buffered;
  }

  get failure(): HarnessError | undefined {
    return this.splitter.failure;
  }
}

export function encodeHandshake(type: number, body: Buffer): Buffer {
  if (body.length > 0xffffff) throw protocolError(`handshake body of ${body.length} bytes does not fit 24 bits`);
  return Buffer.concat([Buffer.from([type & 0xff]), prefixed(3, body)]);
}

function prefixed(bytes: 1 | 3, data: Buffer): Buffer {
  const head = Buffer.alloc(bytes);
  head.writeUIntBE(data.length, 0, bytes);
  return Buffer.concat([head, data]);
}

/** Reads an extensions block; an absent block (pre-1.3 hellos may omit it) reads as none. */
export function parseExtensions(reader: ByteReader, what: string): Extension[] {
  if (reader.remaining === 0) return [];
  const block = reader.sub(2, `${what} extensions`);
  const seen = new Set<number>();
  const extensions: Extension[] = [];
  while (block.remaining > 0) {
    const type = block.u16('extension type');
    // RFC 8446 §4.2: duplicates are forbidden; OpenSSL and Go both abort on them.
    if (seen.has(type)) throw protocolError(`${what}: duplicate extension ${type}`);
    seen.add(type);
    extensions.push({ type, data: block.vector(2, `extension ${type} data`) });
  }
  return extensions;
}

export function findExtension(extensions: Extension[], type: number): Buffer | undefined {
  return extensions.find((e) => e.type === type)?.data;
}

function u16List(data: Buffer | undefined, prefix: 1 | 2, what: string): number[] | undefined {
  return data && ByteReader.only(data, prefix, what, 2).u16s(what);
}

function emptyFlag(extensions: Extension[], type: number, what: string): boolean {
  const data = findExtension(extensions, type);
  if (data !== undefined && data.length !== 0) throw protocolError(`${what}: extension ${type} must be empty`);
  return data !== undefined;
}

/** Fields both hellos share. */
interface Hello {
  legacyVersion: number;
  random: Buffer;
  sessionId: Buffer;
  extensions: Extension[];
  extendedMasterSecret: boolean;
}

export interface ClientHello extends Hello {
  cipherSuites: number[];
  compressionMethods: number[];
  /** The first host_name in server_name (0). */
  serverName?: string;
  /** From supported_versions (43), else [legacyVersion]. */
  supportedVersions: number[];
  alpn: string[];
  keyShareGroups: number[];
  signatureAlgorithms: number[];
}

/**
 * Parses of a message body, by the body itself: one hello is read by the session (its random),
 * the tap (its names and versions), the timeline and the server's policy, four parses of the
 * same bytes on every handshake of both taps. Bodies are never changed once reassembled; a
 * parse that throws is not remembered, so each reader still meets the error.
 */
const helloParses = new WeakMap<Buffer, ClientHello | ServerHello>();

export function parseClientHello(body: Buffer): ClientHello {
  const known = helloParses.get(body);
  if (known && 'cipherSuites' in known) return known;
  const hello = readClientHello(body);
  helloParses.set(body, hello);
  return hello;
}

function readClientHello(body: Buffer): ClientHello {
  const r = new ByteReader(body, 'ClientHello');
  const legacyVersion = r.u16('legacy_version');
  const random = r.bytes(32, 'random');
  const sessionId = r.vector(1, 'legacy_session_id', 0, 32);
  const cipherSuites = r.sub(2, 'cipher_suites', 2).u16s('cipher_suites');
  const compressionMethods = [...r.vector(1, 'legacy_compression_methods', 1)];
  const extensions = parseExtensions(r, 'ClientHello');
  r.end();
  const ext = (type: number): Buffer | undefined => findExtension(extensions, type);

  const hello: ClientHello = {
    legacyVersion, random, sessionId, cipherSuites, compressionMethods, extensions,
    supportedVersions: u16List(ext(ExtensionType.SupportedVersions), 1, 'supported_versions') ?? [legacyVersion],
    alpn: [],
    extendedMasterSecret: emptyFlag(extensions, ExtensionType.ExtendedMasterSecret, 'ClientHello'),
    keyShareGroups: [],
    signatureAlgorithms: u16List(ext(ExtensionType.SignatureAlgorithms), 2, 'signature_algorithms') ?? [],
  };
  const sni = ext(ExtensionType.ServerName);
  if (sni !== undefined) {
    // RFC 6066 needs a non-empty list in a ClientHello (only a ServerHello echoes it empty).
    const list = ByteReader.only(sni, 2, 'server_name', 1);
    while (list.remaining > 0) {
      const nameType = list.u8('name_type');
      const name = list.vector(2, 'host_name', 1).toString('latin1');
      if (nameType === 0) hello.serverName ??= name;
    }
  }
  const alpn = ext(ExtensionType.Alpn);
  if (alpn !== undefined) {
    const list = ByteReader.only(alpn, 2, 'ALPN', 2);
    while (list.remaining > 0) hello.alpn.push(list.vector(1, 'protocol name', 1).toString('latin1'));
  }
  const shares = ext(ExtensionType.KeyShare);
  if (shares !== undefined) {
    const list = ByteReader.only(shares, 2, 'key_share');
    while (list.remaining > 0) {
      hello.keyShareGroups.push(list.u16('group'));
      list.vector(2, 'key_exchange', 1);
    }
  }
  return hello;
}

/** SHA-256("HelloRetryRequest"), the ServerHello.random that marks a HelloRetryRequest. */
export const HELLO_RETRY_REQUEST_RANDOM = Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex');

export interface ServerHello extends Hello {
  cipherSuite: number;
  compressionMethod: number;
  /** From supported_versions (43), else legacyVersion. */
  selectedVersion: number;
  isHelloRetryRequest: boolean;
  /** key_share: the server's group, or the group a HelloRetryRequest asks for. */
  keyShareGroup?: number;
}

export function parseServerHello(body: Buffer): ServerHello {
  const known = helloParses.get(body);
  if (known && 'cipherSuite' in known) return known;
  const hello = readServerHello(body);
  helloParses.set(body, hello);
  return hello;
}

function readServerHello(body: Buffer): ServerHello {
  const r = new ByteReader(body, 'ServerHello');
  const legacyVersion = r.u16('legacy_version');
  const random = r.bytes(32, 'random');
  const sessionId = r.vector(1, 'legacy_session_id_echo', 0, 32);
  const cipherSuite = r.u16('cipher_suite');
  const compressionMethod = r.u8('legacy_compression_method');
  const extensions = parseExtensions(r, 'ServerHello');
  r.end();
  const hello: ServerHello = {
    legacyVersion, random, sessionId, cipherSuite, compressionMethod, extensions,
    selectedVersion: legacyVersion,
    isHelloRetryRequest: random.equals(HELLO_RETRY_REQUEST_RANDOM),
    extendedMasterSecret: emptyFlag(extensions, ExtensionType.ExtendedMasterSecret, 'ServerHello'),
  };
  const version = findExtension(extensions, ExtensionType.SupportedVersions);
  if (version !== undefined) {
    if (version.length !== 2) throw protocolError(`ServerHello: supported_versions of ${version.length} bytes`);
    hello.selectedVersion = version.readUInt16BE(0);
  }
  const share = findExtension(extensions, ExtensionType.KeyShare);
  if (share !== undefined) {
    const reader = new ByteReader(share, 'key_share');
    hello.keyShareGroup = reader.u16('group');
    // A HelloRetryRequest carries only the group it wants; a ServerHello adds its key.
    if (!hello.isHelloRetryRequest) reader.vector(2, 'key_exchange', 1);
    reader.end();
  }
  return hello;
}

export interface CertificateMessage {
  context: Buffer;
  /** DER, leaf first. */
  certificates: Buffer[];
}

export function parseCertificate(body: Buffer, tls13: boolean): CertificateMessage {
  const r = new ByteReader(body, 'Certificate');
  const context = tls13 ? r.vector(1, 'certificate_request_context') : Buffer.alloc(0);
  const list = r.sub(3, 'certificate_list');
  r.end();
  const certificates: Buffer[] = [];
  while (list.remaining > 0) {
    certificates.push(list.vector(3, 'cert_data', 1));
    if (tls13) list.vector(2, 'entry extensions');
  }
  return { context, certificates };
}

/** The whole message, header included; TLS 1.3 entries carry no extensions. */
export function encodeCertificate(tls13: boolean, context: Buffer, certificates: Buffer[]): Buffer {
  if (tls13 && context.length > 0xff) throw protocolError('certificate_request_context longer than 255 bytes');
  const noExtensions = Buffer.alloc(2);
  const list = Buffer.concat(certificates.map((der) => (tls13 ? Buffer.concat([prefixed(3, der), noExtensions]) : prefixed(3, der))));
  const body = Buffer.concat([tls13 ? prefixed(1, context) : Buffer.alloc(0), prefixed(3, list)]);
  return encodeHandshake(HandshakeType.Certificate, body);
}

export interface CertificateRequest {
  context: Buffer;
  /** TLS 1.2 certificate_types; empty in TLS 1.3. */
  certificateTypes: number[];
  /** DER-encoded X.501 Names, in the order sent. */
  certificateAuthorities: Buffer[];
  signatureAlgorithms: number[];
}

export function parseCertificateRequest(body: Buffer, tls13: boolean): CertificateRequest {
  const r = new ByteReader(body, 'CertificateRequest');
  const request: CertificateRequest = { context: Buffer.alloc(0), certificateTypes: [], certificateAuthorities: [], signatureAlgorithms: [] };
  let authorities: ByteReader | undefined;
  if (tls13) {
    request.context = r.vector(1, 'certificate_request_context');
    const extensions = parseExtensions(r, 'CertificateRequest');
    const sigs = u16List(findExtension(extensions, ExtensionType.SignatureAlgorithms), 2, 'signature_algorithms');
    if (sigs === undefined) throw protocolError('CertificateRequest: signature_algorithms extension missing');
    request.signatureAlgorithms = sigs;
    const cas = findExtension(extensions, ExtensionType.CertificateAuthorities);
    if (cas !== undefined) authorities = ByteReader.only(cas, 2, 'certificate_authorities', 3);
  } else {
    request.certificateTypes = [...r.vector(1, 'certificate_types', 1)];
    request.signatureAlgorithms = r.sub(2, 'supported_signature_algorithms', 2).u16s('signature algorithm');
    authorities = r.sub(2, 'certificate_authorities');
  }
  r.end();
  while (authorities && authorities.remaining > 0) {
    request.certificateAuthorities.push(authorities.vector(2, 'DistinguishedName', 1));
  }
  return request;
}
