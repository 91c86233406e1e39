import { createHash, X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ensureDir } from '../files.js';
import { encodePrivateKey, generateKey, type KeyPair, type KeyType, type PrivateKeyEncoding } from '../pki/keys.js';
import { issueCa, issueLeaf, type KeyedCertificate } from '../pki/generate.js';
import { ENCRYPTED_KEY, LEAF_PROFILES, ORGANIZATION, type CaName, type LeafName } from '../pki/profiles.js';
import type { CertificateSpec } from '../pki/issue.js';
import type { Pki } from '../pki/store.js';
import { HarnessError } from '../errors.js';
import type { CertificateVariantData, MadeFileData, PassphraseFileData } from './schema.js';

/** A certificate the scenario made, with the issuer it hangs from (for chain files). */
interface Made extends KeyedCertificate {
  readonly parent?: string;
  readonly selfSigned: boolean;
}

/** Every certificate a scenario can name: its own, then the PKI's. */
export interface ScenarioMaterial {
  readonly dir: string;
  readonly certificates: ReadonlyMap<string, KeyedCertificate>;
}

/**
 * Writes a scenario's certificates to `dir` as `<name>.crt` and `<name>.key` and its
 * passphrase files as `<name>`, so the flow reads real files through the same
 * `/path/to/<name>` placeholders as the PKI's own objects. A leaf variant keeps its base leaf's
 * key (the scenario is about the certificate, not the key) unless it asks for another key type
 * or another certificate's key; CAs get keys of their own.
 */
export async function materialise(
  variants: Readonly<Record<string, CertificateVariantData>>,
  pki: Pki,
  dir: string,
  passphraseFiles: Readonly<Record<string, PassphraseFileData>> = {},
  now = Date.now(),
): Promise<ScenarioMaterial> {
  await ensureDir(dir, 0o700);
  const made = new Map<string, Made>();
  const fresh = freshKeys();
  const known = (name: string): KeyedCertificate | undefined =>
    made.get(name) ?? pki.cas[name as CaName] ?? pki.leaves[name as LeafName];
  const issuerOf = (name: string): KeyedCertificate => {
    const issuer = made.get(name) ?? pki.cas[name as CaName];
    if (!issuer) throw new HarnessError('FTH_SCENARIO_SCHEMA', `certificates: issuer '${name}' is neither a PKI CA nor a CA of the scenario defined before it`);
    return issuer;
  };
  for (const [name, variant] of issuingOrder(variants)) {
    const key = await keyFor(variant, pki, known, fresh);
    const overrides: Partial<CertificateSpec> = {
      ...(variant.notBefore ? { notBefore: new Date(now + offset(variant.notBefore)) } : {}),
      ...(variant.notAfter ? { notAfter: new Date(now + offset(variant.notAfter)) } : {}),
      ...(variant.commonName ? { subject: { commonName: variant.commonName, organization: ORGANIZATION } } : {}),
      ...(variant.dnsNames ? { dnsNames: variant.dnsNames } : {}),
      ...(variant.ipAddresses ? { ipAddresses: variant.ipAddresses } : {}),
      ...(variant.subjectAltName === false ? { subjectAltName: false } : {}),
      ...(variant.extendedKeyUsage ? { extendedKeyUsage: variant.extendedKeyUsage === 'none' ? null : variant.extendedKeyUsage } : {}),
      ...(variant.isCA === false ? { isCA: false, keyUsage: ['digitalSignature', 'keyCertSign'] as const } : {}),
      ...(variant.pathLength !== undefined ? { pathLength: variant.pathLength } : {}),
      ...(variant.nameConstraints ? { nameConstraints: variant.nameConstraints } : {}),
      ...(variant.criticalExtension ? { criticalExtension: variant.criticalExtension } : {}),
      ...(variant.version === 1 ? { version: 1 as const } : {}),
    };
    let issued: Made;
    if (variant.ca) {
      const parent = variant.issuer ? issuerOf(variant.issuer) : undefined;
      issued = {
        ...issueCa(variant.commonName ?? name, key, now, { ...overrides, ...(parent ? { issuer: { der: parent.der, key: parent.key } } : {}) }),
        ...(variant.issuer ? { parent: variant.issuer } : {}),
        selfSigned: !parent,
      };
    } else {
      const parent = variant.issuer ?? defaultIssuer(variant.from!);
      issued = { ...issueLeaf(variant.from!, issuerOf(parent), key, overrides, now), parent, selfSigned: false };
    }
    made.set(name, issued);
    await writeFile(path.join(dir, `${name}.crt`), chainPem(name, variant.chain ?? 'with-intermediates', made, pki), { mode: 0o644 });
    await writeFile(path.join(dir, `${name}.key`), encodePrivateKey(issued.key, keyEncoding(variant, pki)), { mode: 0o600 });
  }
  for (const [name, file] of Object.entries(passphraseFiles)) {
    await writeFile(path.join(dir, name), `${file.value ?? pki.passphrase}${file.trailingNewline ? '\n' : ''}`, { mode: 0o600 });
  }
  return { dir, certificates: new Map([...pkiCertificates(pki), ...made]) };
}

