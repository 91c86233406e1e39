/**
 * Certificate.Verify from Go 1.19 crypto/x509 verify.go, in Go's order: the leaf's
 * isValid, VerifyHostname, chain building (roots before intermediates, each in
 * findPotentialParents order, at most 100 signature checks), then the EKU filter.
 *
 * Where a 1.24-era verify.go differs (read while writing this): buildChains skips
 * candidates with no usable public key, also records isValid failures as the unknown
 * authority hint, compares SubjectPublicKeyInfo bytes in alreadyInChain, and validates
 * certificate policies, which can end in "x509: no valid chains built: ...". None of
 * that changes the outcome for the chains this harness generates.
 */
import { CertPool, systemRootPool } from './cert-pool.js';
import type { Cert } from './certificate.js';
import { formatRfc3339 } from './go-time.js';
import { hostnameErrorMessage, verifyHostnameHost } from './hostname.js';
import { checkCaNameConstraints } from './name-constraints.js';
import { checkSignatureFrom } from './signature.js';
import {
  certificateInvalid, otherError, unhandledCriticalExtension, unknownAuthority, type GoX509Error,
} from './x509-errors.js';

export { checkSignatureFrom } from './signature.js';
export { goVerifyHostname } from './hostname.js';
export type { GoX509Error, GoX509ErrorKind, GoInvalidReason } from './x509-errors.js';

export type KeyUsageName = 'serverAuth' | 'clientAuth' | 'any';

export interface GoVerifyOptions {
  /** Trust anchors; 'system' stands for Go's nil Roots (here: Node's tls.rootCertificates). */
  roots: Cert[] | 'system';
  intermediates?: Cert[];
  /** When set, VerifyHostname runs on the leaf (a DNS name or an IP, optionally in brackets). */
  dnsName?: string;
  /** Acceptable EKUs; empty or absent means serverAuth, as in Go. */
  keyUsages?: KeyUsageName[];
  currentTime?: Date;
}

export type GoVerifyResult = { ok: true; chains: Cert[][] } | { ok: false; error: GoX509Error };

type CertType = 'leaf' | 'intermediate' | 'root';

interface Context {
  roots: CertPool;
  intermediates: CertPool;
  now: Date;
  sigChecks: number;
}

const MAX_CHAIN_SIGNATURE_CHECKS = 100;

function isValid(c: Cert, certType: CertType, chain: readonly Cert[], ctx: Context): GoX509Error | null {
  if (c.unhandledCriticalExtensions.length > 0) return unhandledCriticalExtension(c);
  const child = chain[chain.length - 1];
  if (child !== undefined && !child.rawIssuer.equals(c.rawSubject)) return certificateInvalid(c, 'NameMismatch');
  // Go prints the current time in the process's local zone; agents and Fleet Server in
  // containers run in UTC, so "Z" is what users paste. The certificate's own bound keeps
  // the offset it was written with.
  const now = ctx.now.getTime();
  if (now < c.notBefore.getTime()) {
    return certificateInvalid(c, 'Expired', `current time ${formatRfc3339(now)} is before ${c.notBeforeText}`);
  }
  if (now > c.notAfter.getTime()) {
    return certificateInvalid(c, 'Expired', `current time ${formatRfc3339(now)} is after ${c.notAfterText}`);
  }
  if (certType !== 'leaf') {
    const leaf = chain[0];
    if (leaf === undefined) return otherError(c, 'x509: internal error: empty chain when appending CA cert');
    const nameErr = checkCaNameConstraints(c, leaf);
    if (nameErr !== null) return nameErr;
  }
  // Key usage bits are deliberately not checked here (Go's isValid ignores them).
  if (certType === 'intermediate' && (!c.basicConstraintsValid || !c.isCA)) return certificateInvalid(c, 'NotAuthorizedToSign');
  if (c.basicConstraintsValid && c.maxPathLen >= 0 && chain.length - 1 > c.maxPathLen) {
    return certificateInvalid(c, 'TooManyIntermediates');
  }
  return null;
}

