/**
 * The files of an install command, one flag at a time, read as the component that takes the
 * flag reads them (libs for the agent's and Fleet Server's, Java for the fake Elasticsearch's),
 * and what the doctor finds wrong with each. A file that is not what its flag wants at all
 * (a key where a certificate belongs, a CSR, an unreadable file) is bad input: HarnessError
 * (the doctor gathers every such file before it stops, since none depends on another).
 */
import { readFileSync } from 'node:fs';
import { HarnessError, systemErrorCode } from '../errors.js';
import { describeContent, describeKey, type Content } from '../tls/formats.js';
import { loadIdentity, MaterialError, type Identity } from '../tls/material.js';
import { readKeystore } from '../tls/pkcs12.js';
import { caSha256Pin, caTrustedFingerprint } from '../x509/libs-verify.js';
import { parseCertificate, type Cert } from '../x509/certificate.js';
import { pemDecodeAll } from '../tls/pem.js';
import { conversionFix, finding, sh, toPkcs8Fix, type Finding } from './findings.js';

export interface IdentityFlags {
  readonly certFlag: string;
  readonly keyFlag: string;
  /** Absent: the component has no passphrase setting for this key (e.g. --fleet-server-es-cert-key). */
  readonly passphraseFlag?: string;
  readonly cert: string;
  readonly key: string;
  readonly passphrase?: string;
  readonly usage: 'serverAuth' | 'clientAuth';
}

export interface InspectedIdentity {
  /** What the component loads, or undefined when it fails to (see the findings). */
  readonly loaded?: Identity;
  /** The certificates the file holds, even when the component cannot load them, for the trust checks. */
  readonly chain: readonly Cert[];
  readonly findings: Finding[];
}

export interface InspectOptions {
  /** Password of PKCS#12 files given to the agent's flags (they are read to suggest the conversion). */
  readonly p12Password?: string;
  readonly now?: Date;
}

function readBytes(flag: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    const reason = systemErrorCode(error) === 'ENOENT' ? 'no such file or directory' : (error as Error).message;
    throw new HarnessError('FTH_FILE_UNREADABLE', `${flag} ${file}: ${reason}`);
  }
}

function notWhatItWants(flag: string, file: string, content: Content, wanted: string): HarnessError {
  return new HarnessError('FTH_FILE_MALFORMED', `${flag} ${file}: holds ${content.summary}, not ${wanted}`);
}

function keystoreOf(flag: string, file: string, options: InspectOptions) {
  try {
    return readKeystore(file, options.p12Password ?? '');
  } catch (error) {
    if (error instanceof MaterialError) {
      const hint = error.code === 'FTH_KEY_PASSPHRASE' ? ' (give it with --p12-password)' : '';
      throw new HarnessError(error.code, `${flag} ${error.message}${hint}`);
    }
    throw error;
  }
}

/**
 * The certificates of a PEM file that Go can parse; each block labelled CERTIFICATE that it
 * cannot is a finding of its own (crypto/tls sends such bytes on and the peer refuses them;
 * AppendCertsFromPEM skips them), so one corrupt block does not hide the rest of the file.
 */
function readPemChain(flag: string, file: string, findings: Finding[]): Cert[] {
  const chain: Cert[] = [];
  pemDecodeAll(readFileSync(file, 'latin1')).forEach((block, index) => {
    if (block.type !== 'CERTIFICATE') return;
    try {
      chain.push(parseCertificate(block.bytes));
    } catch (error) {
      findings.push(finding('error', flag, file, 'CERT_MALFORMED', `PEM block ${index + 1} is labelled CERTIFICATE but Go cannot parse it (${(error as Error).message})`,
        `export the certificate again as PEM (openssl x509 -in ORIGINAL -out ${sh(file)})`));
    }
  });
  return chain;
}

