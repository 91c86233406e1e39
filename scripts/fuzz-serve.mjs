#!/usr/bin/env node
/**
 * A bounded hostile-client run against `fleet-tls serve` (issue 9): mutated real ClientHellos,
 * hand-broken ones, client certificates Go's parser refuses, and openssl s_client with odd knobs,
 * sent to both fakes while a proper client checks every few cases that Fleet Server still answers.
 *
 *   node scripts/fuzz-serve.mjs [seconds=30] [--certs DIR]
 *
 * Prints what the fakes answered (by alert, close or reset) and exits 1 if serve exited or a
 * proper client was ever refused. Needs `npm run build` first (it runs dist/cli/bin.js).
 */
import { spawn, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const seconds = Number(process.argv[2] ?? 30);
const certsFlag = process.argv.indexOf('--certs');
const scratch = mkdtempSync(path.join(tmpdir(), 'fth-fuzz-'));
const certs = certsFlag > 0 ? process.argv[certsFlag + 1] : path.join(scratch, 'certs');

const pick = (n) => Math.floor(Math.random() * n);

function startServe() {
  const child = spawn(process.execPath, [path.join(root, 'dist/cli/bin.js'), 'serve', '--json', '--certs', certs,
    '--fleet-server-port', '0', '--es-port', '0', '--fleet-server-client-auth', 'optional'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout.on('data', (c) => { text += c; });
  child.stderr.on('data', (c) => { text += c; });
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      const line = text.split('\n').find((l) => l.includes('"ready"'));
      if (line) {
        clearInterval(timer);
        const ready = JSON.parse(line).ready;
        resolve({ child, output: () => text, fs: Number(new URL(ready.fleetServer).port), es: Number(new URL(ready.elasticsearch).port) });
      } else if (child.exitCode !== null) {
        clearInterval(timer);
        reject(new Error(`serve exited: ${text}`));
      }
    }, 50);
  });
}

/** The ClientHello Node's OpenSSL sends, captured off a socket that answers nothing. */
async function realClientHello(version) {
  const server = net.createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const hello = new Promise((resolve) => server.once('connection', (s) => s.once('data', (d) => { resolve(d); s.destroy(); })));
  const client = tls.connect({ port: server.address().port, host: '127.0.0.1', servername: 'localhost', minVersion: version, maxVersion: version });
  client.on('error', () => undefined);
  const bytes = await hello;
  client.destroy();
  server.close();
  return bytes;
}

function mutate(hello) {
  const copy = Buffer.from(hello);
  switch (pick(5)) {
    case 0: // flip a few bytes anywhere
      for (let i = 0, n = 1 + pick(4); i < n; i++) copy[pick(copy.length)] = pick(256);
      return copy;
    case 1: // cut short
      return copy.subarray(0, 5 + pick(copy.length - 5));
    case 2: { // a length field that lies: handshake length, or any 2-byte field
      const at = 9 + pick(copy.length - 11);
      copy.writeUInt16BE(pick(65536), at);
      return copy;
    }
    case 3: // the handshake header claims something else
      copy.writeUIntBE(pick(1 << 24), 6, 3);
      return copy;
    default: // random garbage after a valid record header
      return Buffer.concat([copy.subarray(0, 5), randomBytes(copy.readUInt16BE(3))]);
  }
}

function sendRaw(port, bytes) {
  return new Promise((resolve) => {
    const chunks = [];
    // Then FIN: a peer that stops short must be closed, not waited for until the read timeout.
    const socket = net.connect({ port, host: '127.0.0.1' }, () => socket.end(bytes));
    const timer = setTimeout(() => finish('timeout'), 3000);
    const finish = (end) => {
      clearTimeout(timer);
      socket.destroy();
      const data = Buffer.concat(chunks);
      const alert = data.length >= 7 && data[0] === 21 ? `alert ${data[6]}` : data.length > 0 && data[0] === 22 ? 'handshake' : 'nothing';
      resolve(`${alert}, ${end}`);
    };
    socket.on('data', (c) => chunks.push(c));
    socket.on('end', () => finish('fin'));
    socket.on('error', (e) => finish(e.code === 'ECONNRESET' ? 'reset' : e.code));
  });
}

