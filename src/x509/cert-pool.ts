/**
 * Go 1.19 cert_pool.go: a certificate set indexed by raw subject. The order in which
 * findPotentialParents returns candidates decides which hint an UnknownAuthorityError
 * carries and which chain is found first, so it is kept exactly.
 */
import { rootCertificates } from 'node:tls';
import { parsePemCertificates, type Cert } from './certificate.js';

export class CertPool {
  private readonly byName = new Map<string, Cert[]>();
  private readonly seen = new Set<string>();

  constructor(certs: readonly Cert[] = []) {
    for (const c of certs) this.add(c);
  }

  /** AddCert: a certificate already present (same DER) is ignored. */
  add(cert: Cert): void {
    if (this.seen.has(cert.sha256Hex)) return;
    this.seen.add(cert.sha256Hex);
    const key = cert.rawSubject.toString('hex');
    const list = this.byName.get(key);
    if (list === undefined) this.byName.set(key, [cert]);
    else list.push(cert);
  }

  contains(cert: Cert): boolean {
    return this.seen.has(cert.sha256Hex);
  }

  get size(): number {
    return this.seen.size;
  }

  /**
   * Certificates whose subject is the child's raw issuer: those whose subject key id equals
   * the child's authority key id first (two absent ids count as equal), then those where
   * exactly one id is present, then mismatches; pool order within each group.
   */
  findPotentialParents(child: Cert): Cert[] {
    const candidates = this.byName.get(child.rawIssuer.toString('hex')) ?? [];
    const match: Cert[] = [];
    const oneMissing: Cert[] = [];
    const mismatch: Cert[] = [];
    const aki = child.authorityKeyId ?? Buffer.alloc(0);
    for (const c of candidates) {
      const ski = c.subjectKeyId ?? Buffer.alloc(0);
      if (ski.equals(aki)) match.push(c);
      else if ((ski.length === 0) !== (aki.length === 0)) oneMissing.push(c);
      else mismatch.push(c);
    }
    return [...match, ...oneMissing, ...mismatch];
  }
}

let systemPool: CertPool | undefined;

/**
 * Node's bundled Mozilla roots stand in for Go's system pool. Like AppendCertsFromPEM,
 * a root Go cannot parse is skipped rather than failing the pool.
 */
export function systemRootPool(): CertPool {
  if (systemPool === undefined) {
    const pool = new CertPool();
    for (const pem of rootCertificates) {
      try {
        for (const cert of parsePemCertificates(pem)) pool.add(cert);
      } catch {
        // Unparsable root: Go drops it too.
      }
    }
    systemPool = pool;
  }
  return systemPool;
}
