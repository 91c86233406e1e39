import { hostname } from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { HarnessError } from '../../errors.js';
import { runLoad } from '../../load/run.js';
import type { LoadReport } from '../../load/stats.js';
import { writeFileOwned, type LoadFigures } from '../../load/results.js';
import { HARNESS_ENV } from './component-shared.js';
import { parseTlsVersion, type TlsVersion } from '../../tls/settings.js';
import type { Io } from '../io.js';
import { parseCount } from './shared.js';

interface LoadCliOptions {
  url?: string;
  enrollmentToken?: string;
  certs: string;
  agents: string;
  concurrency: string;
  duration: string;
  tls: string;
  sessions: string;
  hold?: boolean;
  tap?: boolean;
  bare?: boolean;
  json?: boolean;
  figures?: string;
}

export function registerLoad(program: Command, io: Io): void {
  program
    .command('load')
    .description('simulated agents enrolling and checking in over mutual TLS, against the fake Fleet Server (in a process of its own) or --url; reports handshakes per second, latency and errors')
    .option('--url <url>', 'the Fleet Server to load (default: a fake one started for the run)')
    .option('--enrollment-token <token>', 'the enrollment token, with --url')
    .option('--certs <dir>', 'PKI directory: agent-cert is presented, fleet-ca verifies the server (generated if missing)', 'certs')
    .option('--agents <n>', 'simulated agents; each enrolls once, then checks in', '50')
    .option('--concurrency <n>', 'connections in flight at once', '32')
    .option('--duration <time>', 'how long to run: seconds, or with ms, s or m', '10s')
    .option('--tls <version>', '1.2 or 1.3', '1.3')
    .option('--sessions <kind>', 'new (a full handshake per connection) or resume (each agent resumes its last session)', 'new')
    .option('--hold', 'instead: every agent leaves one long-poll checkin open; reports the server\'s memory per connection')
    .option('--tap', 'run the fake Fleet Server\'s TLS through the record tap, as the catalog does')
    .option('--bare', 'load a bare node:tls server instead (the baseline `npm run bench` compares with)')
    .option('--json', 'print the result as one JSON document')
    .option('--figures <file>', `also write the result with its latency histogram, for \`fleet-tls results\` to merge across containers (default <$${HARNESS_ENV.resultDir}>/<host name>.load.json when that is set)`)
    .action(async (options: LoadCliOptions) => {
      const agents = parseCount(options.agents, '--agents');
      const concurrency = parseCount(options.concurrency, '--concurrency');
      const durationMs = parseDuration(options.duration);
      const tls = loadTls(options.tls);
      if (options.sessions !== 'new' && options.sessions !== 'resume') throw new HarnessError('FTH_USAGE', `--sessions: '${options.sessions}' is not one of new, resume`);
      const url = options.url === undefined ? undefined : parseUrl(options.url);
      // The record tap belongs to the fake Fleet Server: neither a bare node:tls server nor an outside one has it.
      if (options.tap && options.bare) throw new HarnessError('FTH_USAGE', '--tap: the bare node:tls server (--bare) has no record tap');
      if (options.tap && url) throw new HarnessError('FTH_USAGE', '--tap: with --url there is no fake Fleet Server to run through the record tap');
      if (url && !options.bare && !options.enrollmentToken) throw new HarnessError('FTH_USAGE', '--url needs --enrollment-token (the fake Fleet Server makes its own)');
      const progress = io.progress === true && !options.json;
      const resultDir = process.env[HARNESS_ENV.resultDir];
      const figures = options.figures ? path.resolve(io.cwd, options.figures) : resultDir ? path.join(resultDir, `${hostname()}.load.json`) : undefined;
      const result = await runLoad({
        ...(url ? { url } : {}),
        ...(options.enrollmentToken ? { enrollmentToken: options.enrollmentToken } : {}),
        certs: path.resolve(io.cwd, options.certs),
        agents, concurrency, durationMs, tls, sessions: options.sessions,
        ...(options.hold ? { hold: true } : {}),
        ...(options.tap ? { tap: true } : {}),
        ...(options.bare ? { bare: true } : {}),
        ...(figures ? { histogram: true } : {}),
        ...(progress ? {
          onProgress: (p) => io.err(`\r\u001b[K${p.seconds.toFixed(1)} s  ${p.handshakes} handshakes  ${Math.round(p.handshakes / Math.max(p.seconds, 0.001))}/s  ${p.errors} errors${options.hold ? `  ${p.held} held` : ''}   `),
        } : {}),
      });
      if (progress) io.err('\r\u001b[K');
      const { latencyHistogram, ...shown } = result;
      if (figures && latencyHistogram) {
        const written: LoadFigures = { kind: 'load', source: hostname(), report: shown, latencyHistogram };
        await writeFileOwned(figures, `${JSON.stringify(written)}\n`);
      }
      io.out(options.json ? `${JSON.stringify(shown, null, 2)}\n` : render(shown));
      io.exitCode = Object.keys(result.errors).length === 0 && (result.handshakes > 0 || options.hold) ? 0 : 1;
    });
}

function render(r: LoadReport): string {
  const lines = [
    `handshakes        ${r.handshakes} in ${r.seconds} s (${r.resumed} resumed)`,
    `per second        ${r.handshakesPerSecond}`,
    `latency ms        p50 ${r.latencyMs.p50}  p95 ${r.latencyMs.p95}  p99 ${r.latencyMs.p99}`,
    `errors            ${Object.entries(r.errors).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`,
    `CPU ms/handshake  client ${perHandshake(r.cpuMs.client, r.handshakes)}, server ${r.cpuMs.server === null ? 'n/a' : perHandshake(r.cpuMs.server, r.handshakes)}`,
  ];
  if (r.hold) {
    const mib = (n: number | null) => (n === null ? 'n/a' : `${(n / 2 ** 20).toFixed(1)} MiB`);
    lines.push(
      `held checkins     ${r.hold.connections}`,
      `server RSS        ${mib(r.hold.serverRssBeforeBytes)} fresh, ${mib(r.hold.serverRssPreparedBytes)} after enrolment, ${mib(r.hold.serverRssAfterBytes)} holding`,
      `per connection    ${r.hold.bytesPerConnection === null ? 'n/a' : `${(r.hold.bytesPerConnection / 1024).toFixed(1)} KiB`}`,
      `client RSS        ${mib(r.hold.clientRssBytes)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function perHandshake(ms: number, handshakes: number): string {
  return handshakes > 0 ? (ms / handshakes).toFixed(2) : 'n/a';
}

/** `10`, `10s`, `500ms`, `2m`: a positive duration in milliseconds. */
export function parseDuration(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value);
  const ms = match ? Number(match[1]) * (match[2] === 'ms' ? 1 : match[2] === 'm' ? 60_000 : 1_000) : NaN;
  if (!(ms > 0)) throw new HarnessError('FTH_USAGE', `--duration: '${value}' is not a positive duration (seconds, or with ms, s or m)`);
  return ms;
}

function loadTls(value: string): TlsVersion {
  try {
    return parseTlsVersion(value);
  } catch {
    throw new HarnessError('FTH_USAGE', `--tls: '${value}' is not one of 1.2, 1.3`);
  }
}

function parseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new HarnessError('FTH_USAGE', `--url: '${value}' is not a URL`);
  }
  if (url.protocol !== 'https:') throw new HarnessError('FTH_USAGE', `--url: '${value}' is not an https URL`);
  return url.href;
}
