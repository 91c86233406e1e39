/**
 * Each leg judged on paper, with the same verification code the fakes run during the
 * handshake: libs' verification of the server chain, then the server's judgement of the
 * client certificate (Go's for Fleet Server, JSSE's for Elasticsearch). The findings say why
 * and how to fix it; the prediction is what the handshake should then show.
 */
import { isIP } from 'node:net';
import { judgeClientCertificate } from '../dialects/java.js';
import type { ClientAuthentication } from '../tls/settings.js';
import type { Cert } from '../x509/certificate.js';
import { goVerifyHostname } from '../x509/go-verify.js';
import { caSha256Pin, ERR_CA_PIN_MISMATCH, libsVerifyHostname, verifyClientChain, verifyServerChain, type VerificationMode } from '../x509/libs-verify.js';
import { finding, type Finding } from './findings.js';

/** The SAN entry that names a host: Go matches an IP address only against IP SANs, never DNS ones. */
const sanFor = (host: string): string => (isIP(host) ? `IP:${host}` : `DNS:${host}`);

export type Outcome = 'ok' | 'rejected-by-client' | 'rejected-by-server' | 'not-attempted';

export interface Prediction {
  readonly from: 'agent' | 'fleet-server' | 'proxy';
  readonly to: 'fleet-server' | 'elasticsearch' | 'proxy';
  readonly outcome: Outcome;
  /** The client's words for a client rejection, the server's for a server rejection, the reason otherwise. */
  readonly message: string;
}

export interface LegSetup {
  readonly from: 'agent' | 'fleet-server';
  readonly to: 'fleet-server' | 'elasticsearch' | 'proxy';
  /** The host name the client dials (--url, --fleet-server-es). */
  readonly host: string;
  readonly mode: VerificationMode;
  readonly trustFlag: string;
  readonly roots: Cert[] | 'system';
  readonly caTrustedFingerprint?: string;
  readonly caSha256?: string[];
  readonly serverFlag: string;
  readonly serverFile: string;
  readonly serverChain: readonly Cert[];
  /** Why the server cannot start, when it cannot load its certificate. */
  readonly serverLoadError?: string;
  readonly clientFlag?: string;
  readonly clientFile?: string;
  /** The client certificate chain configured, if any. */
  readonly clientChain?: readonly Cert[];
  readonly clientLoadError?: string;
  readonly clientAuthentication: ClientAuthentication;
  readonly clientCAFlag: string;
  readonly clientCAs: readonly Cert[];
  readonly server: 'go' | 'java';
  readonly now?: Date;
}

export function predictLeg(setup: LegSetup): { prediction: Prediction; findings: Finding[] } {
  const { from, to } = setup;
  const findings: Finding[] = [];
  const result = (outcome: Outcome, message: string) => ({ prediction: { from, to, outcome, message }, findings });
  if (setup.serverLoadError) return result('not-attempted', setup.serverLoadError);
  if (setup.clientLoadError) return result('not-attempted', setup.clientLoadError);
  const leaf = setup.serverChain[0];
  if (!leaf) return result('not-attempted', `${setup.serverFlag} holds no certificate`);
  const now = setup.now ?? new Date();
  const options = {
    roots: setup.roots, serverName: setup.host, now,
    ...(setup.caTrustedFingerprint ? { caTrustedFingerprint: setup.caTrustedFingerprint } : {}),
    ...(setup.caSha256?.length ? { caSha256: setup.caSha256 } : {}),
  };
  const verdict = verifyServerChain([...setup.serverChain], { ...options, mode: setup.mode });
  if (setup.mode !== 'none') serverFindings(setup, leaf, verdict.warnings, verdict.message, findings);
  if (!verdict.ok) return result('rejected-by-client', verdict.message ?? 'verification failed');

  if (setup.clientAuthentication === 'none') return result('ok', 'the server does not ask for a client certificate');
  const chain = setup.clientChain ?? [];
  const listed = new Set(setup.clientCAs.map((c) => c.rawSubject.toString('hex')));
  // Go's client sends its certificate only if the server lists one of its issuers (or lists none).
  const presented = chain.length > 0 && (listed.size === 0 || chain.some((c) => listed.has(c.rawIssuer.toString('hex'))));
  if (chain.length > 0 && !presented) {
    findings.push(finding(setup.clientAuthentication === 'required' ? 'error' : 'warning', setup.clientFlag ?? setup.clientCAFlag, setup.clientFile ?? null, 'CLIENT_CERT_UNTRUSTED',
      `the ${from} withholds ${chain[0]!.subject}: its issuer ${chain[0]!.issuer} is not among the CAs ${to} asks for (${setup.clientCAFlag})`,
      `add the CA that issued it to ${setup.clientCAFlag}`));
  }
  if (!presented) {
    if (setup.clientAuthentication === 'optional') return result('ok', 'no client certificate, and the server does not require one');
    if (chain.length === 0) {
      findings.push(finding('error', setup.clientFlag ?? setup.clientCAFlag, null, 'CLIENT_CERT_MISSING',
        `${to} requires a client certificate and the ${from} has none`, setup.clientFlag ? `give ${setup.clientFlag} and its key` : 'configure a client certificate'));
    }
    return result('rejected-by-server', setup.server === 'go' ? "tls: client didn't provide a certificate" : 'javax.net.ssl.SSLHandshakeException: Empty client certificate chain');
  }
  if (setup.server === 'go') {
    const judged = verifyClientChain([...chain], { clientCAs: [...setup.clientCAs], now });
    if (!judged.ok) {
      findings.push(finding('error', setup.clientFlag!, setup.clientFile ?? null, 'CLIENT_CERT_UNTRUSTED',
        `${to} rejects ${chain[0]!.subject}: ${judged.error.message}`, `issue it from a CA in ${setup.clientCAFlag}, with extendedKeyUsage clientAuth`));
      return result('rejected-by-server', `tls: failed to verify certificate: ${judged.error.message}`);
    }
  } else {
    const rejection = judgeClientCertificate(chain, setup.clientAuthentication === 'required', setup.clientCAs, now);
    if (rejection) {
      const message = rejection.error.message.split('\n')[0]!;
      findings.push(finding('error', setup.clientFlag!, setup.clientFile ?? null, 'CLIENT_CERT_UNTRUSTED', `${to} rejects ${chain[0]!.subject}: ${message}`,
        `issue it from a CA in ${setup.clientCAFlag}, with extendedKeyUsage clientAuth`));
      return result('rejected-by-server', message);
    }
  }
  return result('ok', 'the server accepts the client certificate');
}

