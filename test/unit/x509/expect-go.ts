/**
 * Assertions that pin a verdict to the exact text Go 1.19 printed for the same
 * certificates. The expected strings in the tests were observed by running Go over the
 * DER these helpers build: set FLEET_TLS_RECORD_GO_CASES=<file.jsonl> and every
 * assertion appends its inputs and expectation there, ready to replay through a small Go
 * program (crypto/x509 Verify / VerifyHostname / ParseCertificate). Without the variable
 * nothing is written and no Go is needed.
 */
import { appendFileSync } from 'node:fs';
import { expect } from 'vitest';
import { parseCertificate } from '../../../src/x509/certificate.js';
import { goVerify, goVerifyHostname, type GoVerifyResult, type KeyUsageName } from '../../../src/x509/go-verify.js';
import { verifyClientChain, verifyServerChain, type ServerChainOptions, type ServerChainVerdict } from '../../../src/x509/libs-verify.js';
import { NOW, type Issued } from './helpers.js';

const b64 = (der: Buffer): string => der.toString('base64');

function record(entry: Record<string, unknown>): void {
  const file = process.env['FLEET_TLS_RECORD_GO_CASES'];
  if (file === undefined || file === '') return;
  appendFileSync(file, JSON.stringify({ id: expect.getState().currentTestName, ...entry }) + '\n');
}

export interface VerifyInput {
  roots: Issued[] | 'system';
  intermediates?: Issued[];
  dnsName?: string;
  keyUsages?: KeyUsageName[];
  now?: Date;
}

/** goVerify must fail with exactly `message`, or succeed when it is null. */
export function expectVerify(leaf: Issued, input: VerifyInput, message: string | null): GoVerifyResult {
  const now = input.now ?? NOW;
  const result = goVerify(leaf.cert, {
    roots: input.roots === 'system' ? 'system' : input.roots.map((r) => r.cert),
    intermediates: (input.intermediates ?? []).map((i) => i.cert),
    ...(input.dnsName !== undefined ? { dnsName: input.dnsName } : {}),
    ...(input.keyUsages !== undefined ? { keyUsages: input.keyUsages } : {}),
    currentTime: now,
  });
  record({
    op: 'verify', leaf: b64(leaf.der), system: input.roots === 'system',
    roots: input.roots === 'system' ? [] : input.roots.map((r) => b64(r.der)),
    intermediates: (input.intermediates ?? []).map((i) => b64(i.der)),
    dnsName: input.dnsName ?? '', keyUsages: input.keyUsages ?? [], time: now.toISOString(), expected: message,
  });
  expect(result.ok ? null : result.error.message).toBe(message);
  return result;
}

/** Certificate.VerifyHostname must give exactly `message` (null: the name matches). */
export function expectHostname(cert: Issued, host: string, message: string | null): void {
  record({ op: 'hostname', der: b64(cert.der), host, expected: message });
  expect(goVerifyHostname(cert.cert, host)).toBe(message);
}

/** ParseCertificate must fail with exactly `message`. */
export function expectParseError(der: Buffer, message: string): void {
  record({ op: 'parse', der: b64(der), expected: message });
  expect(() => parseCertificate(der)).toThrow(message);
  try {
    parseCertificate(der);
  } catch (error) {
    expect((error as Error).message).toBe(message);
  }
}

export interface LibsInput extends Omit<ServerChainOptions, 'roots'> {
  roots: Issued[] | 'system';
}

/** elastic-agent-libs' verdict on a server chain: exact message (or success) and exact warnings. */
export function expectServerChain(peer: Issued[], input: LibsInput, message: string | null, warnings: string[] = []): ServerChainVerdict {
  const now = input.now ?? NOW;
  const verdict = verifyServerChain(peer.map((p) => p.cert), {
    ...input,
    roots: input.roots === 'system' ? 'system' : input.roots.map((r) => r.cert),
    now,
  });
  // The oracle reproduces Go 1.19, where strict-mode errors carry no TLS prefix.
  const goMessage = input.mode === 'strict' && input.goVersion !== '1.19' && message !== null
    ? message.replace(/^tls: failed to verify certificate: /, '')
    : message;
  if (input.mode !== 'none') {
    record({
      op: 'libs', mode: input.mode, peer: peer.map((p) => b64(p.der)), system: input.roots === 'system',
      roots: input.roots === 'system' ? [] : input.roots.map((r) => b64(r.der)), host: input.serverName,
      fingerprint: input.caTrustedFingerprint ?? '', pins: input.caSha256 ?? [], time: now.toISOString(),
      expected: goMessage, expectedWarnings: warnings,
    });
  }
  expect({ message: verdict.ok ? null : verdict.message, warnings: verdict.warnings }).toEqual({ message, warnings });
  return verdict;
}

/** A Go server's check of a client chain: exact message, or success when null. */
export function expectClientChain(peer: Issued[], clientCAs: Issued[], message: string | null): GoVerifyResult {
  const [leaf, ...intermediates] = peer;
  if (leaf === undefined) throw new RangeError('a client chain needs a leaf');
  const result = verifyClientChain(peer.map((p) => p.cert), { clientCAs: clientCAs.map((c) => c.cert), now: NOW });
  record({
    op: 'verify', leaf: b64(leaf.der), system: false, roots: clientCAs.map((r) => b64(r.der)),
    intermediates: intermediates.map((i) => b64(i.der)), dnsName: '', keyUsages: ['clientAuth'], time: NOW.toISOString(), expected: message,
  });
  expect(result.ok ? null : result.error.message).toBe(message);
  return result;
}

/** Go-visible fields ParseCertificate must produce (named as in Go's Certificate, Go's String() forms). */
export interface GoFields {
  subject?: string;
  issuer?: string;
  serialNumber?: string;
  dnsNames?: string[];
  ipAddresses?: string[];
  keyUsage?: number;
  unknownExtKeyUsage?: string[];
  isCA?: boolean;
  maxPathLen?: number;
  maxPathLenZero?: boolean;
  notBefore?: string;
  notAfter?: string;
  unhandledCriticalExtensions?: string[];
}

export function expectParsed(der: Buffer, fields: GoFields): void {
  record({ op: 'parse', der: b64(der), expected: null, expectedFields: fields });
  const c = parseCertificate(der);
  const actual: Record<string, unknown> = {
    subject: c.subject, issuer: c.issuer, serialNumber: c.serialNumber, dnsNames: c.dnsNames, ipAddresses: c.ipAddresses,
    keyUsage: c.keyUsage, unknownExtKeyUsage: c.unknownExtKeyUsage, isCA: c.isCA,
    maxPathLen: c.maxPathLen, maxPathLenZero: c.maxPathLenZero, notBefore: c.notBeforeText, notAfter: c.notAfterText,
    unhandledCriticalExtensions: c.unhandledCriticalExtensions,
  };
  expect(Object.fromEntries(Object.keys(fields).map((k) => [k, actual[k]]))).toEqual(fields);
}
