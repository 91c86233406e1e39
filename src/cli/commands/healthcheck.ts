import { readFile } from 'node:fs/promises';
import https from 'node:https';
import http from 'node:http';
import net from 'node:net';
import type { Command } from 'commander';
import { HarnessError, systemErrorCode } from '../../errors.js';
import type { Io } from '../io.js';
import { HARNESS_ENV, stateFileOf, type ComponentState } from './component-shared.js';
import { endpointOf } from '../../endpoint.js';

/**
 * The image's HEALTHCHECK (the image has no curl): healthy means the component in this container
 * is ready. Fleet Server: GET /api/status answers 200 with status HEALTHY, as Elastic's own
 * container checks it. Elasticsearch: it answers HTTP at all (a 401 is an answer). An agent:
 * it has finished and written its result. A proxy: its port takes a connection. The state file says which component runs here.
 */
export function registerHealthcheck(program: Command, io: Io, env: NodeJS.ProcessEnv = process.env): void {
  program
    .command('healthcheck')
    .description('exit 0 when the component started in this container (or by --state-file) is ready, 1 otherwise; the image\'s HEALTHCHECK')
    .option('--state-file <file>', `the file the component wrote (default $${HARNESS_ENV.stateFile})`)
    .action(async (options: { stateFile?: string }) => {
      const file = options.stateFile ?? env[HARNESS_ENV.stateFile];
      if (!file) throw new HarnessError('FTH_USAGE', `healthcheck needs --state-file or $${HARNESS_ENV.stateFile}`);
      let state: ComponentState;
      try {
        // Read where the component wrote it: against the command's directory, as they resolve it.
        state = JSON.parse(await readFile(stateFileOf(io, file, env)!, 'utf8')) as ComponentState;
      } catch (error) {
        io.out(`not ready: no component has started here yet (${file}: ${systemErrorCode(error) ?? 'unreadable'})\n`);
        io.exitCode = 1;
        return;
      }
      const verdict = await check(state);
      io.out(`${verdict.ready ? 'ready' : 'not ready'}: ${state.component} ${verdict.why}\n`);
      io.exitCode = verdict.ready ? 0 : 1;
    });
}

async function check(state: ComponentState): Promise<{ ready: boolean; why: string }> {
  if (state.component === 'proxy') return listens(state.url ?? '');
  if (state.component === 'agent') return { ready: state.done === true && state.ok === true, why: state.done ? (state.ok ? 'finished and shipped' : 'finished and failed') : 'still enrolling' };
  const target = state.component === 'fleet-server' ? `${state.url}/api/status` : `${state.url}/`;
  const answer = await get(target);
  if ('error' in answer) {
    // With client authentication required the check has no certificate to present: the server's
    // refusal proves it answers TLS, and the state it recorded says whether it is HEALTHY.
    if (state.component === 'fleet-server' && state.clientAuthentication === 'required' && /ALERT|ECONNRESET/.test(answer.error)) {
      return { ready: state.state === 'HEALTHY', why: `requires a client certificate (${answer.error}); its recorded state is ${state.state ?? 'unknown'}` };
    }
    return { ready: false, why: `${target}: ${answer.error}` };
  }
  if (state.component === 'elasticsearch') return { ready: true, why: `answers ${answer.status} at ${target}` };
  let status = '';
  try {
    status = String((JSON.parse(answer.body) as { status?: unknown }).status ?? '');
  } catch { /* not JSON: not Fleet Server */ }
  return { ready: answer.status === 200 && status === 'HEALTHY', why: `${target} answers ${answer.status} ${status}`.trim() };
}

/**
 * A proxy is ready when its port takes a connection: what it answers depends on what a client asks
 * (a CONNECT, a SOCKS greeting, a ClientHello), and a load balancer's own probe is no more than this.
 */
function listens(url: string): Promise<{ ready: boolean; why: string }> {
  return new Promise((resolve) => {
    const socket = net.connect(endpointOf(new URL(url)));
    socket.setTimeout(5000, () => socket.destroy(new Error('timed out after 5 s')));
    socket.once('connect', () => {
      socket.destroy();
      resolve({ ready: true, why: `takes connections at ${url}` });
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve({ ready: false, why: `${url}: ${error.code ?? error.message}` }));
  });
}

/** One GET on loopback; the peer's certificate is not checked: the question is readiness, not trust. */
function get(url: string): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const client = url.startsWith('https:') ? https : http;
    const request = client.get(url, { rejectUnauthorized: false, timeout: 5000 }, (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= 65536) chunks.push(chunk);
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', (error) => resolve({ error: error.message }));
    });
    request.on('timeout', () => request.destroy(new Error('timed out after 5 s')));
    request.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
  });
}