/** Writes a scenario's `files` into its directory, each under its exact name (mode 0600: a file may hold a key). */
export async function writeMadeFiles(files: Readonly<Record<string, MadeFileData>>, certificates: ReadonlyMap<string, KeyedCertificate>, dir: string): Promise<void> {
  for (const [name, file] of Object.entries(files)) {
    let bytes: Buffer;
    if (file.derOf !== undefined) {
      const cert = certificates.get(file.derOf);
      if (!cert) throw new HarnessError('FTH_SCENARIO_SCHEMA', `files.${name}.derOf: no certificate named '${file.derOf}'`);
      bytes = cert.der;
    } else {
      bytes = Buffer.from(file.text ?? '', 'utf8');
    }
    await writeFile(path.join(dir, name), bytes, { mode: 0o600 });
  }
}

/** The PKI's own certificates by name, for fingerprint templates. */
export function pkiCertificates(pki: Pki): Map<string, KeyedCertificate> {
  return new Map<string, KeyedCertificate>([...Object.entries(pki.cas), ...Object.entries(pki.leaves)]);
}

/** CAs before the leaves they issue, each CA after its own issuer. */
function issuingOrder(variants: Readonly<Record<string, CertificateVariantData>>): Array<[string, CertificateVariantData]> {
  const entries = Object.entries(variants);
  const done = new Set<string>();
  const ordered: Array<[string, CertificateVariantData]> = [];
  const visit = (name: string, variant: CertificateVariantData, depth: number) => {
    if (done.has(name) || depth > entries.length) return;
    const parent = variant.issuer !== undefined ? variants[variant.issuer] : undefined;
    if (parent) visit(variant.issuer!, parent, depth + 1);
    done.add(name);
    ordered.push([name, variant]);
  };
  for (const [name, variant] of entries.filter(([, v]) => v.ca)) visit(name, variant, 0);
  for (const [name, variant] of entries) visit(name, variant, 0);
  return ordered;
}

/** The .crt file: the certificate, then the scenario CAs above it (the PKI's roots only with `with-root`). */
function chainPem(name: string, chain: NonNullable<CertificateVariantData['chain']>, made: ReadonlyMap<string, Made>, pki: Pki): string {
  const pems = [made.get(name)!.pem];
  if (chain === 'leaf') return pems.join('');
  let parent = made.get(name)!.parent;
  while (parent !== undefined) {
    const above = made.get(parent);
    if (!above) {
      if (chain === 'with-root') pems.push(pki.cas[parent as CaName].pem);
      break;
    }
    if (above.selfSigned && chain !== 'with-root') break;
    pems.push(above.pem);
    parent = above.parent;
  }
  return pems.join('');
}

