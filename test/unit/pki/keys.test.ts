import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodePrivateKey, encodePrivateKey, generateKey, keyTypeOf, newPassphrase, subjectKeyIdentifier } from '../../../src/pki/keys.js';

const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
// One RSA key for the whole file: 2048 bits, so its SPKI needs a two-byte DER length.
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });

describe('generateKey', () => {
  it('makes P-256 keys for ecdsa', async () => {
    const pair = await generateKey('ecdsa');
    expect([pair.type, pair.privateKey.asymmetricKeyType, pair.privateKey.asymmetricKeyDetails?.namedCurve]).toEqual(['ecdsa', 'ec', 'prime256v1']);
  });
});

describe('keyTypeOf', () => {
  it('names RSA and EC keys and refuses any other', () => {
    expect(keyTypeOf(rsa.privateKey)).toBe('rsa');
    expect(keyTypeOf(ec.publicKey)).toBe('ecdsa');
    expect(() => keyTypeOf(generateKeyPairSync('ed25519').privateKey)).toThrow('unsupported key type ed25519');
  });
});

describe('encodePrivateKey and decodePrivateKey', () => {
  const firstLines = (pem: string, n: number) => pem.split('\n').slice(0, n);

  it.each([
    ['ecdsa', ec.privateKey, 'EC PRIVATE KEY'],
    ['rsa', rsa.privateKey, 'RSA PRIVATE KEY'],
  ] as const)('writes a %s key in each of the four PEM forms, and reads each back', (_, key, traditional) => {
    const expected = key.export({ type: 'pkcs8', format: 'der' });
    const plain = encodePrivateKey(key, { format: 'pkcs8' });
    const encrypted = encodePrivateKey(key, { format: 'pkcs8-encrypted', passphrase: 'p' });
    const legacy = encodePrivateKey(key, { format: 'traditional' });
    const legacyEncrypted = encodePrivateKey(key, { format: 'traditional-encrypted', passphrase: 'p' });
    expect(firstLines(plain, 1)).toEqual(['-----BEGIN PRIVATE KEY-----']);
    expect(firstLines(encrypted, 1)).toEqual(['-----BEGIN ENCRYPTED PRIVATE KEY-----']);
    expect(firstLines(legacy, 1)).toEqual([`-----BEGIN ${traditional}-----`]);
    expect(firstLines(legacyEncrypted, 3).slice(0, 2)).toEqual([`-----BEGIN ${traditional}-----`, 'Proc-Type: 4,ENCRYPTED']);
    expect(firstLines(legacyEncrypted, 3)[2]).toMatch(/^DEK-Info: AES-128-CBC,[0-9A-F]{32}$/);
    for (const [pem, passphrase] of [[plain], [encrypted, 'p'], [legacy], [legacyEncrypted, 'p']] as const) {
      expect(decodePrivateKey(pem, passphrase).export({ type: 'pkcs8', format: 'der' }).equals(expected)).toBe(true);
    }
  });

  it('encrypts PKCS#8 with PBES2 and AES-256-CBC, the scheme elastic-agent-libs decrypts', () => {
    const der = Buffer.from(encodePrivateKey(ec.privateKey, { format: 'pkcs8-encrypted', passphrase: 'p' }).split('\n').slice(1, -2).join(''), 'base64');
    const PBES2 = Buffer.from('06092a864886f70d01050d', 'hex');
    const AES_256_CBC = Buffer.from('060960864801650304012a', 'hex');
    expect([der.includes(PBES2), der.includes(AES_256_CBC)]).toEqual([true, true]);
  });

  it('refuses an encrypted key when no passphrase is given, with Node\'s cancelled-prompt error', () => {
    const encrypted = encodePrivateKey(ec.privateKey, { format: 'pkcs8-encrypted', passphrase: 'p' });
    expect(() => decodePrivateKey(encrypted)).toThrow(expect.objectContaining({ code: 'ERR_OSSL_CRYPTO_INTERRUPTED_OR_CANCELLED' }));
  });
});

describe('subjectKeyIdentifier', () => {
  it('is the SHA-1 of the subjectPublicKey bits, for EC and for a long RSA key', () => {
    // An uncompressed P-256 point is the last 65 bytes of its SPKI; RSA's bits are the PKCS#1 RSAPublicKey.
    const ecPoint = ec.publicKey.export({ type: 'spki', format: 'der' }).subarray(-65);
    expect(subjectKeyIdentifier(ec.publicKey).toString('hex')).toBe(createHash('sha1').update(ecPoint).digest('hex'));
    const rsaBits = rsa.publicKey.export({ type: 'pkcs1', format: 'der' });
    expect(subjectKeyIdentifier(rsa.publicKey).toString('hex')).toBe(createHash('sha1').update(rsaBits).digest('hex'));
  });
});

describe('newPassphrase', () => {
  it('is 24 characters of base64url, safe unquoted in a shell or YAML, and different each time', () => {
    for (let i = 0; i < 50; i++) expect(newPassphrase()).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(newPassphrase()).not.toBe(newPassphrase());
  });
});
