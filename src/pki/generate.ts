import type { KeyObject } from 'node:crypto';
import { generateKey, newPassphrase, type KeyType } from './keys.js';
import { issueCertificate, type CertificateSpec } from './issue.js';
import {
  BACKDATE_MS, CA_NAMES, CA_VALIDITY_MS, LEAF_NAMES, LEAF_PROFILES, LEAF_VALIDITY_MS, LOOPBACK_DNS, LOOPBACK_IPS, ORGANIZATION,
  type CaName, type LeafName,
} from './profiles.js';

/** A certificate with its private key, both in memory. */
export interface KeyedCertificate {
  readonly der: Buffer;
  readonly pem: string;
  readonly key: KeyObject;
}

/** The seven objects of PRODUCT.md's table, plus the agent key's passphrase. */
export interface PkiMaterial {
  readonly keyType: KeyType;
  readonly cas: Readonly<Record<CaName, KeyedCertificate>>;
  readonly leaves: Readonly<Record<LeafName, KeyedCertificate>>;
  readonly passphrase: string;
}

export function issueCa(
  name: string,
  key: { privateKey: KeyObject; publicKey: KeyObject },
  now = Date.now(),
  overrides: Partial<CertificateSpec> = {},
): KeyedCertificate {
  const issued = issueCertificate({
    subject: { commonName: name, organization: ORGANIZATION },
    publicKey: key.publicKey,
    signingKey: key.privateKey,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + CA_VALIDITY_MS),
    isCA: true,
    ...overrides,
  });
  return { ...issued, key: key.privateKey };
}

/**
 * A leaf of the standard PKI, with any property overridden: scenarios use this to make the
 * expired, wrong-host or wrong-usage variant of a certificate from the same issuer.
 */
export function issueLeaf(
  name: LeafName,
  ca: KeyedCertificate,
  key: { privateKey: KeyObject; publicKey: KeyObject },
  overrides: Partial<CertificateSpec> = {},
  now = Date.now(),
): KeyedCertificate {
  const profile = LEAF_PROFILES[name];
  const issued = issueCertificate({
    subject: { commonName: profile.commonName, organization: ORGANIZATION },
    publicKey: key.publicKey,
    issuer: { der: ca.der, key: ca.key },
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + LEAF_VALIDITY_MS),
    extendedKeyUsage: [profile.usage],
    dnsNames: [...LOOPBACK_DNS, profile.hostName],
    ipAddresses: [...LOOPBACK_IPS],
    ...overrides,
  });
  return { ...issued, key: key.privateKey };
}

/** Generates the whole PKI in memory; the seven keys are made in parallel on the thread pool. */
export async function generatePki(keyType: KeyType = 'rsa'): Promise<PkiMaterial> {
  const keys = await Promise.all([...CA_NAMES, ...LEAF_NAMES].map(() => generateKey(keyType)));
  const next = () => keys.shift()!;
  const cas = Object.fromEntries(CA_NAMES.map((name) => [name, issueCa(name, next())])) as Record<CaName, KeyedCertificate>;
  const leaves = Object.fromEntries(
    LEAF_NAMES.map((name) => [name, issueLeaf(name, cas[LEAF_PROFILES[name].issuer], next())]),
  ) as Record<LeafName, KeyedCertificate>;
  return { keyType, cas, leaves, passphrase: newPassphrase() };
}
