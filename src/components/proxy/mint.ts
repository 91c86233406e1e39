import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { issueCertificate } from '../../pki/issue.js';
import { parseCertificate, type Cert } from '../../x509/certificate.js';
import { identityFromPem, type Identity } from '../../tls/material.js';
import { issueCa } from '../../pki/generate.js';

/** A certificate the proxy made for one host, with the chain it presents (the minted leaf, then its root). */
export interface Minted {
  readonly cert: Cert;
  readonly chainPem: string;
  readonly keyPem: string;
}

/**
 * Mints server certificates on the fly, signed by the proxy's root, as squid's
 * `generate-host-certificates=on` does: with the upstream certificate in hand it mimics its
 * subject, names and validity (squid's "mimicking"); without one (the upstream handshake failed,
 * or the client asked for an IP and sent no SNI) the subject is the requested host alone. The
 * minted certificates carry the root's own key, as squid's security_file_certgen does, so one key
 * serves every host; harmless for a fake, and what a real interception proxy's chain looks like.
 */
export class CertificateMinter {
  private readonly cache = new Map<string, Minted>();
  private readonly rootKey: KeyObject;
  private readonly publicKey: KeyObject;
  private readonly root: Cert;

  constructor(private readonly identity: Identity) {
    this.root = identity.chain[0]!;
    this.rootKey = createPrivateKey(identity.keyPem);
    this.publicKey = createPublicKey(this.rootKey);
  }

  /** The root the minted certificates chain to (what a client must trust for interception to pass). */
  get rootCertificate(): Cert {
    return this.root;
  }

  mint(host: string, upstream: Cert | undefined): Minted {
    const key = `${host}|${upstream?.sha256Hex ?? ''}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const ip = isIP(host) !== 0;
    const now = Date.now();
    const issued = issueCertificate({
      subject: upstream ? { raw: upstream.rawSubject } : { commonName: host },
      publicKey: this.publicKey,
      issuer: { der: this.root.der, key: this.rootKey },
      notBefore: upstream?.notBefore ?? new Date(now - 60_000),
      notAfter: upstream?.notAfter ?? new Date(now + 365 * 86_400_000),
      // Observed with squid 5.7: an IP target without SNI gets a certificate naming the IP in its
      // CN only, which Go refuses ("doesn't contain any IP SANs").
      ...(upstream
        ? { dnsNames: upstream.dnsNames, ipAddresses: upstream.ipAddresses, subjectAltName: upstream.hasSanExtension }
        : ip ? { subjectAltName: false } : { dnsNames: [host] }),
    });
    const minted: Minted = {
      cert: parseCertificate(issued.der),
      chainPem: `${issued.pem}${this.root.pem}`,
      keyPem: this.identity.keyPem,
    };
    this.cache.set(key, minted);
    return minted;
  }
}

/** The common name of the root a proxy makes for itself when none is given. */
export const GENERATED_ROOT_NAME = 'fleet-tls-harness TLS inspection CA';

/** A fresh ECDSA P-256 root for a proxy started without one (what an administrator's `openssl req -x509` makes). */
export function generatedRoot(): Identity {
  const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ca = issueCa(GENERATED_ROOT_NAME, key);
  return identityFromPem(ca.pem, key.privateKey);
}
