import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { issueCertificate } from './issue.js';

let standInKey: { privateKey: KeyObject; publicKey: KeyObject } | undefined;
const cache = new Map<string, string>();

/**
 * A certificate that carries only a CA's name. Node's TLS server takes the CA names of its
 * CertificateRequest from the `ca` option, and OpenSSL then also builds the server's own chain
 * from those certificates, sending the CA along with the leaf; Go and Java send exactly the
 * configured chain. A stand-in has the CA's exact subject bytes but no keyCertSign usage and
 * an unrelated key, so OpenSSL lists it yet never chains to it. Client certificates are
 * judged by the harness's own Go and Java verifiers, against the real CAs.
 */
export function caNameStandIn(rawSubject: Buffer): string {
  const key = rawSubject.toString('base64');
  const cached = cache.get(key);
  if (cached) return cached;
  standInKey ??= generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const now = Date.now();
  const { pem } = issueCertificate({
    subject: { raw: rawSubject },
    publicKey: standInKey.publicKey,
    signingKey: standInKey.privateKey,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 10 * 365 * 86_400_000),
    basicConstraints: 'absent',
    keyUsage: ['digitalSignature'],
    extendedKeyUsage: null,
  });
  cache.set(key, pem);
  return pem;
}
