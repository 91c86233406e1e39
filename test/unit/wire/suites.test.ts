import { describe, expect, it } from 'vitest';
import { getCiphers } from 'node:crypto';
import { aeadOpen, aeadSeal, hashLength, requireAead, suiteByName, suiteInfo, suiteName, xorSequence } from '../../../src/wire/suites.js';

describe('the suite table', () => {
  it('describes the three TLS 1.3 suites', () => {
    expect(suiteInfo(0x1301)).toEqual({ id: 0x1301, iana: 'TLS_AES_128_GCM_SHA256', openssl: 'TLS_AES_128_GCM_SHA256', hash: 'sha256', aead: 'aes-128-gcm', keyLength: 16, tls13: true, keyExchange: 'any' });
    expect(suiteInfo(0x1302)).toMatchObject({ hash: 'sha384', aead: 'aes-256-gcm', keyLength: 32, tls13: true });
    expect(suiteInfo(0x1303)).toMatchObject({ hash: 'sha256', aead: 'chacha20-poly1305', keyLength: 32, tls13: true });
  });

  it('describes the TLS 1.2 AEAD suites Node and Go negotiate', () => {
    expect(suiteByName('ECDHE-RSA-AES128-GCM-SHA256')).toMatchObject({ id: 0xc02f, hash: 'sha256', aead: 'aes-128-gcm', tls13: false, keyExchange: 'ecdhe' });
    expect(suiteByName('TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384')).toMatchObject({ id: 0xc02c, hash: 'sha384', keyLength: 32 });
    expect(suiteByName('ECDHE-RSA-CHACHA20-POLY1305')).toMatchObject({ id: 0xcca8, aead: 'chacha20-poly1305' });
    expect(suiteInfo(0x009c)).toMatchObject({ openssl: 'AES128-GCM-SHA256', keyExchange: 'rsa' });
  });

  it('names CBC suites but marks them undecryptable', () => {
    const cbc = suiteInfo(0xc013)!;
    expect(cbc).toMatchObject({ iana: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA', openssl: 'ECDHE-RSA-AES128-SHA', aead: null });
    expect(() => requireAead(cbc)).toThrow(expect.objectContaining({ code: 'FTH_WIRE_UNSUPPORTED' }));
    expect(suiteName(0x000a)).toBe('TLS_RSA_WITH_3DES_EDE_CBC_SHA');
    expect(suiteName(0x1305)).toBe('0x1305');
    expect(suiteInfo(0x1305)).toBeUndefined();
  });

  it('uses OpenSSL names Node accepts and AEADs node:crypto has', () => {
    const nodeCiphers = new Set(getCiphers());
    for (let id = 0; id < 0x10000; id++) {
      const suite = suiteInfo(id);
      if (!suite) continue;
      if (suite.aead) expect(nodeCiphers.has(suite.aead)).toBe(true);
      expect(suiteByName(suite.openssl)).toBe(suite);
      expect(suiteByName(suite.iana)).toBe(suite);
    }
    expect(hashLength('sha384')).toBe(48);
  });
});

describe('AEAD helpers', () => {
  it('round-trips and refuses a flipped tag for each AEAD', () => {
    for (const aead of ['aes-128-gcm', 'aes-256-gcm', 'chacha20-poly1305'] as const) {
      const key = Buffer.alloc(aead === 'aes-128-gcm' ? 16 : 32, 3);
      const nonce = Buffer.alloc(12, 9);
      const sealed = aeadSeal(aead, key, nonce, Buffer.from('aad'), Buffer.from('plaintext'));
      expect(sealed).toHaveLength(9 + 16);
      expect(aeadOpen(aead, key, nonce, Buffer.from('aad'), sealed)).toEqual(Buffer.from('plaintext'));
      expect(aeadOpen(aead, key, nonce, Buffer.from('aaD'), sealed)).toBeUndefined();
      sealed[sealed.length - 1]! ^= 0x80;
      expect(aeadOpen(aead, key, nonce, Buffer.from('aad'), sealed)).toBeUndefined();
      expect(aeadOpen(aead, key, nonce, Buffer.from('aad'), Buffer.alloc(15))).toBeUndefined();
    }
  });

  it('XORs the sequence number into the last eight bytes of the IV', () => {
    const iv = Buffer.from('000102030405060708090a0b', 'hex');
    expect(xorSequence(iv, 0n)).toEqual(iv);
    expect(xorSequence(iv, 0x0102030405060708n).toString('hex')).toBe('00010203050705030d0f0d03');
    expect(iv.toString('hex')).toBe('000102030405060708090a0b');
  });
});