/** alreadyInChain: same subject, same key and same SAN extension (or both without one). */
function alreadyInChain(candidate: Cert, chain: readonly Cert[]): boolean {
  for (const cert of chain) {
    if (!candidate.rawSubject.equals(cert.rawSubject)) continue;
    // Go 1.19 compares parsed keys (and would panic on a DSA key); Go's canonical-encoding
    // rules make that the same as comparing the encoded SubjectPublicKeyInfo.
    if (!candidate.spkiDer.equals(cert.spkiDer)) continue;
    if (candidate.sanValue === null && cert.sanValue === null) return true;
    if (candidate.sanValue === null || cert.sanValue === null) return false;
    if (candidate.sanValue.equals(cert.sanValue)) return true;
  }
  return false;
}

function buildChains(chain: Cert[], ctx: Context): { chains: Cert[][]; err: GoX509Error | null } {
  const c = chain[chain.length - 1] as Cert;
  const chains: Cert[][] = [];
  let err: GoX509Error | null = null;
  let hint: { error: string; cert: Cert } | undefined;

  const consider = (certType: CertType, candidate: Cert): void => {
    if (alreadyInChain(candidate, chain)) return;
    ctx.sigChecks++;
    if (ctx.sigChecks > MAX_CHAIN_SIGNATURE_CHECKS) {
      err = otherError(c, 'x509: signature check attempts limit reached while verifying certificate chain');
      return;
    }
    const sigErr = checkSignatureFrom(c, candidate);
    if (sigErr !== null) {
      hint ??= { error: sigErr, cert: candidate };
      return;
    }
    // As in Go, each candidate overwrites the error: the last failure is what is reported
    // when no chain is found.
    err = isValid(candidate, certType, chain, ctx);
    if (err !== null) return;
    if (certType === 'root') {
      chains.push([...chain, candidate]);
    } else {
      const deeper = buildChains([...chain, candidate], ctx);
      err = deeper.err;
      chains.push(...deeper.chains);
    }
  };

  for (const root of ctx.roots.findPotentialParents(c)) consider('root', root);
  for (const intermediate of ctx.intermediates.findPotentialParents(c)) consider('intermediate', intermediate);

  if (chains.length > 0) return { chains, err: null };
  return { chains, err: err ?? unknownAuthority(c, hint) };
}

/** checkChainForKeyUsage: every certificate that lists EKUs must allow a requested one. */
function chainAllowsKeyUsage(chain: readonly Cert[], requested: readonly KeyUsageName[]): boolean {
  const usages: Array<KeyUsageName | null> = [...requested];
  let remaining = usages.length;
  for (let i = chain.length - 1; i >= 0; i--) {
    const cert = chain[i] as Cert;
    if (cert.extKeyUsage.length === 0) continue;
    if (cert.extKeyUsage.includes('any')) continue;
    for (let u = 0; u < usages.length; u++) {
      const wanted = usages[u];
      if (wanted === null || wanted === undefined || cert.extKeyUsage.includes(wanted)) continue;
      usages[u] = null;
      remaining--;
      if (remaining === 0) return false;
    }
  }
  return true;
}

export function goVerify(leaf: Cert, opts: GoVerifyOptions): GoVerifyResult {
  const ctx: Context = {
    roots: opts.roots === 'system' ? systemRootPool() : new CertPool(opts.roots),
    intermediates: new CertPool(opts.intermediates ?? []),
    now: opts.currentTime ?? new Date(),
    sigChecks: 0,
  };
  const leafErr = isValid(leaf, 'leaf', [], ctx);
  if (leafErr !== null) return { ok: false, error: leafErr };

  if (opts.dnsName !== undefined && opts.dnsName.length > 0) {
    const host = verifyHostnameHost(leaf, opts.dnsName);
    if (host !== null) return { ok: false, error: { kind: 'Hostname', message: hostnameErrorMessage(leaf, host), cert: leaf } };
  }

  let candidates: Cert[][];
  if (ctx.roots.contains(leaf)) {
    candidates = [[leaf]];
  } else {
    const built = buildChains([leaf], ctx);
    if (built.err !== null) return { ok: false, error: built.err };
    candidates = built.chains;
  }

  const usages: KeyUsageName[] = opts.keyUsages !== undefined && opts.keyUsages.length > 0 ? opts.keyUsages : ['serverAuth'];
  if (usages.includes('any')) return { ok: true, chains: candidates };
  const chains = candidates.filter((chain) => chainAllowsKeyUsage(chain, usages));
  if (chains.length === 0) return { ok: false, error: certificateInvalid(leaf, 'IncompatibleUsage') };
  return { ok: true, chains };
}
