/**
 * Replays the x509-limbo cases a live TLS handshake can exercise through goVerify and
 * compares each verdict with what Go 1.19's crypto/tls client decided (go_result_now /
 * go_error_now, recorded at about the current date).
 *
 * Usage, from the repository root: `npm run conformance:limbo [-- cases.jsonl]` (it compiles
 * first: Node 20 cannot run TypeScript).
 * The cases file comes from argv, else FLEET_TLS_LIMBO_CASES, else
 * ../shared/testdata/x509-limbo/live-cases.jsonl beside the repository.
 * Exit status: 0 when every disagreement is on the allow-list below, 1 otherwise, 2 on bad input.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parsePemCertificates, type Cert } from '../src/x509/certificate.js';
import { goVerify, type KeyUsageName } from '../src/x509/go-verify.js';

interface LimboCase {
  id: string;
  trusted_certs: string[];
  untrusted_intermediates: string[];
  peer_certificate: string;
  expected_peer_name: { kind: string; value: string } | null;
  extended_key_usage: string[];
  validation_time: string | null;
  go_result: string;
  go_error: string;
  go_result_now: string;
  go_error_now: string;
}

/**
 * Cases where this emulation knowingly disagrees with the recorded Go verdict, and why.
 * Empty today: every case agrees on result and on message. Add an entry only with a reason.
 */
const KNOWN_DIVERGENCES: Record<string, string> = {};

type Verdict = { result: 'SUCCESS' | 'FAILURE'; error: string };

/** What Go's TLS client printed for this case at `now`: parse, Verify, then the leaf key type check. */
function judge(c: LimboCase, now: Date): Verdict {
  const failure = (error: string): Verdict => ({ result: 'FAILURE', error });
  const roots: Cert[] = [];
  for (const [i, pem] of c.trusted_certs.entries()) {
    try {
      roots.push(...parsePemCertificates(pem));
    } catch (error) {
      return failure(`trusted_certs[${i}]: ${(error as Error).message}`);
    }
  }
  let chain: Cert[];
  try {
    chain = [c.peer_certificate, ...c.untrusted_intermediates].flatMap((pem) => parsePemCertificates(pem));
  } catch (error) {
    return failure(`tls: failed to parse certificate from server: ${(error as Error).message}`);
  }
  const [leaf, ...intermediates] = chain;
  if (leaf === undefined) return failure('no peer certificate');
  const result = goVerify(leaf, {
    roots,
    intermediates,
    dnsName: c.expected_peer_name?.value ?? '',
    keyUsages: c.extended_key_usage as KeyUsageName[],
    currentTime: now,
  });
  if (!result.ok) return failure(result.error.message);
  if (!['RSA', 'ECDSA', 'Ed25519'].includes(leaf.publicKeyAlgorithm)) {
    return failure(`tls: server's certificate contains an unsupported type of public key: ${leaf.parsedPublicKey.goType}`);
  }
  return { result: 'SUCCESS', error: '' };
}

/** The instant in "current time ..." differs between runs; compare everything else. */
const normalise = (message: string): string =>
  message.replace(/current time \S+ is (before|after)/, 'current time <now> is $1');

interface Tally {
  total: number;
  sameResult: number;
  sameMessage: number;
  unexpected: string[];
  allowed: string[];
}

function compare(cases: LimboCase[], pick: (c: LimboCase) => { now: Date; result: string; error: string } | undefined): Tally {
  const tally: Tally = { total: 0, sameResult: 0, sameMessage: 0, unexpected: [], allowed: [] };
  for (const c of cases) {
    const expected = pick(c);
    if (expected === undefined) continue;
    tally.total++;
    const got = judge(c, expected.now);
    const sameResult = got.result === expected.result;
    const sameMessage = sameResult && normalise(got.error) === normalise(expected.error);
    if (sameResult) tally.sameResult++;
    if (sameMessage) tally.sameMessage++;
    if (sameMessage) continue;
    const reason = KNOWN_DIVERGENCES[c.id];
    const line = `  ${c.id}${reason ? ` (allowed: ${reason})` : ''}\n    go  : ${expected.result} ${expected.error}\n    ours: ${got.result} ${got.error}`;
    (reason ? tally.allowed : tally.unexpected).push(line);
  }
  return tally;
}

function report(title: string, t: Tally): void {
  console.log(`${title}: ${t.total} cases, result agrees on ${t.sameResult}, message agrees on ${t.sameMessage}`);
  for (const line of [...t.unexpected, ...t.allowed]) console.log(line);
}

function main(): number {
  // Compiled to build/scripts/, two levels below the repository root.
  const repository = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const file = process.argv[2] ?? process.env['FLEET_TLS_LIMBO_CASES'] ?? resolve(repository, '../shared/testdata/x509-limbo/live-cases.jsonl');
  let cases: LimboCase[];
  try {
    cases = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as LimboCase);
  } catch (error) {
    console.error(`cannot read limbo cases from ${file}: ${(error as Error).message}`);
    return 2;
  }
  const now = new Date();
  const current = compare(cases, (c) => ({ now, result: c.go_result_now, error: c.go_error_now }));
  // Go's verdict at each case's own validation time exercises the time-dependent paths exactly.
  const pinned = compare(cases, (c) => (c.validation_time === null ? undefined : { now: new Date(c.validation_time), result: c.go_result, error: c.go_error }));
  report('against go_result_now (verified at the current time)', current);
  report('against go_result (verified at each case validation_time)', pinned);
  const unexpected = current.unexpected.length + pinned.unexpected.length;
  if (unexpected > 0) {
    console.log(`${unexpected} disagreement(s) not on the allow-list`);
    return 1;
  }
  return 0;
}

process.exitCode = main();
