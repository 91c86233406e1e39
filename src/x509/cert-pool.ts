/**
 * Go 1.19 cert_pool.go: a certificate set indexed by raw subject. The order in which
 * findPotentialParents returns candidates decides which hint an UnknownAuthorityError
 * carries and which chain is found first, so it is kept exactly.
 */
import { rootCertificates } from 'node:tls';
import { createHash } from 'node:crypto';
import { parseCertificate, pemCertificateDers, type Cert } from './certificate.js';
import { DerReader, TAG, contextConstructed } from './der.js';

/** A pool entry: a parsed certificate, or a system root parsed when a lookup first reaches it. */
interface Entry { cert?: Cert; der?: Buffer; unparsable?: boolean }

export class CertPool {
  private readonly byName = new Map<string, Entry[]>();
  private readonly seen = new Set<string>();

  constructor(certs: readonly Cert[] = []) {
    for (const c of certs) this.add(c);
  }

  /** AddCert: a certificate already present (same DER) is ignored. */
  add(cert: Cert): void {
    this.insert(cert.sha256Hex, cert.rawSubject, { cert });
  }

  /**
   * A certificate known by its DER and raw subject, parsed the first time a lookup names its
   * subject; one that does not parse then is dropped from the pool (AppendCertsFromPEM skips it).
   */
  addUnparsed(der: Buffer, rawSubject: Buffer): void {
    this.insert(createHash('sha256').update(der).digest('hex'), rawSubject, { der });
  }

  contains(cert: Cert): boolean {
    // A leaf with a root's exact DER parsed, so that root parses too: no need to parse it here.
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
    for (const entry of candidates) {
      const c = parsedEntry(entry);
      if (c === undefined) continue;
      const ski = c.subjectKeyId ?? Buffer.alloc(0);
      if (ski.equals(aki)) match.push(c);
      else if ((ski.length === 0) !== (aki.length === 0)) oneMissing.push(c);
      else mismatch.push(c);
    }
    return [...match, ...oneMissing, ...mismatch];
  }

  private insert(sha256Hex: string, rawSubject: Buffer, entry: Entry): void {
    if (this.seen.has(sha256Hex)) return;
    this.seen.add(sha256Hex);
    const key = rawSubject.toString('hex');
    const list = this.byName.get(key);
    if (list === undefined) this.byName.set(key, [entry]);
    else list.push(entry);
  }
}

function parsedEntry(entry: Entry): Cert | undefined {
  if (entry.cert === undefined && entry.der !== undefined && !entry.unparsable) {
    try {
      entry.cert = parseCertificate(entry.der);
    } catch {
      // Unparsable root: Go drops it too.
      entry.unparsable = true;
    }
  }
  return entry.cert;
}

/**
 * The subject of a certificate's DER, found by walking to it without parsing the rest, or
 * undefined where the walk fails (the full parse would fail there too).
 */
function rawSubjectOf(der: Buffer): Buffer | undefined {
  const outer = new DerReader(der).read(TAG.SEQUENCE);
  const tbsBytes = outer === undefined ? undefined : new DerReader(outer).read(TAG.SEQUENCE);
  if (tbsBytes === undefined) return undefined;
  const tbs = new DerReader(tbsBytes);
  if (!tbs.skipOptional(contextConstructed(0))) return undefined;
  for (let i = 0; i < 4; i++) if (tbs.readAny() === undefined) return undefined; // serial, signature, issuer, validity
  return tbs.readElement(TAG.SEQUENCE);
}

let systemPool: CertPool | undefined;

/**
 * Node's bundled Mozilla roots stand in for Go's system pool. Like AppendCertsFromPEM,
 * a root Go cannot parse is skipped rather than failing the pool. Parsing all of them was a
 * tenth of a catalog thread's start; a root is parsed when a chain first looks for its subject.
 */
export function systemRootPool(): CertPool {
  if (systemPool === undefined) {
    const pool = new CertPool();
    for (const pem of rootCertificates) {
      for (const der of pemCertificateDers(pem)) {
        const subject = rawSubjectOf(der);
        if (subject !== undefined) pool.addUnparsed(der, subject);
      }
    }
    systemPool = pool;
  }
  return systemPool;
}
