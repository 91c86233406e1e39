import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import { ClientTap, ServerTap, type RecordPump } from '../../../src/wire/tap.js';
import { goHandshakeLimit, goMalformedHandshake, goUnparsableCertificate } from '../../../src/dialects/go.js';
import { parseCertificate } from '../../../src/x509/certificate.js';
import { makePki, removePki, type TestPki } from './helpers/pki.js';
import { runSession, type Capture } from './helpers/live.js';

/*
 * The whole tap (record pump, session, parsers, a role's policy, and Node's OpenSSL above it)
 * fed real flights with a few bytes changed. Whatever the bytes, nothing may throw out of the
 * socket's event handlers (vitest fails the run on any uncaught exception), and a connection the
 * tap refuses carries exactly the alert record its policy chose, last on the wire.
 */

/** Stands in for the TCP socket: the test plays the peer's bytes into it and keeps what the tap writes. */
class PeerWire extends Duplex {
  readonly written: Buffer[] = [];
  setNoDelay(): this {
    return this;
  }
  override _read(): void {}
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.written.push(chunk);
    callback();
  }
}

let pki: TestPki;
const flights: Record<'TLSv1.2' | 'TLSv1.3', Capture> = {} as Record<'TLSv1.2' | 'TLSv1.3', Capture>;

beforeAll(async () => {
  pki = makePki();
  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    flights[version] = await runSession(pki, {
      version, ciphers: version === 'TLSv1.3' ? 'TLS_AES_128_GCM_SHA256' : 'ECDHE-RSA-AES128-GCM-SHA256',
      clientMessage: Buffer.from('ping'), serverMessage: Buffer.from('pong'),
    });
  }
}, 30_000);
afterAll(() => removePki(pki));

/** A real byte stream with up to four bytes overwritten, optionally cut short. */
function mutated(stream: Buffer): fc.Arbitrary<Buffer> {
  // Edits land in the leading handshake records, the part the parsers read in the clear (what
  // follows is encrypted under keys a fresh OpenSSL will not share, and is refused unread).
  let reach = 0;
  while (reach + 5 <= stream.length && stream[reach] === 22) reach += 5 + stream.readUInt16BE(reach + 3);
  reach = Math.min(reach, stream.length);
  return fc
    .tuple(fc.array(fc.tuple(fc.nat(reach - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat(stream.length))
    .map(([edits, keep]) => {
      const copy = Buffer.from(stream);
      for (const [at, value] of edits) copy[at] = value;
      return copy.subarray(0, Math.max(keep, 5));
    });
}

const settle = async () => {
  for (let i = 0; i < 4; i++) await new Promise((r) => setImmediate(r));
};

/** How many runs ended in a refusal of each alert, so a test can show it reached the refusal paths. */
let refusals = new Map<number, number>();

async function play(tap: RecordPump, wire: PeerWire, socket: tls.TLSSocket, bytes: Buffer): Promise<void> {
  socket.on('error', () => undefined);
  // The peer's stream arrives in two segments, so a record may straddle them.
  const cut = Math.floor(bytes.length / 2);
  wire.emit('data', bytes.subarray(0, cut));
  wire.emit('data', bytes.subarray(cut));
  await settle();
  wire.emit('end');
  await settle();
  if (tap.rejection?.by === tap.role) {
    const last = wire.written.at(-1)!;
    expect(last[0]).toBe(tap.alerts.at(-1)!.encrypted ? 23 : 21);
    expect(tap.alerts.at(-1)).toMatchObject({ sender: tap.role, description: tap.rejection.alert, emulated: true });
    refusals.set(tap.rejection.alert, (refusals.get(tap.rejection.alert) ?? 0) + 1);
  }
  socket.destroy();
  tap.destroy();
}

// A fixed seed: the same mutations every run, so the refusal-path check below cannot flake.
const runs = { numRuns: 40, seed: 20261206 };

describe('the whole tap under mutated real flights', () => {
  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    it(`a server tap (Go's policy) given a mutated ${version} client stream never throws and refuses only with its policy's alert`, async () => {
      refusals = new Map();
      await fc.assert(fc.asyncProperty(mutated(flights[version].c2s), async (bytes) => {
        const wire = new PeerWire();
        const tap: ServerTap = new ServerTap(wire as unknown as Socket, {
          verifyClient: (chain) => {
            try {
              chain.forEach((der) => parseCertificate(der));
              return null;
            } catch (error) {
              return goUnparsableCertificate('client', error as Error);
            }
          },
          handshakeLimit: goHandshakeLimit('1.24'),
          malformed: (fault) => goMalformedHandshake(fault, '1.24'),
        });
        const socket = new tls.TLSSocket(tap, {
          isServer: true, requestCert: true, rejectUnauthorized: false,
          secureContext: tls.createSecureContext({ key: pki.serverKey, cert: pki.serverCert, ca: [pki.clientCa], minVersion: version, maxVersion: version }),
        });
        tap.attach(socket);
        await play(tap, wire, socket, bytes);
      }), runs);
      // Some runs were refused by the policy (unexpected_message, internal_error or bad_certificate):
      // the fuzzer got past the framing into the parsers.
      expect([...refusals.keys()].filter((alert) => [10, 42, 80].includes(alert)).length).toBeGreaterThan(0);
    }, 20_000);

    it(`a client tap (Go's policy) given a mutated ${version} server stream never throws and refuses only with its policy's alert`, async () => {
      refusals = new Map();
      await fc.assert(fc.asyncProperty(mutated(flights[version].s2c), async (bytes) => {
        const wire = new PeerWire();
        const tap = new ClientTap(wire as unknown as Socket, {
          verifyServer: (chain) => {
            try {
              chain.forEach((der) => parseCertificate(der));
              return null;
            } catch (error) {
              return goUnparsableCertificate('server', error as Error);
            }
          },
          handshakeLimit: goHandshakeLimit('1.24'),
          malformed: (fault) => goMalformedHandshake(fault, '1.24'),
        });
        const socket = tls.connect({ socket: tap as unknown as Socket, rejectUnauthorized: false, minVersion: version, maxVersion: version });
        tap.attach(socket);
        await play(tap, wire, socket, bytes);
      }), runs);
      // Some runs were refused by the policy (unexpected_message, internal_error or bad_certificate):
      // the fuzzer got past the framing into the parsers.
      expect([...refusals.keys()].filter((alert) => [10, 42, 80].includes(alert)).length).toBeGreaterThan(0);
    }, 20_000);
  }
});
