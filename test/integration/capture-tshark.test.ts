import { chmod, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pcapng } from '../../src/capture/pcapng.js';
import { keylogText } from '../../src/capture/wire.js';
import { loadCatalog } from '../../src/scenarios/catalog.js';
import { runScenarios, type ScenarioResult } from '../../src/scenarios/run.js';
import { fleetTls } from '../helpers/cli.js';
import { sharedPki, scratchDir } from '../helpers/pki.js';
import { requireTool } from '../helpers/tools.js';

const tshark = requireTool(['tshark'], 'tshark');
const IDS = ['flow.one-way', 'flow.mutual', 'agent-fleet.mutual.agent-has-no-cert', 'agent-fleet.one-way.agent-lacks-fleet-ca'];
const FIELDS = ['tcp.stream', 'frame.comment', 'tls.handshake.type', 'tls.alert_message.desc', 'http.request.method', 'http.request.uri', 'http.response.code'];

interface Stream { comment: string; handshake: number[]; alerts: number[]; requests: string[]; responses: number[] }

let scratch: Awaited<ReturnType<typeof scratchDir>>;
let results: ScenarioResult[] = [];
const decoded = new Map<string, Stream[]>();

/** What tshark makes of a capture, stream by stream, with no setup but the file. */
async function streams(file: string): Promise<Stream[]> {
  const { stdout } = await execa(tshark, ['-r', file, '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,', ...FIELDS.flatMap((f) => ['-e', f])]);
  const out: Stream[] = [];
  for (const line of stdout.split('\n').filter(Boolean)) {
    const [stream = '', comment = '', types = '', alerts = '', method = '', uri = '', code = ''] = line.split('\t');
    const s = (out[Number(stream)] ??= { comment: '', handshake: [], alerts: [], requests: [], responses: [] });
    const numbers = (text: string) => text.split(',').filter(Boolean).map(Number);
    if (comment) s.comment = comment;
    s.handshake.push(...numbers(types));
    s.alerts.push(...numbers(alerts));
    if (method) s.requests.push(`${method} ${uri}`);
    s.responses.push(...numbers(code));
  }
  return out;
}

const agentStream = (id: string, tls: string) => decoded.get(`${id} ${tls}`)!.find((s) => s.comment.startsWith('agent → fleet-server'))!;

beforeAll(async () => {
  scratch = await scratchDir();
  const catalog = loadCatalog();
  results = await runScenarios(catalog, catalog.scenarios.filter((s) => IDS.includes(s.id)), await sharedPki());
  await Promise.all(results.map(async (r) => {
    const file = path.join(scratch.dir, `${r.id}-${r.tls}.pcapng`);
    await writeFile(file, pcapng(r.legs));
    decoded.set(`${r.id} ${r.tls}`, await streams(file));
  }));
}, 90_000);

afterAll(() => scratch.cleanup());