function openssl(port, args) {
  return new Promise((resolve) => {
    const child = execFile('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, ...args], { timeout: 5000 }, (error, stdout, stderr) => {
      const alert = /alert (number \d+|[a-z ]+)/.exec(stderr)?.[0];
      resolve(alert ? `openssl: ${alert}` : error ? `openssl: exit ${error.code}` : 'openssl: ok');
    });
    child.stdin.end('Q\n');
  });
}

const KNOBS = [
  ['-tls1_3', '-ciphersuites', 'TLS_AES_128_CCM_8_SHA256'],
  ['-tls1_2', '-cipher', 'AES128-SHA'],
  ['-tls1_2', '-sigalgs', 'RSA+SHA1'],
  ['-tls1_3', '-curves', 'ffdhe2048'],
  ['-tls1_1'],
  ['-tls1_2', '-no_ems'],
  ['-tls1_3', '-servername', 'x'.repeat(255)],
  ['-tls1_3', '-alpn', 'h2,http/1.1,' + 'a'.repeat(200)],
];

async function healthy(port, ca) {
  return new Promise((resolve) => {
    // The request half-closed right after it, as curl does: Go answers, then closes.
    const socket = tls.connect({ port, host: '127.0.0.1', ca, servername: 'localhost', allowHalfOpen: true }, () =>
      socket.end('GET /api/status HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'));
    let text = '';
    socket.setTimeout(10000, () => { failure = 'no answer in 10 s'; socket.destroy(); });
    socket.on('data', (c) => { text += c; });
    socket.on('close', () => {
      if (!text.startsWith('HTTP/1.1 200 OK')) console.log(`proper client refused: ${failure ?? JSON.stringify(text.slice(0, 80))}`);
      resolve(text.startsWith('HTTP/1.1 200 OK'));
    });
    let failure;
    socket.on('error', (error) => { failure = error.message; });
  });
}

const served = await startServe();
const ca = readFileSync(path.join(certs, 'fleet-ca.crt'));
const hellos = [await realClientHello('TLSv1.3'), await realClientHello('TLSv1.2')];
const tally = new Map();
let cases = 0;
let refusedProper = 0;
const until = Date.now() + seconds * 1000;
while (Date.now() < until && served.child.exitCode === null) {
  const port = pick(2) === 0 ? served.fs : served.es;
  const name = port === served.fs ? 'fleet-server' : 'elasticsearch';
  const outcome = pick(10) === 0
    ? await openssl(port, KNOBS[pick(KNOBS.length)])
    : await sendRaw(port, mutate(hellos[pick(hellos.length)]));
  const key = `${name}: ${outcome}`;
  tally.set(key, (tally.get(key) ?? 0) + 1);
  cases++;
  if (cases % 25 === 0 && !(await healthy(served.fs, ca))) refusedProper++;
}
const finalHealth = served.child.exitCode === null && (await healthy(served.fs, ca));
const alive = served.child.exitCode === null;
served.child.kill('SIGTERM');
console.log(`${cases} hostile connections in ${seconds} s; serve ${alive ? 'still running' : `exited ${served.child.exitCode}`}; ` +
  `proper clients refused: ${refusedProper}; last check ${finalHealth ? '200' : 'failed'}`);
for (const [key, count] of [...tally].sort((a, b) => b[1] - a[1])) console.log(`  ${String(count).padStart(5)}  ${key}`);
if (!alive) console.log(served.output().split('\n').slice(-30).join('\n'));
rmSync(scratch, { recursive: true, force: true });
process.exit(alive && finalHealth && refusedProper === 0 ? 0 : 1);
