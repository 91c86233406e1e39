import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { runCli } from '../../src/cli/main.js';
import type { Io } from '../../src/cli/io.js';
import type { Pki } from '../../src/pki/store.js';
import { cliInProcess, fleetTls } from '../helpers/cli.js';
import { scratchDir, sharedPki } from '../helpers/pki.js';

let dir: string;
let pki: Pki;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir, cleanup } = await scratchDir());
  pki = await sharedPki();
});
afterAll(() => cleanup());

const SERVICE_TOKEN = 'AAEAAWVsYXN0aWMvZmxlZXQtc2VydmVyL3Rlc3Q6c3RhdGUtZmlsZQ';

describe('a component whose state file cannot be written', () => {
  // Each listened before the state was written: left listening, the process outlived its error.
  it.each([
    ['elasticsearch', ['elasticsearch', '--port', '0']],
    ['fleet-server', ['fleet-server', '--fleet-server-es', 'https://127.0.0.1:9', '--fleet-server-service-token', SERVICE_TOKEN, '--fleet-server-port', '0']],
    ['proxy', ['proxy', '--forward-proxy', '0']],
  ])('%s closes what it opened and exits 2 with one line naming the file', async (_name, args) => {
    const missing = path.join(dir, 'no-such-dir', 'state.json');
    const result = await fleetTls([...args, '--certs', path.join(dir, 'certs'), '--state-file', missing], { cwd: dir, env: { HARNESS_BIND_HOST: '127.0.0.1' } });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe(`fleet-tls: FTH_FILE_UNWRITABLE: ${missing}: cannot write the component state (ENOENT)`);
  }, 30_000);
});

describe('a relative --state-file is the command\'s own directory\'s (io.cwd), not the process\'s', () => {
  it('proxy writes it there and healthcheck reads it from there, with the same relative name', async () => {
    expect(dir).not.toBe(process.cwd());
    let stop!: (signal: string) => void;
    let out = '';
    const io: Io = { out: (t) => { out += t; }, err: (t) => { out += t; }, isTty: false, cwd: dir, untilStopped: () => new Promise((r) => { stop = r; }) };
    const running = runCli(['proxy', '--forward-proxy', '0', '--host', '127.0.0.1', '--state-file', 'forward.json'], io);
    let url: string;
    let health: Awaited<ReturnType<typeof cliInProcess>>;
    try {
      for (let i = 0; !existsSync(path.join(dir, 'forward.json')); i += 1) {
        if (i > 400) throw new Error(`no state file: ${out}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      url = (JSON.parse(readFileSync(path.join(dir, 'forward.json'), 'utf8')) as { url: string }).url;
      health = await cliInProcess(['healthcheck', '--state-file', 'forward.json'], dir);
    } finally {
      // Stopped whatever happened above: a proxy left listening would outlive this test in the worker.
      stop?.('SIGTERM');
    }
    expect(await running).toBe(0);
    expect(health).toEqual({ status: 0, out: `ready: proxy takes connections at ${url}\n`, err: '' });
    expect(existsSync(path.join(process.cwd(), 'forward.json'))).toBe(false);
  });

  it('healthcheck reads an agent\'s state relative to io.cwd', async () => {
    await writeFile(path.join(dir, 'agent.json'), `${JSON.stringify({ component: 'agent', pid: 1, done: true, ok: true })}\n`);
    expect(await cliInProcess(['healthcheck', '--state-file', 'agent.json'], dir)).toEqual({ status: 0, out: 'ready: agent finished and shipped\n', err: '' });
  });
});

describe('a component given a certificate and a key that do not match', () => {
  // Before: the PKI for what the flags left out was written first, then the pair refused.
  it.each([
    ['elasticsearch', () => ['elasticsearch', '--port', '0', '--cert', pki.certPath('es-cert'), '--key', pki.keyPath('fleet-cert')],
      () => `--key ${pki.keyPath('fleet-cert')}: the key does not belong to ${pki.certPath('es-cert')}`],
    ['fleet-server', () => ['fleet-server', '--fleet-server-es', 'https://127.0.0.1:9', '--fleet-server-service-token', SERVICE_TOKEN, '--fleet-server-port', '0',
      '--fleet-server-cert', pki.certPath('fleet-cert'), '--fleet-server-cert-key', pki.keyPath('es-cert')],
    () => `--fleet-server-cert-key ${pki.keyPath('es-cert')}: the key does not belong to ${pki.certPath('fleet-cert')}`],
    ['proxy', () => ['proxy', '--secure-proxy', '0', '--secure-proxy-upstream', 'https://127.0.0.1:9', '--secure-proxy-cert', pki.certPath('fleet-cert'), '--secure-proxy-cert-key', pki.keyPath('es-cert')],
      () => `--secure-proxy-cert-key ${pki.keyPath('es-cert')}: the key does not belong to ${pki.certPath('fleet-cert')}`],
    ['serve', () => ['serve', '--fleet-server-port', '0', '--es-port', '0', '--es-cert', pki.certPath('es-cert'), '--es-cert-key', pki.keyPath('fleet-cert')],
      () => `--es-cert-key ${pki.keyPath('fleet-cert')}: the key does not belong to ${pki.certPath('es-cert')}`],
  ])('%s exits 2 with one line naming the flag, and writes no PKI directory and no state file', async (name, args, line) => {
    // serve records no state: only the component commands take --state-file.
    const state = name === 'serve' ? [] : ['--state-file', `${name}.json`];
    const result = await cliInProcess([...args(), '--certs', `${name}-certs`, ...state], dir);
    expect(result).toEqual({ status: 2, out: '', err: `fleet-tls: FTH_KEY_MISMATCH: ${line()}\n` });
    expect([existsSync(path.join(dir, `${name}-certs`)), existsSync(path.join(dir, `${name}.json`))]).toEqual([false, false]);
  });

  it('proxy checks a --secure-proxy-client-ca it cannot read before writing the PKI for the proxy\'s own certificate', async () => {
    const missing = path.join(dir, 'no-such-ca.crt');
    const result = await cliInProcess(['proxy', '--secure-proxy', '0', '--secure-proxy-upstream', 'https://127.0.0.1:9', '--secure-proxy-client-ca', missing, '--certs', 'ca-certs'], dir);
    expect(result).toEqual({ status: 2, out: '', err: `fleet-tls: FTH_FILE_UNREADABLE: --secure-proxy-client-ca ${missing}: no such file or directory\n` });
    expect(existsSync(path.join(dir, 'ca-certs'))).toBe(false);
  });
});
