/** src/tls/material.ts: certificates and keys read as elastic-agent-libs and Go's crypto/tls read them. */
import { createPrivateKey } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePki } from '../../../src/pki/generate.js';
import { encodePrivateKey } from '../../../src/pki/keys.js';
import type { PkiMaterial } from '../../../src/pki/generate.js';
import { loadCertificateAuthorities, loadIdentity, MaterialError } from '../../../src/tls/material.js';

let dir: string;
let pki: PkiMaterial;
const PASSPHRASE = 'correct horse';
const file = (name: string) => path.join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'fth-unit-material-'));
  pki = await generatePki('ecdsa');
  const agent = pki.leaves['agent-cert'];
  await Promise.all([
    writeFile(file('agent.crt'), agent.pem),
    writeFile(file('agent.key'), encodePrivateKey(agent.key, { format: 'pkcs8' })),
    writeFile(file('agent-pkcs8-encrypted.key'), encodePrivateKey(agent.key, { format: 'pkcs8-encrypted', passphrase: PASSPHRASE })),
    writeFile(file('agent-legacy-encrypted.key'), encodePrivateKey(agent.key, { format: 'traditional-encrypted', passphrase: PASSPHRASE })),
    writeFile(file('agent-traditional.key'), encodePrivateKey(agent.key, { format: 'traditional' })),
    writeFile(file('fleet.key'), encodePrivateKey(pki.leaves['fleet-cert'].key, { format: 'pkcs8' })),
    writeFile(file('passphrase'), PASSPHRASE),
    writeFile(file('passphrase-with-newline'), `${PASSPHRASE}\n`),
    writeFile(file('wrong-passphrase'), 'incorrect horse'),
    writeFile(file('not-pem.txt'), 'this is not a key\n'),
    writeFile(file('empty'), ''),
    writeFile(file('ca-bundle.crt'), pki.cas['fleet-ca'].pem + pki.cas['agent-ca'].pem),
  ]);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
});

function materialError(load: () => unknown): { code: string; libsMessage: string; file: string; message: string } {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(MaterialError);
    const e = error as MaterialError;
    return { code: e.code, libsMessage: e.libsMessage, file: e.file, message: e.message };
  }
  throw new Error('loaded without an error');
}