/** Validity and extended key usage of a leaf, as Go's verification will judge them. */
export function leafFindings(flag: string, file: string, leaf: Cert, usage: 'serverAuth' | 'clientAuth', now: Date): Finding[] {
  const out: Finding[] = [];
  const renew = `issue a new certificate for ${leaf.subject} and replace ${file}`;
  if (now > leaf.notAfter) out.push(finding('error', flag, file, 'CERT_EXPIRED', `${leaf.subject} expired on ${leaf.notAfterText}`, renew));
  else if (now < leaf.notBefore) out.push(finding('error', flag, file, 'CERT_NOT_YET_VALID', `${leaf.subject} is valid only from ${leaf.notBeforeText} (check the clocks)`, 'wait, or fix the clock of the machine that issued it'));
  else if (leaf.notAfter.getTime() - now.getTime() < 30 * 86_400_000) {
    out.push(finding('warning', flag, file, 'CERT_EXPIRES_SOON', `${leaf.subject} expires on ${leaf.notAfterText}, in less than 30 days`, renew));
  }
  const eku = leaf.extKeyUsage;
  if (eku.length > 0 && !eku.includes(usage) && !eku.includes('any')) {
    const role = usage === 'serverAuth' ? 'a TLS server' : 'a TLS client';
    out.push(finding('error', flag, file, 'CERT_EKU',
      `${leaf.subject} has extended key usage ${eku.join(', ')} without ${usage}, so it cannot serve as ${role} (x509: certificate specifies an incompatible key usage)`,
      `reissue it with extendedKeyUsage = ${usage} (openssl: -addext "extendedKeyUsage=${usage}")`));
  }
  return out;
}

function keyFindings(flags: IdentityFlags, content: Content): Finding[] {
  const out: Finding[] = [];
  for (const key of content.keys) {
    const what = describeKey(key);
    if (key.encoding === 'unknown') out.push(finding('error', flags.keyFlag, flags.key, 'KEY_UNREADABLE', `${what}: its body is neither PKCS#1, PKCS#8 nor SEC1 (tls: failed to parse private key)`, 'export the key again: openssl pkey -in KEY -out key.pem'));
    else if (key.encoding === 'legacy-encrypted') {
      out.push(finding('warning', flags.keyFlag, flags.key, 'KEY_LEGACY_ENCRYPTED',
        `${what}: the agent decrypts it but logs "Encrypted PKCS#1 PEM keys are deprecated and insecure, support will be removed in a future release; please convert the key to encrypted PKCS#8"; FIPS agents and disable_legacy_pem_support refuse it`,
        toPkcs8Fix(flags.key)));
    } else if (!['PRIVATE KEY', 'ENCRYPTED PRIVATE KEY'].includes(key.label) && key.encoding === 'pkcs8') {
      out.push(finding('info', flags.keyFlag, flags.key, 'KEY_LABEL_MISMATCH',
        `${what}: Go reads the body whatever the label says, but OpenSSL and Java tools refuse it`,
        `nothing for the agent; for other tools relabel it: sed 's/BEGIN ${key.label}/BEGIN PRIVATE KEY/;s/END ${key.label}/END PRIVATE KEY/' ${sh(flags.key)}`));
    }
  }
  return out;
}

