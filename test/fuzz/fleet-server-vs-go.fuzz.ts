/**
 * A differential fuzz of the fake Fleet Server's handshake layer against Go 1.19's own net/http
 * TLS server (test/interop/go): mutated real ClientHellos go to both, and every difference in
 * what came back on the wire (alert bytes, a flight, nothing) or in the `http: TLS handshake
 * error` line is tallied with a sample. Not part of `npm test` (its outcome is a report, and
 * the differences left are listed in issue 9's note); run it with
 *
 *   FTH_FUZZ_SECONDS=120 npx vitest run --config vitest.fuzz.config.ts
 *
 * and read test-output/fleet-server-vs-go.txt.
 */
import { expect, it } from 'vitest';
import { mkdir } from 'node:fs/promises';
import { writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { authorities, identity, startElasticsearch } from '../../src/api.js';
import { FakeFleetServer } from '../../src/components/fleet-server.js';
import { buildGoPeer, goServers } from '../helpers/go-peer.js';
import { scratchDir, sharedPki } from '../helpers/pki.js';

const pick = (n: number) => Math.floor(Math.random() * n);
async function realClientHello(version: 'TLSv1.3' | 'TLSv1.2'): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const hello = new Promise<Buffer>((resolve) => server.once('connection', (s) => s.once('data', (d: Buffer) => { resolve(d); s.destroy(); })));
  const client = tls.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1', servername: 'localhost', minVersion: version, maxVersion: version });
  client.on('error', () => undefined);
  const bytes = await hello; client.destroy(); server.close(); return bytes;
}
function mutate(hello: Buffer): Buffer {
  const copy = Buffer.from(hello);
  switch (pick(5)) {
    case 0: for (let i = 0, n = 1 + pick(4); i < n; i++) copy[5 + pick(copy.length - 5)] = pick(256); return copy;
    case 1: return copy.subarray(0, 5 + pick(copy.length - 5));
    case 2: { const at = 9 + pick(copy.length - 11); copy.writeUInt16BE(pick(65536), at); return copy; }
    case 3: { const at = 9 + pick(copy.length - 11); copy[at] = pick(256); return copy; }
    default: return Buffer.concat([copy.subarray(0, 5), randomBytes(copy.readUInt16BE(3))]);
  }
}
function send(port: number, bytes: Buffer): Promise<{ bytes: Buffer; localPort: number }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []; let lp = 0;
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => { lp = socket.localPort!; socket.end(bytes); });
    const done = () => { clearTimeout(t); socket.destroy(); resolve({ bytes: Buffer.concat(chunks), localPort: lp }); };
    const t = setTimeout(done, 3000);
    socket.on('data', (c: Buffer) => chunks.push(c)); socket.on('end', done); socket.on('error', done);
  });
}
const shape = (b: Buffer) => b.length === 0 ? 'nothing' : b[0] === 21 ? `alert ${b.subarray(0, 7).toString('hex')}` : b[0] === 22 ? 'handshake' : b.subarray(0, 12).toString('latin1');
it('the fake Fleet Server answers mutated ClientHellos as Go 1.19 does, and stays up', async () => {
  const scratch = await scratchDir();
  const pki = await sharedPki();
  const binary = await buildGoPeer(scratch.dir);
  const es = await startElasticsearch({ pki });
  const go = await goServers(binary, [{ name: 'g', cert: pki.certPath('fleet-cert'), key: pki.keyPath('fleet-cert') }]);
  const fake = await FakeFleetServer.start({ identity: identity(pki, 'fleet-cert'), certificateAuthorities: authorities(pki, 'fleet-ca', 'agent-ca'), clientAuthentication: 'none', goRelease: '1.19',
    elasticsearch: { url: es.url, serviceToken: es.serviceToken, connectTo: es.endpoint, tls: { certificateAuthorities: authorities(pki, 'es-ca') } } });
  const hellos = [await realClientHello('TLSv1.3'), await realClientHello('TLSv1.2')];
  const diffs = new Map<string, { n: number; sample: string }>();
  let cases = 0;
  const until = Date.now() + Number(process.env.FTH_FUZZ_SECONDS ?? 60) * 1000;
  while (Date.now() < until) {
    const batch = Array.from({ length: 8 }, () => mutate(hellos[pick(2)]!));
    await Promise.all(batch.map(async (bytes) => {
      const [g, f] = await Promise.all([send(go.port('g'), bytes), send(fake.endpoint.port, bytes)]);
      await go.logLine('g', g.localPort, 1500); await new Promise((r) => setTimeout(r, 100)); const gl = go.lines('g').filter((l) => l.includes(`from 127.0.0.1:${g.localPort}: `)).at(-1)?.replace(/from 127.0.0.1:\d+: /, '') ?? 'none';
      const fl = (await fake.connection(f.localPort))?.logLine?.replace(/from 127.0.0.1:\d+: /, '') ?? 'none';
      cases++;
      const gs = shape(g.bytes); const fs = shape(f.bytes);
      if (gs !== fs || gl !== fl) {
        const key = `GO[${gs} | ${gl}]  FAKE[${fs} | ${fl}]`;
        const d = diffs.get(key) ?? { n: 0, sample: bytes.toString('hex') };
        d.n++; diffs.set(key, d);
      }
    }));
  }
  const out = [`${cases} cases, ${[...diffs.values()].reduce((a, d) => a + d.n, 0)} differ`, ...[...diffs].sort((a, b) => b[1].n - a[1].n).map(([k, d]) => `${d.n}  ${k}\n     ${d.sample}`)];
  await mkdir('test-output', { recursive: true });
  await writeFile('test-output/fleet-server-vs-go.txt', out.join('\n'));
  console.log(out.slice(0, 20).join('\n'));
  // Whatever differs, every connection was answered or closed and the fake still serves.
  expect(cases).toBeGreaterThan(0);
  await go.stop(); await fake.close(); await es.close(); await scratch.cleanup();
}, 600_000);