describe('loadIdentity', () => {
  it('loads a certificate with a plain PKCS#8 key, returning the chain and the key as PKCS#8', () => {
    const identity = loadIdentity(file('agent.crt'), file('agent.key'));
    expect(identity.chain.map((c) => c.commonName)).toEqual(['elastic-agent']);
    expect(identity.certPem).toBe(pki.leaves['agent-cert'].pem);
    expect(identity.keyPem).toBe(pki.leaves['agent-cert'].key.export({ type: 'pkcs8', format: 'pem' }));
  });

  it('decrypts an ENCRYPTED PRIVATE KEY with the passphrase file, and a legacy Proc-Type key too', () => {
    const expected = pki.leaves['agent-cert'].key.export({ type: 'pkcs8', format: 'pem' });
    expect(loadIdentity(file('agent.crt'), file('agent-pkcs8-encrypted.key'), file('passphrase')).keyPem).toBe(expected);
    expect(loadIdentity(file('agent.crt'), file('agent-legacy-encrypted.key'), file('passphrase')).keyPem).toBe(expected);
    expect(loadIdentity(file('agent.crt'), file('agent-traditional.key')).keyPem).toBe(expected);
  });

  it('takes an explicit passphrase over the passphrase file', () => {
    expect(loadIdentity(file('agent.crt'), file('agent-pkcs8-encrypted.key'), file('wrong-passphrase'), PASSPHRASE).chain).toHaveLength(1);
  });

  it('accepts inline PEM for the certificate and the key', () => {
    const keyPem = encodePrivateKey(pki.leaves['agent-cert'].key, { format: 'pkcs8' });
    const identity = loadIdentity(pki.leaves['agent-cert'].pem, keyPem);
    expect(identity.chain[0]!.der.equals(pki.leaves['agent-cert'].der)).toBe(true);
    const inlineEncrypted = encodePrivateKey(pki.leaves['agent-cert'].key, { format: 'pkcs8-encrypted', passphrase: PASSPHRASE });
    expect(loadIdentity(`\n${pki.leaves['agent-cert'].pem}`, inlineEncrypted, undefined, PASSPHRASE).keyPem).toBe(keyPem);
    // libs only trims to decide the value is PEM; Go's pem.Decode then needs BEGIN at the start of a line.
    expect(materialError(() => loadIdentity(`  ${pki.leaves['agent-cert'].pem}`, keyPem)).libsMessage).toBe('no pem file inline PEM');
  });

  it('fails a key file with no PEM in it as libs does: no pem file <path>', () => {
    expect(materialError(() => loadIdentity(file('agent.crt'), file('not-pem.txt')))).toEqual({
      code: 'FTH_FILE_MALFORMED',
      libsMessage: `no pem file ${file('not-pem.txt')}`,
      file: file('not-pem.txt'),
      message: `${file('not-pem.txt')}: no PEM private key in it`,
    });
  });

  it('fails an empty key file with no PEM blocks <path>', () => {
    expect(materialError(() => loadIdentity(file('agent.crt'), file('empty'))).libsMessage).toBe(`no PEM blocks ${file('empty')}`);
  });

  it('fails an encrypted key without a passphrase: no PEM blocks, then no passphrase available', () => {
    expect(materialError(() => loadIdentity(file('agent.crt'), file('agent-pkcs8-encrypted.key')))).toEqual({
      code: 'FTH_KEY_PASSPHRASE',
      libsMessage: `no PEM blocks\nno passphrase available ${file('agent-pkcs8-encrypted.key')}`,
      file: file('agent-pkcs8-encrypted.key'),
      message: `${file('agent-pkcs8-encrypted.key')}: no passphrase available`,
    });
  });

  it('fails a PKCS#8 key with a wrong passphrase: pkcs8: incorrect password', () => {
    expect(materialError(() => loadIdentity(file('agent.crt'), file('agent-pkcs8-encrypted.key'), file('wrong-passphrase')))).toEqual({
      code: 'FTH_KEY_PASSPHRASE',
      libsMessage: `no PEM blocks\nfailed to parse key: pkcs8: incorrect password ${file('agent-pkcs8-encrypted.key')}`,
      file: file('agent-pkcs8-encrypted.key'),
      message: `${file('agent-pkcs8-encrypted.key')}: failed to parse key: pkcs8: incorrect password`,
    });
  });

  it('fails a legacy Proc-Type key with a wrong passphrase: x509: decryption password incorrect', () => {
    expect(materialError(() => loadIdentity(file('agent.crt'), file('agent-legacy-encrypted.key'), file('wrong-passphrase')))).toMatchObject({
      code: 'FTH_KEY_PASSPHRASE',
      libsMessage: `no PEM blocks\nfailed to decrypt PKCS#1 key: x509: decryption password incorrect ${file('agent-legacy-encrypted.key')}`,
    });
  });

  it('keeps the lines libs logs on the way: the deprecation warning, the dropped block, the failure', () => {
    const logsOf = (load: () => unknown): readonly string[] => {
      try {
        load();
      } catch (error) {
        return (error as MaterialError).logs;
      }
      throw new Error('loaded without an error');
    };
    expect(logsOf(() => loadIdentity(file('agent.crt'), file('agent-legacy-encrypted.key'), file('wrong-passphrase')))).toEqual([
      'Encrypted PKCS#1 PEM keys are deprecated and insecure, support will be removed in a future release; please convert the key to encrypted PKCS#8',
      "Dropping encrypted pem block with private key, block type 'EC PRIVATE KEY', could not decrypt PKCS#1: failed to decrypt PKCS#1 key: x509: decryption password incorrect",
      'Failed reading key file: no PEM blocks\nfailed to decrypt PKCS#1 key: x509: decryption password incorrect',
    ]);
    expect(logsOf(() => loadIdentity(file('agent.crt'), file('fleet.key')))).toEqual(['Failed loading client certificate tls: private key does not match public key']);
  });

  it('reads the passphrase file untrimmed, so a trailing newline fails like a wrong passphrase', () => {
    expect(materialError(() => loadIdentity(file('agent.crt'), file('agent-pkcs8-encrypted.key'), file('passphrase-with-newline')))).toMatchObject({
      code: 'FTH_KEY_PASSPHRASE',
      libsMessage: `no PEM blocks\nfailed to parse key: pkcs8: incorrect password ${file('agent-pkcs8-encrypted.key')}`,
    });
    // The same key opens with the passphrase itself: the newline alone made the difference.
    createPrivateKey({ key: encodePrivateKey(pki.leaves['agent-cert'].key, { format: 'pkcs8-encrypted', passphrase: PASSPHRASE }), passphrase: PASSPHRASE });
  });

  it('fails a key that belongs to another certificate: tls: private key does not match public key', () => {
    expect(materialError(() => loadIdentity(file('agent.crt'), file('fleet.key')))).toEqual({
      code: 'FTH_KEY_MISMATCH',
      libsMessage: 'tls: private key does not match public key',
      file: file('fleet.key'),
      message: `${file('fleet.key')}: the key does not belong to ${file('agent.crt')}`,
    });
  });

  it('fails a certificate file with no PEM in it: no pem file <path>', () => {
    expect(materialError(() => loadIdentity(file('not-pem.txt'), file('agent.key')))).toMatchObject({
      code: 'FTH_FILE_MALFORMED',
      libsMessage: `no pem file ${file('not-pem.txt')}`,
    });
  });

  it('fails a certificate file holding only a key as Go X509KeyPair does: PEM inputs may have been switched', () => {
    expect(materialError(() => loadIdentity(file('agent.key'), file('agent.key')))).toMatchObject({
      code: 'FTH_FILE_MALFORMED',
      libsMessage: 'tls: failed to find certificate PEM data in certificate input, but did find a private key; PEM inputs may have been switched',
      message: `${file('agent.key')}: no PEM certificate in it (it holds a PEM private key (PKCS#8))`,
    });
  });

  it('fails a missing file as libs LoadCertificate does: the open error with the path appended', () => {
    const missing = file('missing.crt');
    expect(materialError(() => loadIdentity(missing, file('agent.key')))).toEqual({
      code: 'FTH_FILE_UNREADABLE',
      libsMessage: `open ${missing}: no such file or directory ${missing}`,
      file: missing,
      message: `${missing}: no such file or directory`,
    });
  });

  it('fails a missing passphrase file as libs does: unable to read passphrase_file', () => {
    const missing = file('missing-passphrase');
    expect(materialError(() => loadIdentity(file('agent.crt'), file('agent-pkcs8-encrypted.key'), missing))).toMatchObject({
      code: 'FTH_FILE_UNREADABLE',
      libsMessage: `unable to read passphrase_file: open ${missing}: no such file or directory`,
      file: missing,
    });
  });
});

