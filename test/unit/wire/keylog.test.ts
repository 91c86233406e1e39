import { describe, expect, it } from 'vitest';
import { SecretStore, parseKeylog, parseKeylogLine } from '../../../src/wire/keylog.js';

const random = 'cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7';
const secret = 'b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38';
const wireError = expect.objectContaining({ name: 'HarnessError', code: 'FTH_WIRE_PROTOCOL' });

describe('parseKeylogLine', () => {
  it('reads a Node keylog Buffer with its trailing newline', () => {
    const entry = parseKeylogLine(Buffer.from(`SERVER_HANDSHAKE_TRAFFIC_SECRET ${random} ${secret}\n`));
    expect(entry.label).toBe('SERVER_HANDSHAKE_TRAFFIC_SECRET');
    expect(entry.clientRandom.toString('hex')).toBe(random);
    expect(entry.secret.toString('hex')).toBe(secret);
  });

  it('reads a TLS 1.2 CLIENT_RANDOM line, a CRLF line and an unknown future label', () => {
    const master = 'ab'.repeat(48);
    expect(parseKeylogLine(`CLIENT_RANDOM ${random} ${master}\r\n`).secret).toHaveLength(48);
    expect(parseKeylogLine(`CLIENT_TRAFFIC_SECRET_1 ${random} ${secret}`).label).toBe('CLIENT_TRAFFIC_SECRET_1');
    expect(parseKeylogLine(`EXPORTER_SECRET ${random.toUpperCase()} ${secret}`).clientRandom.toString('hex')).toBe(random);
  });

  it('rejects lines that are not exactly label, 32-byte random and whole-byte secret', () => {
    for (const bad of ['', '# comment', `CLIENT_RANDOM ${random}`, `CLIENT_RANDOM ${random.slice(2)} ${secret}`, `CLIENT_RANDOM ${random} ${secret}0`,
      `CLIENT_RANDOM  ${random} ${secret}`, `client_random ${random} ${secret}`, `CLIENT_RANDOM ${random} ${secret} extra`, `CLIENT_RANDOM ${random} zz`]) {
      expect(() => parseKeylogLine(bad)).toThrow(wireError);
    }
  });

  it('parses a whole SSLKEYLOGFILE, skipping comments and blank lines', () => {
    const entries = parseKeylog(`# SSL/TLS secrets log file\n\nCLIENT_RANDOM ${random} ${'00'.repeat(48)}\nEXPORTER_SECRET ${random} ${secret}\n`);
    expect(entries.map((e) => e.label)).toEqual(['CLIENT_RANDOM', 'EXPORTER_SECRET']);
  });
});

describe('SecretStore', () => {
  const entry = parseKeylogLine(`CLIENT_HANDSHAKE_TRAFFIC_SECRET ${random} ${secret}`);

  it('finds secrets by client random and label', () => {
    const store = new SecretStore();
    expect(store.set(entry)).toBe(true);
    expect(store.get(Buffer.from(random, 'hex'), 'CLIENT_HANDSHAKE_TRAFFIC_SECRET')).toEqual(Buffer.from(secret, 'hex'));
    expect(store.get(Buffer.from(random, 'hex'), 'SERVER_HANDSHAKE_TRAFFIC_SECRET')).toBeUndefined();
    expect(store.get(Buffer.alloc(32), 'CLIENT_HANDSHAKE_TRAFFIC_SECRET')).toBeUndefined();
    expect(store.has(entry.clientRandom, entry.label)).toBe(true);
  });

  it('accepts the same line from both ends once and tells listeners only about new secrets', () => {
    const store = new SecretStore();
    const heard: string[] = [];
    const stop = store.onSecret((e) => heard.push(e.label));
    expect(store.set(entry)).toBe(true);
    expect(store.set(parseKeylogLine(`CLIENT_HANDSHAKE_TRAFFIC_SECRET ${random} ${secret}\n`))).toBe(false);
    stop();
    store.set(parseKeylogLine(`SERVER_HANDSHAKE_TRAFFIC_SECRET ${random} ${secret}`));
    expect(heard).toEqual(['CLIENT_HANDSHAKE_TRAFFIC_SECRET']);
  });

  it('refuses a second, different secret for the same label and connection', () => {
    const store = new SecretStore();
    store.set(entry);
    expect(() => store.set({ ...entry, secret: Buffer.alloc(32) })).toThrow(wireError);
  });

  it('keeps its own copy of a secret and forgets a connection on delete', () => {
    const store = new SecretStore();
    const mutable = { ...entry, secret: Buffer.from(entry.secret) };
    store.set(mutable);
    mutable.secret.fill(0);
    expect(store.get(entry.clientRandom, entry.label)).toEqual(Buffer.from(secret, 'hex'));
    expect(store.size).toBe(1);
    expect(store.delete(entry.clientRandom)).toBe(true);
    expect(store.size).toBe(0);
  });
});
