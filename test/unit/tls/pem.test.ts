import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadIdentity, MaterialError } from '../../../src/tls/material.js';
import { pemDecode, pemDecodeAll, pemEncode } from '../../../src/tls/pem.js';
import { issueCa } from '../../../src/pki/generate.js';

/*
 * Go's encoding/pem, as libs' readPEMFile walks it. The texts were checked against Go 1.19's
 * encoding/pem and crypto/tls with a copy of libs' loop.
 */
const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const ca = issueCa('pem-ca', key);
const encrypted = key.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }) as string;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'fth-pem-'));
  await Promise.all([
    writeFile(path.join(dir, 'ca.crt'), ca.pem),
    writeFile(path.join(dir, 'enc.key'), encrypted),
    writeFile(path.join(dir, 'enc-trailing.key'), `${encrypted}\n\n`),
  ]);
});
afterAll(() => rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 }));

describe('pemDecode', () => {
  it('finds a block at the start of the input or of a line only', () => {
    expect(pemDecode(`junk\n${ca.pem}`)?.block.type).toBe('CERTIFICATE');
    expect(pemDecode(`  ${ca.pem}`)).toBeNull();
  });

  it('reads headers and leaves the rest after the END line', () => {
    const legacy = key.privateKey.export({ type: 'sec1', format: 'pem', cipher: 'aes-128-cbc', passphrase: 'pw' }) as string;
    const decoded = pemDecode(`${legacy}tail`)!;
    expect(decoded.block.type).toBe('EC PRIVATE KEY');
    expect(decoded.block.headers['Proc-Type']).toBe('4,ENCRYPTED');
    expect(decoded.block.headers['DEK-Info']).toMatch(/^AES-128-CBC,[0-9A-F]{32}$/);
    expect(decoded.rest).toBe('tail');
  });

  it('skips a block with a broken END line and finds the next', () => {
    expect(pemDecodeAll(`-----BEGIN X-----\nAAAA\n-----END Y-----\n${ca.pem}`).map((b) => b.type)).toEqual(['CERTIFICATE']);
  });

  it('round-trips through pemEncode', () => {
    const der = key.privateKey.export({ type: 'pkcs8', format: 'der' });
    const block = pemDecode(pemEncode({ type: 'PRIVATE KEY', bytes: der }))!.block;
    expect(createPrivateKey({ key: block.bytes, format: 'der', type: 'pkcs8' }).equals(key.privateKey)).toBe(true);
  });
});

describe('readPEMFile\'s walk over a file whose only block fails to decrypt', () => {
  const libs = (file: string) => {
    try {
      loadIdentity(path.join(dir, 'ca.crt'), path.join(dir, file), undefined, 'wrong');
    } catch (error) {
      return (error as MaterialError).libsMessage;
    }
    return 'loaded';
  };
  const harness = (file: string) => {
    try {
      loadIdentity(path.join(dir, 'ca.crt'), path.join(dir, file), undefined, 'wrong');
    } catch (error) {
      return [(error as MaterialError).code, (error as MaterialError).message];
    }
    return [];
  };

  it('joins the failure under "no PEM blocks" when nothing follows the block', () => {
    expect(libs('enc.key')).toBe(`no PEM blocks\nfailed to parse key: pkcs8: incorrect password ${path.join(dir, 'enc.key')}`);
  });

  it('says "no pem file" when blank lines follow it, as Go does: pem.Decode finds nothing in the rest', () => {
    expect(libs('enc-trailing.key')).toBe(`no pem file ${path.join(dir, 'enc-trailing.key')}`);
    // The harness still names the real trouble.
    expect(harness('enc-trailing.key')).toEqual(['FTH_KEY_PASSPHRASE', `${path.join(dir, 'enc-trailing.key')}: failed to parse key: pkcs8: incorrect password`]);
  });
});