function serverFindings(setup: LegSetup, leaf: Cert, warnings: readonly string[], failure: string | undefined, findings: Finding[]): void {
  const { serverFlag, serverFile, trustFlag } = setup;
  if (setup.roots === 'system' && !setup.caTrustedFingerprint) {
    findings.push(finding('info', trustFlag, null, 'TRUST_SYSTEM_ROOTS', `no ${trustFlag}: the ${setup.from} trusts the operating system's CAs only`, `${trustFlag}=/absolute/path/to/ca.crt for a private CA`));
  }
  if (failure?.startsWith("decode 'ca_trusted_fingerprint'")) {
    findings.push(finding('error', '--fleet-server-es-ca-trusted-fingerprint', null, 'FINGERPRINT_FORMAT', failure, 'give the hex SHA-256 without colons: openssl x509 -in ca.crt -outform der | sha256sum'));
  }
  for (const warning of warnings) {
    const code = warning.includes('not a CA certificate') ? 'FINGERPRINT_NOT_CA'
      : warning.includes('without its certificate chain') ? 'FINGERPRINT_CA_NOT_SENT'
        : warning.includes('does not match the fingerprint') ? 'FINGERPRINT_NO_MATCH' : undefined;
    if (!code) continue;
    const fix = code === 'FINGERPRINT_CA_NOT_SENT'
      ? `make ${setup.to} send its CA after its certificate (append the CA to ${serverFile}), or use ${trustFlag}`
      : `use the fingerprint of the CA that issued ${leaf.subject}: openssl x509 -in ca.crt -outform der | sha256sum`;
    findings.push(finding('error', '--fleet-server-es-ca-trusted-fingerprint', null, code, warning, fix));
  }
  if (failure === ERR_CA_PIN_MISMATCH) {
    const pins = setup.serverChain.filter((c) => c.isCA).map((c) => `${c.subject}: ${caSha256Pin(c)}`).join('; ');
    findings.push(finding('error', '--ca-sha256', null, 'CA_SHA256_NO_MATCH', failure,
      `--ca-sha256 takes base64 SHA-256 of a CA's public key${pins ? ` (${pins})` : ''}: openssl x509 -in ca.crt -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64`));
  }
  const chain = verifyServerChain([...setup.serverChain], { roots: setup.roots, serverName: setup.host, mode: 'certificate', now: setup.now ?? new Date(),
    ...(setup.caTrustedFingerprint ? { caTrustedFingerprint: setup.caTrustedFingerprint } : {}) });
  if (!chain.ok && chain.error?.kind === 'UnknownAuthority' && setup.roots !== 'system') {
    const top = setup.serverChain[setup.serverChain.length - 1]!;
    const issuerKnown = setup.roots.some((r) => r.rawSubject.equals(top.rawIssuer));
    if (!top.isSelfSigned && !issuerKnown) {
      findings.push(finding('error', serverFlag, serverFile, 'CHAIN_INCOMPLETE',
        `${serverFile} ends at ${top.subject}, whose issuer ${top.issuer} is neither in the file nor in ${trustFlag}: the chain is incomplete (${chain.message})`,
        `append the intermediate CA to the certificate file: cat ${serverFile} intermediate.crt > chain.crt, and use chain.crt for ${serverFlag}`));
    } else {
      findings.push(finding('error', trustFlag, null, 'CHAIN_UNTRUSTED',
        `${leaf.subject} chains to ${top.isSelfSigned ? top.subject : top.issuer}, which ${trustFlag} does not hold (${chain.message})`,
        `give the CA that issued ${serverFlag} in ${trustFlag}`));
    }
  }
  const hostError = libsVerifyHostname(leaf, setup.host);
  if (hostError) {
    findings.push(finding(setup.mode === 'certificate' ? 'info' : 'error', serverFlag, serverFile, 'HOST_MISMATCH', `${setup.from} dials ${setup.host}: ${hostError}`,
      `reissue ${serverFlag} with subjectAltName ${sanFor(setup.host)}, or dial a name it has`));
  } else {
    const strict = goVerifyHostname(leaf, setup.host);
    if (strict) {
      findings.push(finding('warning', serverFlag, serverFile, 'HOST_CN_ONLY',
        `${setup.host} matches only the legacy Common Name: full verification accepts it, strict fails with "${strict}"`,
        `reissue ${serverFlag} with subjectAltName ${sanFor(setup.host)}`));
    }
  }
}