/** A certificate and key flag pair, with its passphrase file. */
export function inspectIdentity(flags: IdentityFlags, options: InspectOptions = {}): InspectedIdentity {
  const now = options.now ?? new Date();
  const findings: Finding[] = [];
  const certContent = describeContent(readBytes(flags.certFlag, flags.cert));
  const keyContent = describeContent(readBytes(flags.keyFlag, flags.key));
  let chain: Cert[] = [];
  if (certContent.kind === 'pem' && certContent.certificates > 0) chain = readPemChain(flags.certFlag, flags.cert, findings);
  else if (certContent.kind === 'der-certificate') {
    chain = [parseCertificate(readFileSync(flags.cert))];
    findings.push(finding('error', flags.certFlag, flags.cert, 'FORMAT_DER', `${certContent.summary}: the agent reads PEM only (no pem file ${flags.cert})`, conversionFix('der-certificate', 'certificate', flags.cert)));
  } else if (certContent.kind === 'pkcs12') {
    const store = keystoreOf(flags.certFlag, flags.cert, options);
    chain = [...(store.identity?.chain ?? [])];
    const entries = store.entries.map((e) => `${e.alias} (${e.kind})`).join(', ');
    findings.push(finding('error', flags.certFlag, flags.cert, 'FORMAT_PKCS12', `a PKCS#12 keystore with ${entries}: the agent reads PEM only (no pem file ${flags.cert})`, conversionFix('pkcs12', 'certificate', flags.cert)));
  } else throw notWhatItWants(flags.certFlag, flags.cert, certContent, 'a certificate');

  if (keyContent.kind === 'der-key') findings.push(finding('error', flags.keyFlag, flags.key, 'FORMAT_DER', `${keyContent.summary}: the agent reads PEM only (no pem file ${flags.key})`, conversionFix('der-key', 'key', flags.key)));
  else if (keyContent.kind === 'pkcs12') {
    if (flags.key !== flags.cert) keystoreOf(flags.keyFlag, flags.key, options);
    findings.push(finding('error', flags.keyFlag, flags.key, 'FORMAT_PKCS12', `a PKCS#12 keystore: the agent reads PEM only (no pem file ${flags.key})`, conversionFix('pkcs12', 'key', flags.key)));
  } else if (keyContent.kind !== 'pem' || keyContent.keys.length === 0) throw notWhatItWants(flags.keyFlag, flags.key, keyContent, 'a private key');
  else findings.push(...keyFindings(flags, keyContent));

  if (chain[0]) findings.push(...leafFindings(flags.certFlag, flags.cert, chain[0], flags.usage, now));
  if (findings.some((f) => f.code === 'FORMAT_DER' || f.code === 'FORMAT_PKCS12')) return { chain, findings };

  const encrypted = keyContent.keys.some((k) => k.encoding === 'encrypted-pkcs8' || k.encoding === 'legacy-encrypted');
  if (encrypted && !flags.passphrase) {
    const fix = flags.passphraseFlag
      ? `${flags.passphraseFlag}=/absolute/path/to/passphrase-file (the passphrase alone, no newline: printf '%s' 'PASSPHRASE' > file)`
      : `there is no passphrase flag for ${flags.keyFlag}: store it unencrypted (openssl pkey -in ${sh(flags.key)} -out ${sh(`${flags.key}.plain`)}, then chmod 600)`;
    findings.push(finding('error', flags.keyFlag, flags.key, 'KEY_NO_PASSPHRASE', `the key is encrypted and no passphrase is given (no PEM blocks\nno passphrase available ${flags.key})`.replace('\n', ', '), fix));
    return { chain, findings };
  }
  if (flags.passphrase) readBytes(flags.passphraseFlag ?? 'passphrase', flags.passphrase);
  try {
    const loaded = loadIdentity(flags.cert, flags.key, flags.passphrase);
    return { loaded, chain: loaded.chain, findings };
  } catch (error) {
    if (!(error instanceof MaterialError)) throw error;
    findings.push(loadFailure(flags, error));
    return { chain, findings };
  }
}

