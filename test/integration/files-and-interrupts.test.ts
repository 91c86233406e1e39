import { existsSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, rename, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPki } from '../../src/api.js';
import { BIN, cliInProcess } from '../helpers/cli.js';
import { scratchDir } from '../helpers/pki.js';

/*
 * Files the harness writes: never through a symlink, never over a file it did not write, and
 * never half: a `certs` or `run` killed at any moment leaves a state the next run accepts, and no
 * private key behind in the temporary directory (each child gets a TMPDIR of its own to look in).
 */
let root: string;
let cleanup: () => Promise<void>;
let base: string;

beforeAll(async () => {
  ({ dir: root, cleanup } = await scratchDir('fth-files-'));
  base = path.join(root, 'base');
  expect((await cliInProcess(['certs', '--out', base, '--key-type', 'ecdsa'])).status).toBe(0);
}, 60_000);
afterAll(() => cleanup());

async function copyOfBase(name: string): Promise<string> {
  const dir = path.join(root, name);
  await mkdir(dir);
  for (const file of await readdir(base)) await writeFile(path.join(dir, file), await readFile(path.join(base, file)), { mode: (await stat(path.join(base, file))).mode & 0o777 });
  return dir;
}

describe('certs refuses what it does not own, with exit 2 and one line, touching nothing', () => {
  it('a symlinked manifest: the file it points to keeps its bytes', async () => {
    const dir = await copyOfBase('symlinked-manifest');
    const victim = path.join(root, 'victim-manifest.txt');
    await writeFile(victim, 'precious\n');
    await writeFile(path.join(dir, 'fleet-ca.key'), 'corrupt, so certs must write'); // and the manifest with it
    await symlink(victim, path.join(dir, '.fleet-tls-pki.json.new'));
    await rename(path.join(dir, '.fleet-tls-pki.json.new'), path.join(dir, '.fleet-tls-pki.json'));
    const result = await cliInProcess(['certs', '--out', dir]);
    expect(result).toEqual({
      status: 2, out: '',
      err: `fleet-tls: FTH_PKI_FOREIGN_FILE: ${path.join(dir, '.fleet-tls-pki.json')} was not written by fleet-tls and would be replaced (it is a symbolic link); use --force to replace it or choose another directory\n`,
    });
    expect(await readFile(victim, 'utf8')).toBe('precious\n');
    expect((await lstat(path.join(dir, '.fleet-tls-pki.json'))).isSymbolicLink()).toBe(true);
  });

  it('a manifest another program wrote', async () => {
    const dir = path.join(root, 'foreign-manifest');
    await mkdir(dir);
    await writeFile(path.join(dir, '.fleet-tls-pki.json'), '{"generator":"something-else","files":{}}\n');
    const result = await cliInProcess(['certs', '--out', dir]);
    expect(result.status).toBe(2);
    expect(result.err).toBe(`fleet-tls: FTH_PKI_FOREIGN_FILE: ${path.join(dir, '.fleet-tls-pki.json')} was not written by fleet-tls and would be replaced (it is not fleet-tls's manifest); use --force to replace it or choose another directory\n`);
    expect(await readdir(dir)).toEqual(['.fleet-tls-pki.json']);
    expect(await readFile(path.join(dir, '.fleet-tls-pki.json'), 'utf8')).toBe('{"generator":"something-else","files":{}}\n');
  });

  it('a symlink planted where the CA key goes: the CA key never reaches its target', async () => {
    const dir = path.join(root, 'planted-key');
    await mkdir(dir);
    const trap = path.join(root, 'attacker-reads-this');
    await writeFile(trap, '');
    await symlink(trap, path.join(dir, 'fleet-ca.key'));
    const result = await cliInProcess(['certs', '--out', dir]);
    expect(result).toEqual({
      status: 2, out: '',
      err: `fleet-tls: FTH_PKI_FOREIGN_FILE: ${path.join(dir, 'fleet-ca.key')} was not written by fleet-tls and would be replaced (it is a symbolic link); use --force to replace it or choose another directory\n`,
    });
    expect(await readFile(trap, 'utf8')).toBe('');
    expect(await readdir(dir)).toEqual(['fleet-ca.key']);
  });

  it('with --force replaces the link itself, never writing through it', async () => {
    const dir = path.join(root, 'forced');
    await mkdir(dir);
    const trap = path.join(root, 'forced-trap');
    await writeFile(trap, '');
    await symlink(trap, path.join(dir, 'fleet-ca.key'));
    await symlink(trap, path.join(dir, '.fleet-tls-pki.json'));
    expect((await cliInProcess(['certs', '--out', dir, '--force', '--key-type', 'ecdsa'])).status).toBe(0);
    expect(await readFile(trap, 'utf8')).toBe('');
    const key = await lstat(path.join(dir, 'fleet-ca.key'));
    expect([key.isFile(), key.mode & 0o777]).toEqual([true, 0o600]);
    expect((await lstat(path.join(dir, '.fleet-tls-pki.json'))).isFile()).toBe(true);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

/** Starts the CLI in a child with its own TMPDIR and kills it after a random delay. */
async function killAtRandom(args: readonly string[], tmp: string, signal: 'SIGINT' | 'SIGKILL', maxDelayMs: number) {
  const child = execa(process.execPath, [BIN, ...args], { reject: false, env: { NO_COLOR: '1', TMPDIR: tmp } });
  await new Promise((r) => setTimeout(r, Math.floor(Math.random() * maxDelayMs)));
  child.kill(signal);
  return child;
}

const keyMaterial = async (tmp: string) => (await readdir(tmp, { recursive: true })).filter((f) => String(f).includes('fleet-tls'));

describe('interrupted at a random moment', () => {
  it('certs killed with SIGINT or SIGKILL leaves a directory the next certs accepts, with no temporary file', async () => {
    const dir = await copyOfBase('interrupted-certs');
    const tmp = path.join(root, 'tmp-certs');
    await mkdir(tmp);
    for (const [i, signal] of (['SIGKILL', 'SIGINT', 'SIGKILL'] as const).entries()) {
      // Switching the key type makes every run rewrite every file, so the kill lands mid-write often.
      await killAtRandom(['certs', '--out', dir, '--key-type', i % 2 ? 'ecdsa' : 'rsa'], tmp, signal, 2_500);
      const next = await execa(process.execPath, [BIN, 'certs', '--out', dir, '--json'], { reject: false, env: { NO_COLOR: '1', TMPDIR: tmp } });
      expect([next.exitCode, next.stderr]).toEqual([0, '']);
      expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      const objects = (JSON.parse(next.stdout) as { objects: Array<{ key: string }> }).objects;
      for (const o of objects) expect((await stat(path.resolve(o.key))).mode & 0o777).toBe(0o600);
    }
    expect(await keyMaterial(tmp)).toEqual([]);
  }, 150_000);

  it('run killed with SIGINT removes its scenario keys at once; killed with SIGKILL, the next run removes them', async () => {
    const certs = await copyOfBase('interrupted-run');
    const tmp = path.join(root, 'tmp-run');
    await mkdir(tmp);
    const scenario = 'agent-fleet.mutual.agent-cert-expired'; // writes certificates and keys of its own
    const interrupted = await killAtRandom(['run', scenario, '--certs', certs], tmp, 'SIGINT', 1_500);
    expect(interrupted.signal === 'SIGINT' || interrupted.exitCode === 0).toBe(true);
    expect(await keyMaterial(tmp)).toEqual([]);
    // SIGKILL leaves no chance: wait until the run has written its keys, then kill it.
    const child = execa(process.execPath, [BIN, 'run', scenario, '--certs', certs], { reject: false, env: { NO_COLOR: '1', TMPDIR: tmp } });
    const deadline = Date.now() + 30_000;
    while ((await keyMaterial(tmp)).filter((f) => f.endsWith('.key')).length === 0 && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    child.kill('SIGKILL');
    await child;
    const next = await execa(process.execPath, [BIN, 'run', 'flow.one-way', '--tls', '1.3', '--quiet', '--certs', certs], { reject: false, env: { NO_COLOR: '1', TMPDIR: tmp } });
    expect([next.exitCode, next.stderr]).toEqual([0, '']);
    expect(await keyMaterial(tmp)).toEqual([]);
  }, 150_000);
});

describe('createPki', () => {
  it('removes its temporary directory at the end of an `await using` scope, and on remove()', async () => {
    let dir: string;
    {
      await using pki = await createPki({ keyType: 'ecdsa' });
      dir = pki.dir;
      expect((await stat(pki.keyPath('fleet-ca'))).mode & 0o777).toBe(0o600);
    }
    expect(existsSync(dir)).toBe(false);
    const other = await createPki({ keyType: 'ecdsa' });
    await other.remove();
    expect(existsSync(other.dir)).toBe(false);
  });

  it('removes it when the program is interrupted with SIGINT, and the program still dies of the signal', async () => {
    const api = path.resolve(path.dirname(BIN), '..', 'api.js');
    const child = execa(process.execPath, ['--input-type=module', '-e',
      `const { createPki } = await import(${JSON.stringify(api)}); const pki = await createPki({ keyType: 'ecdsa' }); console.log(pki.dir); setInterval(() => {}, 1000);`,
    ], { reject: false });
    const dir = await new Promise<string>((resolve) => child.stdout!.once('data', (chunk: Buffer) => resolve(chunk.toString().trim())));
    expect(existsSync(path.join(dir, 'fleet-ca.key'))).toBe(true);
    child.kill('SIGINT');
    const result = await child;
    expect(result.signal).toBe('SIGINT');
    expect(existsSync(dir)).toBe(false);
  }, 60_000);
});
