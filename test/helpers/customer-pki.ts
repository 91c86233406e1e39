import { randomBytes } from 'node:crypto';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';

/**
 * Certificates as customers make them: with the openssl CLI, in every format they bring, and
 * a PKCS#12 shaped like elasticsearch-certutil's (keytool adds its trusted `ca` entry).
 * Keys are EC P-256 unless the format needs RSA (PKCS#1, `-traditional`), to stay fast.
 */
export interface CustomerPki {
  readonly dir: string;
  file(name: string): string;
}

export const PASSPHRASE = 'Ch4nge-me';
export const P12_PASSWORD = 'certutil-pass';

async function openssl(dir: string, args: readonly string[], input?: string): Promise<void> {
  await execa('openssl', args, { cwd: dir, ...(input !== undefined ? { input } : {}) });
}

async function ecKey(dir: string, name: string): Promise<void> {
  await openssl(dir, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', name]);
}

/** A certificate signed by `ca`, with the extensions given (openssl x509 -req -extfile). */
async function sign(dir: string, name: string, key: string, subject: string, ca: string, extensions: string): Promise<void> {
  await writeFile(path.join(dir, `${name}.ext`), extensions);
  await openssl(dir, ['req', '-new', '-key', key, '-subj', subject, '-out', `${name}.csr`]);
  await openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`,
    // A serial of its own: -CAcreateserial races on the CA's .srl file when signing in parallel.
    '-set_serial', `0x${randomBytes(12).toString('hex')}`,
    '-days', '90', '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.crt`]);
}

const SERVER = 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n';
const CLIENT = 'extendedKeyUsage=clientAuth\n';
const CA = 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n';

/** `certutilTrust`: give elastic-certificates.p12 its trusted `ca` entry with keytool (a JVM start, so only where needed). */
export async function customerPki(dir: string, options: { certutilTrust?: boolean } = {}): Promise<CustomerPki> {
  const run = (args: readonly string[], input?: string) => openssl(dir, args, input);
  // Roots: the customer's, and another one nobody trusts.
  await Promise.all(['root', 'other-root'].map(async (name) => {
    await ecKey(dir, `${name}.key`);
    await run(['req', '-x509', '-new', '-key', `${name}.key`, '-subj', `/CN=Customer ${name} CA`, '-days', '90',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', `${name}.crt`]);
  }));
  await Promise.all(['int', 'fleet', 'es', 'agent', 'fleet-es', 'rogue-agent', 'wrong-san', 'cn-only', 'client-only'].map((n) => ecKey(dir, `${n}.key`)));
  await sign(dir, 'int', 'int.key', '/CN=Customer Intermediate CA', 'root', CA);
  await Promise.all([
    sign(dir, 'fleet', 'fleet.key', '/CN=fleet-server', 'int', SERVER),
    sign(dir, 'es', 'es.key', '/CN=elasticsearch', 'root', SERVER),
    sign(dir, 'agent', 'agent.key', '/CN=agent', 'root', CLIENT),
    sign(dir, 'fleet-es', 'fleet-es.key', '/CN=fleet-server-es-client', 'root', CLIENT),
    sign(dir, 'rogue-agent', 'rogue-agent.key', '/CN=rogue agent', 'other-root', CLIENT),
    sign(dir, 'wrong-san', 'wrong-san.key', '/CN=fleet.example.com', 'root', 'subjectAltName=DNS:fleet.example.com\nextendedKeyUsage=serverAuth\n'),
    sign(dir, 'cn-only', 'cn-only.key', '/CN=localhost', 'root', 'extendedKeyUsage=serverAuth\n'),
    sign(dir, 'client-only', 'client-only.key', '/CN=client only', 'root', `subjectAltName=DNS:localhost\n${CLIENT}`),
  ]);
  const cat = async (out: string, ...names: string[]) => {
    await writeFile(path.join(dir, out), (await Promise.all(names.map((n) => readFile(path.join(dir, n), 'latin1')))).join(''));
  };
  await Promise.all([
    cat('fleet-chain.crt', 'fleet.crt', 'int.crt'),
    cat('cas.crt', 'root.crt', 'other-root.crt'),
    writeFile(path.join(dir, 'passphrase'), PASSPHRASE),
    writeFile(path.join(dir, 'passphrase-newline'), `${PASSPHRASE}\n`),
    writeFile(path.join(dir, 'wrong-passphrase'), 'not-the-passphrase'),
    // RSA keys in the formats of customers' tools: genrsa -traditional (PKCS#1, and legacy encrypted).
    run(['genrsa', '-traditional', '-out', 'rsa-agent.key', '2048']),
    // Encrypted PKCS#8 (OpenSSL 3's default PBES2) and PKCS#8 under PBES1, which youmark/pkcs8 refuses.
    run(['pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-in', 'fleet.key', '-passout', `pass:${PASSPHRASE}`, '-out', 'fleet-pkcs8-enc.key']),
    run(['pkcs8', '-topk8', '-v1', 'PBE-SHA1-3DES', '-in', 'fleet.key', '-passout', `pass:${PASSPHRASE}`, '-out', 'fleet-pbes1.key']),
    run(['x509', '-in', 'root.crt', '-outform', 'der', '-out', 'root.der']),
    run(['x509', '-in', 'fleet.crt', '-outform', 'der', '-out', 'fleet.der']),
  ]);
  // The agent's certificate on an RSA key, so its key can be legacy encrypted (-traditional -aes256).
  await sign(dir, 'rsa-agent', 'rsa-agent.key', '/CN=rsa agent', 'root', CLIENT);
  await Promise.all([
    run(['rsa', '-in', 'rsa-agent.key', '-aes256', '-traditional', '-passout', `pass:${PASSPHRASE}`, '-out', 'rsa-agent-legacy.key']),
    // What `openssl pkcs12 -export` makes of the same: its `-caname ca` certificate is no Java entry.
    run(['pkcs12', '-export', '-in', 'es.crt', '-inkey', 'es.key', '-name', 'instance', '-certfile', 'root.crt', '-caname', 'ca',
      '-passout', `pass:${P12_PASSWORD}`, '-out', 'openssl-export.p12']),
    run(['pkcs12', '-export', '-in', 'fleet.crt', '-inkey', 'fleet.key', '-name', 'fleet-server', '-certfile', 'int.crt',
      '-passout', 'pass:', '-out', 'fleet-nopass.p12']),
    // certutil ca's elastic-stack-ca.p12: the CA as the key entry `ca`, no password.
    run(['pkcs12', '-export', '-in', 'root.crt', '-inkey', 'root.key', '-name', 'ca', '-passout', 'pass:', '-out', 'elastic-stack-ca.p12']),
  ]);
  // elasticsearch-certutil's elastic-certificates.p12 is written by Java's KeyStore API: the instance key
  // entry, then a trusted `ca` entry, which keytool adds the same way.
  await copyFile(path.join(dir, 'openssl-export.p12'), path.join(dir, 'elastic-certificates.p12'));
  if (options.certutilTrust) await execa('keytool', ['-importcert', '-noprompt', '-alias', 'ca', '-file', 'root.crt', '-keystore', 'elastic-certificates.p12',
    '-storetype', 'PKCS12', '-storepass', P12_PASSWORD], { cwd: dir });
  return { dir, file: (name) => path.join(dir, name) };
}
