import { writeFile } from 'node:fs/promises';
import { ensureDir } from '../files.js';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { encodePrivateKey, generateKey, type KeyPair } from '../pki/keys.js';
import { issueCa, issueLeaf, type KeyedCertificate } from '../pki/generate.js';
import { ENCRYPTED_KEY, LEAF_PROFILES, ORGANIZATION, type CaName, type LeafName } from '../pki/profiles.js';
import type { CertificateSpec } from '../pki/issue.js';
import type { Pki } from '../pki/store.js';
import type { CertificateVariantData } from './schema.js';

/**
 * Writes a scenario's certificates to `dir` as `<name>.crt` and `<name>.key`, so the flow reads
 * real files through the same `/path/to/<name>` placeholders as the PKI's own objects. A leaf
 * variant keeps its base leaf's key (the scenario is about the certificate, not the key) unless
 * it asks for another key type; CAs get keys of their own.
 */
export async function materialise(variants: Readonly<Record<string, CertificateVariantData>>, pki: Pki, dir: string, now = Date.now()): Promise<void> {
  await ensureDir(dir, 0o700);
  const made = new Map<string, KeyedCertificate>();
  const issuerOf = (name: string): KeyedCertificate => made.get(name) ?? pki.cas[name as CaName];
  const ordered = Object.entries(variants).sort(([, a], [, b]) => Number(Boolean(b.ca)) - Number(Boolean(a.ca)));
  for (const [name, variant] of ordered) {
    const key = await keyFor(variant, pki);
    const overrides: Partial<CertificateSpec> = {
      ...(variant.notBefore ? { notBefore: new Date(now + offset(variant.notBefore)) } : {}),
      ...(variant.notAfter ? { notAfter: new Date(now + offset(variant.notAfter)) } : {}),
      ...(variant.commonName ? { subject: { commonName: variant.commonName, organization: ORGANIZATION } } : {}),
      ...(variant.dnsNames ? { dnsNames: variant.dnsNames } : {}),
      ...(variant.ipAddresses ? { ipAddresses: variant.ipAddresses } : {}),
      ...(variant.subjectAltName === false ? { subjectAltName: false } : {}),
      ...(variant.extendedKeyUsage ? { extendedKeyUsage: variant.extendedKeyUsage === 'none' ? null : variant.extendedKeyUsage } : {}),
    };
    const issued = variant.ca
      ? issueCa(variant.commonName ?? name, key, now, overrides)
      : issueLeaf(variant.from!, issuerOf(variant.issuer ?? defaultIssuer(variant.from!)), key, overrides, now);
    made.set(name, issued);
    await writeFile(path.join(dir, `${name}.crt`), issued.pem, { mode: 0o644 });
    const encoding = variant.from === ENCRYPTED_KEY ? { format: 'pkcs8-encrypted' as const, passphrase: pki.passphrase } : { format: 'pkcs8' as const };
    await writeFile(path.join(dir, `${name}.key`), encodePrivateKey(issued.key, encoding), { mode: 0o600 });
  }
}

async function keyFor(variant: CertificateVariantData, pki: Pki): Promise<Pick<KeyPair, 'privateKey' | 'publicKey'>> {
  const base = variant.from ? pki.leaves[variant.from] : undefined;
  if (base && (!variant.keyType || variant.keyType === pki.keyType)) {
    return { privateKey: base.key, publicKey: new X509Certificate(base.der).publicKey };
  }
  return generateKey(variant.keyType ?? pki.keyType);
}

function defaultIssuer(leaf: LeafName): CaName {
  return LEAF_PROFILES[leaf].issuer;
}

const UNIT_MS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `-1d`, `+30d`, `12h` as milliseconds from now. */
export function offset(duration: string): number {
  const match = /^([+-]?)(\d+)([smhd])$/.exec(duration)!;
  return (match[1] === '-' ? -1 : 1) * Number(match[2]) * UNIT_MS[match[3]!]!;
}