describe('loadCertificateAuthorities', () => {
  it('reads every certificate of every file, in order', () => {
    const cas = loadCertificateAuthorities([file('ca-bundle.crt'), file('agent.crt')]);
    expect(cas.map((c) => c.commonName)).toEqual(['fleet-ca', 'agent-ca', 'elastic-agent']);
  });

  it('accepts inline PEM', () => {
    expect(loadCertificateAuthorities([pki.cas['es-ca'].pem]).map((c) => c.commonName)).toEqual(['es-ca']);
  });

  it('fails a file that is not PEM: file is not a certificate adding <path> to the list of known CAs', () => {
    expect(materialError(() => loadCertificateAuthorities([file('ca-bundle.crt'), file('not-pem.txt')]))).toEqual({
      code: 'FTH_FILE_MALFORMED',
      libsMessage: `file is not a certificate adding ${file('not-pem.txt')} to the list of known CAs`,
      file: file('not-pem.txt'),
      message: `${file('not-pem.txt')}: not a PEM certificate`,
    });
  });

  it('fails a missing CA file with open <path>: no such file or directory reading <nil> (libs prints its nil reader)', () => {
    const missing = file('missing-ca.crt');
    expect(materialError(() => loadCertificateAuthorities([missing]))).toMatchObject({
      code: 'FTH_FILE_UNREADABLE',
      libsMessage: `open ${missing}: no such file or directory reading <nil>`,
    });
  });
});

describe('loading the same pair again', () => {
  it('gives the identity already loaded while the files hold the same bytes', () => {
    const first = loadIdentity(file('agent.crt'), file('agent-pkcs8-encrypted.key'), file('passphrase'));
    expect(loadIdentity(file('agent.crt'), file('agent-pkcs8-encrypted.key'), file('passphrase'))).toBe(first);
  });

  it('reads a file anew once it changed, and fails as that file now does', async () => {
    await writeFile(file('changing.key'), encodePrivateKey(pki.leaves['agent-cert'].key, { format: 'pkcs8' }));
    expect(loadIdentity(file('agent.crt'), file('changing.key')).chain[0]!.subject).toContain('elastic-agent');
    await writeFile(file('changing.key'), encodePrivateKey(pki.leaves['fleet-cert'].key, { format: 'pkcs8' }));
    expect(() => loadIdentity(file('agent.crt'), file('changing.key'))).toThrow(MaterialError);
  });

  it('tells a passphrase given as text from another', () => {
    expect(loadIdentity(file('agent.crt'), file('agent-pkcs8-encrypted.key'), undefined, PASSPHRASE).chain).toHaveLength(1);
    expect(() => loadIdentity(file('agent.crt'), file('agent-pkcs8-encrypted.key'), undefined, 'incorrect horse')).toThrow(MaterialError);
  });
});