describe('--pcap: tshark reads every leg, decrypted with the capture\'s own secrets', () => {
  it('one TCP stream per connection, each named after its leg', () => {
    const one = decoded.get('flow.one-way 1.3')!;
    expect(one.map((s) => s.comment.split(' https')[0]).sort()).toEqual([
      'agent → elasticsearch', 'agent → fleet-server', 'agent → fleet-server (policy)', 'fleet-server → elasticsearch', 'fleet-server → elasticsearch (policy)',
    ]);
  });

  it('TLS 1.2: the whole handshake in the clear and the enrollment request decrypted', () => {
    const s = agentStream('flow.one-way', '1.2');
    // ClientHello, ServerHello, Certificate, ServerKeyExchange, ServerHelloDone, ClientKeyExchange, the
    // client's Finished, the server's NewSessionTicket and Finished (the last three encrypted)
    expect(s.handshake).toEqual([1, 2, 11, 12, 14, 16, 20, 4, 20]);
    expect(s.requests).toEqual(['POST /api/fleet/agents/enroll']);
    expect(s.responses).toEqual([200]);
  });

  it('TLS 1.3: the encrypted handshake messages and the enrollment request decrypted', () => {
    const s = agentStream('flow.one-way', '1.3');
    // ServerHello, then EncryptedExtensions, Certificate, CertificateVerify, Finished only readable with the key log
    expect(s.handshake.slice(0, 7)).toEqual([1, 2, 8, 11, 15, 20, 20]);
    expect(s.requests).toEqual(['POST /api/fleet/agents/enroll']);
  });

  it('mutual TLS 1.3: the CertificateRequest and the agent\'s certificate and CertificateVerify', () => {
    const s = agentStream('flow.mutual', '1.3');
    expect(s.handshake.slice(0, 10)).toEqual([1, 2, 8, 13, 11, 15, 20, 11, 15, 20]);
    expect(s.requests).toEqual(['POST /api/fleet/agents/enroll']);
  });

  it('the agent without a certificate: bad_certificate (42) in TLS 1.2, the encrypted certificate_required (116) after its Finished in TLS 1.3', () => {
    const tls12 = agentStream('agent-fleet.mutual.agent-has-no-cert', '1.2');
    expect(tls12.alerts).toEqual([42]);
    expect(tls12.requests).toEqual([]);
    const tls13 = agentStream('agent-fleet.mutual.agent-has-no-cert', '1.3');
    expect(tls13.alerts).toEqual([116]);
    // The empty client Certificate and the client's Finished went out before the alert came back.
    expect(tls13.handshake.slice(-2)).toEqual([11, 20]);
    expect(tls13.requests).toEqual(['POST /api/fleet/agents/enroll']);
  });

  it('the agent that lacks fleet-ca sends bad_certificate (42) itself, before any request', () => {
    for (const tls of ['1.2', '1.3']) {
      const s = agentStream('agent-fleet.one-way.agent-lacks-fleet-ca', tls);
      expect({ tls, alerts: s.alerts, requests: s.requests }).toEqual({ tls, alerts: [42], requests: [] });
    }
  });

  it('--keylog and --pcap from the CLI: secret files 0600, NSS lines for every leg, never written through a symlink', async () => {
    const keylog = path.join(scratch.dir, 'cli.keys');
    const capture = path.join(scratch.dir, 'cli.pcapng');
    await writeFile(capture, 'old');
    await chmod(capture, 0o644);
    const run = await fleetTls(['run', 'flow.mutual', '--tls', '1.3', '--certs', path.join(scratch.dir, 'certs'), '--keylog', keylog, '--pcap', capture]);
    expect(run.exitCode).toBe(0);
    expect((await stat(keylog)).mode & 0o777).toBe(0o600);
    expect((await stat(capture)).mode & 0o777).toBe(0o600);
    const lines = (await readFile(keylog, 'latin1')).trim().split('\n');
    expect(new Set(lines.map((l) => l.split(' ')[0]))).toEqual(new Set(['CLIENT_HANDSHAKE_TRAFFIC_SECRET', 'SERVER_HANDSHAKE_TRAFFIC_SECRET', 'CLIENT_TRAFFIC_SECRET_0', 'SERVER_TRAFFIC_SECRET_0', 'EXPORTER_SECRET']));
    const requests = (await streams(capture)).flatMap((s) => s.requests);
    expect(requests).toEqual(expect.arrayContaining(['POST /api/fleet/agents/enroll', 'GET /_security/_authenticate']));
    expect(keylogText(results.find((r) => r.id === 'flow.one-way' && r.tls === '1.2')!.legs)).toMatch(/^CLIENT_RANDOM [0-9a-f]{64} [0-9a-f]{96}\n/);

    const target = path.join(scratch.dir, 'not-yours');
    await writeFile(target, 'keep');
    await symlink(target, path.join(scratch.dir, 'link.pcapng'));
    const refused = await fleetTls(['run', 'flow.one-way', '--tls', '1.3', '--certs', path.join(scratch.dir, 'certs'), '--pcap', path.join(scratch.dir, 'link.pcapng')]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr.trim()).toMatch(/^fleet-tls: FTH_FILE_UNWRITABLE: --pcap \S+link\.pcapng: is a symbolic link; not followed$/);
    expect(await readFile(target, 'utf8')).toBe('keep');
  }, 60_000);
});