/**
 * Keys for what a scenario makes anew (its CAs, a leaf of another key type). Within a scenario
 * each is distinct, as their meaning needs (a CA sharing a key with another would verify its
 * certificates); across scenarios, which never meet, the n-th new key of a type is the same one,
 * so a run generates a handful of keys instead of one per CA.
 */
const spareKeys = new Map<string, Promise<KeyPair>>();

function freshKeys(): (type: KeyType) => Promise<KeyPair> {
  const used = new Map<KeyType, number>();
  return (type) => {
    const index = used.get(type) ?? 0;
    used.set(type, index + 1);
    const slot = `${type}#${index}`;
    if (!spareKeys.has(slot)) spareKeys.set(slot, generateKey(type));
    return spareKeys.get(slot)!;
  };
}

async function keyFor(
  variant: CertificateVariantData, pki: Pki, known: (name: string) => KeyedCertificate | undefined, fresh: (type: KeyType) => Promise<KeyPair>,
): Promise<Pick<KeyPair, 'privateKey' | 'publicKey'>> {
  if (variant.keyOf) {
    const other = known(variant.keyOf);
    if (!other) throw new HarnessError('FTH_SCENARIO_SCHEMA', `certificates: keyOf '${variant.keyOf}' names no certificate defined before it`);
    return { privateKey: other.key, publicKey: new X509Certificate(other.der).publicKey };
  }
  const base = variant.from ? pki.leaves[variant.from] : undefined;
  if (base && (!variant.keyType || variant.keyType === pki.keyType)) {
    return { privateKey: base.key, publicKey: new X509Certificate(base.der).publicKey };
  }
  return fresh(variant.keyType ?? pki.keyType);
}

function keyEncoding(variant: CertificateVariantData, pki: Pki): PrivateKeyEncoding {
  const format = variant.keyFormat ?? (variant.from === ENCRYPTED_KEY ? 'pkcs8-encrypted' : 'pkcs8');
  switch (format) {
    case 'pkcs8': return { format: 'pkcs8' };
    case 'pkcs8-encrypted': return { format: 'pkcs8-encrypted', passphrase: pki.passphrase };
    case 'pkcs1': return { format: 'traditional' };
    case 'legacy-encrypted': return { format: 'traditional-encrypted', passphrase: pki.passphrase };
  }
}

function defaultIssuer(leaf: LeafName): CaName {
  return LEAF_PROFILES[leaf].issuer;
}

/**
 * `{fingerprint:NAME}` (hex SHA-256 of the DER, as `ca_trusted_fingerprint` wants),
 * `{fingerprint-colons:NAME}` (the same as `openssl x509 -fingerprint` prints it) and
 * `{pin:NAME}` (base64 SHA-256 of the public key, as `ca_sha256` wants) in a flag value.
 */
export function expandCertificateTemplates(value: string, certificates: ReadonlyMap<string, Pick<KeyedCertificate, 'der'>>): string {
  return value.replace(/\{(fingerprint|fingerprint-colons|pin):([a-z0-9-]+)\}/g, (_, kind: string, name: string) => {
    const cert = certificates.get(name);
    if (!cert) throw new HarnessError('FTH_SCENARIO_SCHEMA', `{${kind}:${name}}: no certificate named '${name}'`);
    if (kind === 'pin') {
      const spki = new X509Certificate(cert.der).publicKey.export({ type: 'spki', format: 'der' });
      return createHash('sha256').update(spki).digest('base64');
    }
    const hex = createHash('sha256').update(cert.der).digest('hex');
    return kind === 'fingerprint' ? hex : hex.toUpperCase().match(/../g)!.join(':');
  });
}

const UNIT_MS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `-1d`, `+30d`, `12h` as milliseconds from now. */
export function offset(duration: string): number {
  const match = /^([+-]?)(\d+)([smhd])$/.exec(duration)!;
  return (match[1] === '-' ? -1 : 1) * Number(match[2]) * UNIT_MS[match[3]!]!;
}