function loadFailure(flags: IdentityFlags, error: MaterialError): Finding {
  const hidden = error.code === 'FTH_KEY_PASSPHRASE' && error.libsMessage.startsWith('no pem file')
    ? '; libs says only "no pem file" because something follows the key block' : '';
  const said = error.libsMessage.replace(/\n/g, ', ') + hidden;
  if (error.code === 'FTH_KEY_MISMATCH') {
    return finding('error', flags.keyFlag, flags.key, 'KEY_MISMATCH', `the key does not belong to ${flags.cert} (${said})`,
      `use the key ${flags.cert} was issued for; compare openssl x509 -noout -pubkey -in ${sh(flags.cert)} | openssl sha256 with openssl pkey -pubout -in ${sh(flags.key)} | openssl sha256`);
  }
  if (error.code === 'FTH_KEY_PASSPHRASE' && flags.passphrase) {
    const secret = readFileSync(flags.passphrase, 'latin1');
    const trimmed = secret.replace(/\r?\n$/, '');
    if (trimmed !== secret) {
      try {
        loadIdentity(flags.cert, flags.key, undefined, trimmed);
        return finding('error', flags.passphraseFlag!, flags.passphrase, 'PASSPHRASE_TRAILING_NEWLINE',
          `the passphrase file ends with a newline, which the agent reads as part of the passphrase (${said})`,
          `printf '%s' "$(cat ${sh(flags.passphrase)})" > ${sh(`${flags.passphrase}.tmp`)} && mv ${sh(`${flags.passphrase}.tmp`)} ${sh(flags.passphrase)}`);
      } catch { /* wrong either way */ }
    }
    return finding('error', flags.passphraseFlag!, flags.passphrase, 'PASSPHRASE_WRONG', `the passphrase does not decrypt ${flags.key} (${said})`, 'put the passphrase the key was encrypted with in the file, without a newline');
  }
  if (/pkcs8: (only|unsupported)/.test(error.libsMessage)) {
    return finding('error', flags.keyFlag, flags.key, 'KEY_ENCRYPTION_UNSUPPORTED', `the agent cannot decrypt this key's encryption (${said})`, toPkcs8Fix(flags.key));
  }
  return finding('error', error.role === 'certificate' ? flags.certFlag : flags.keyFlag, error.file, 'KEY_UNREADABLE', `the agent refuses it: ${said}`, 'export the certificate and key again as PEM');
}

/** A CA flag: what libs (or Java, for the fake Elasticsearch) trusts, and the fingerprints customers need. */
export function inspectAuthorities(flag: string, files: readonly string[], options: InspectOptions = {}): { certs: Cert[]; findings: Finding[] } {
  const certs: Cert[] = [];
  const findings: Finding[] = [];
  for (const file of files) {
    const content = describeContent(readBytes(flag, file));
    let found: Cert[];
    if (content.kind === 'pem' && content.certificates > 0) found = readPemChain(flag, file, findings);
    else if (content.kind === 'der-certificate') {
      found = [parseCertificate(readFileSync(file))];
      findings.push(finding('error', flag, file, 'FORMAT_DER', `${content.summary}: libs reads PEM only (file is not a certificate adding ${file} to the list of known CAs)`, conversionFix('der-certificate', 'authority', file)));
    } else if (content.kind === 'pkcs12') {
      const store = keystoreOf(flag, file, options);
      // elastic-stack-ca.p12 holds its CA as a key entry; elastic-certificates.p12 as a `ca` certificate entry.
      found = store.trusted.length ? [...store.trusted] : (store.identity?.chain ?? []).filter((cert) => cert.isCA);
      const fix = store.trusted.length ? conversionFix('pkcs12', 'authority', file) : conversionFix('pkcs12', 'key-entry-ca', file);
      findings.push(finding('error', flag, file, 'FORMAT_PKCS12', `a PKCS#12 keystore (${store.entries.map((e) => `${e.alias} (${e.kind})`).join(', ')}): libs reads PEM only`, fix));
    } else throw notWhatItWants(flag, file, content, 'a CA certificate');
    for (const cert of found) {
      if (!cert.isCA) findings.push(finding('warning', flag, file, 'CA_NOT_CA', `${cert.subject} is not a CA certificate (no basicConstraints CA:TRUE): it can only vouch for itself`, 'give the certificate of the CA that issued the server or client certificate'));
      if ((options.now ?? new Date()) > cert.notAfter) findings.push(finding('error', flag, file, 'CERT_EXPIRED', `the CA ${cert.subject} expired on ${cert.notAfterText}`, 'renew the CA and reissue what it signed'));
      findings.push(finding('info', flag, file, 'FINGERPRINTS', `${cert.subject}: ca_trusted_fingerprint ${caTrustedFingerprint(cert)}; ca_sha256 ${caSha256Pin(cert)}`));
    }
    certs.push(...found);
  }
  return { certs, findings };
}
