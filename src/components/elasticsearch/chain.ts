import type { Identity } from '../../tls/material.js';
import type { Cert } from '../../x509/certificate.js';

/**
 * The chain Elasticsearch presents on its HTTP port when security was auto-configured at first
 * start: AutoConfigureNode (elastic/elasticsearch,
 * x-pack/plugin/security/cli/src/main/java/org/elasticsearch/xpack/security/cli/AutoConfigureNode.java)
 * writes `certs/http.p12` with the key entry `http` holding the chain { HTTP leaf, HTTP CA }, and
 * JSSE's key manager sends a key entry's whole chain. So the CA is on the wire, which is what
 * lets `ca_trusted_fingerprint` and the clients' CA-fingerprint options find it. A leaf given
 * alone (`xpack.security.http.ssl.certificate` with a one-certificate file) is sent alone.
 */
export function autoConfiguredChain(leaf: Identity, httpCa: Cert): Identity {
  if (leaf.chain.some((c) => c.sha256Hex === httpCa.sha256Hex)) return leaf;
  return { ...leaf, chain: [...leaf.chain, httpCa], certPem: `${leaf.certPem.trimEnd()}\n${httpCa.pem}` };
}
