import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { fleetTls } from '../helpers/cli.js';
import { scratchDir } from '../helpers/pki.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => { ({ dir, cleanup } = await scratchDir()); });
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
