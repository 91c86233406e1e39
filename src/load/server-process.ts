/**
 * The server side of `fleet-tls load`, in a child process of its own so that load generation and
 * serving each get a core. Started with fork(); talks over IPC:
 *   parent -> { start: ServerSpec }     child -> { ready: ServerReady } | { failed: message }
 *   parent -> { rss: true }             child -> { rss: bytes }
 *   parent -> { held: true }            child -> { held: long polls held now }
 *   parent -> { cpu: true }             child -> { cpu: milliseconds of CPU used so far }
 * and exits when the parent disconnects.
 */
import tls from 'node:tls';
import { ensurePki } from '../pki/store.js';
import { identity, authorities } from '../api.js';
import { FakeElasticsearch } from '../components/elasticsearch.js';
import { autoConfiguredChain } from '../components/elasticsearch/chain.js';
import { newServiceToken } from '../components/elasticsearch-api.js';
import { FakeFleetServer } from '../components/fleet-server.js';
import { only, type TlsVersion } from '../tls/settings.js';
import { HarnessError } from '../errors.js';

export interface ServerSpec {
  /** The fake Fleet Server (with a fake Elasticsearch behind it), or a bare node:tls server. */
  readonly kind: 'fleet-server' | 'bare';
  readonly certs: string;
  readonly tls: TlsVersion;
  /** Fleet Server only: run agents' TLS through the record tap, as the catalog does. */
  readonly tap?: boolean;
}

export interface ServerReady {
  readonly url: string;
  readonly enrollmentToken?: string;
}

/** fleet-server's default `cache.api_key_ttl`. */
const API_KEY_TTL_MS = 15 * 60_000;

export async function startLoadServer(spec: ServerSpec): Promise<{ ready: ServerReady; held(): number; close(): Promise<void> }> {
  const { pki } = await ensurePki({ dir: spec.certs });
  if (spec.kind === 'bare') {
    const server = tls.createServer({
      cert: pki.leaves['fleet-cert'].pem,
      key: identity(pki, 'fleet-cert').keyPem,
      ca: pki.cas['agent-ca'].pem,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: `TLSv${spec.tls}`,
      maxVersion: `TLSv${spec.tls}`,
    }, (socket) => {
      socket.once('data', () => socket.end(BARE_REPLY));
      socket.on('error', () => socket.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    return {
      ready: { url: `https://127.0.0.1:${port}` },
      held: () => 0,
      close: () => new Promise((resolve) => server.close(() => resolve())),
    };
  }
  // startElasticsearch's defaults; without the record tap unless --tap, as Fleet Server's agents are.
  const es = await FakeElasticsearch.start({
    identity: autoConfiguredChain(identity(pki, 'es-cert'), authorities(pki, 'es-ca')[0]!),
    clientCertificateAuthorities: authorities(pki, 'es-ca'),
    versions: only(spec.tls),
    serviceToken: newServiceToken(),
    ...(spec.tap ? {} : { direct: true }),
  });
  const fleet = await FakeFleetServer.start({
    identity: identity(pki, 'fleet-cert'),
    certificateAuthorities: authorities(pki, 'fleet-ca', 'agent-ca'),
    clientAuthentication: 'required',
    versions: only(spec.tls),
    elasticsearch: {
      url: es.url,
      serviceToken: es.state.serviceToken,
      connectTo: es.endpoint,
      tls: { certificateAuthorities: authorities(pki, 'es-ca'), certificate: identity(pki, 'fleet-es-cert') },
    },
    apiKeyCacheMs: API_KEY_TTL_MS,
    ...(spec.tap ? {} : { direct: true }),
  });
  if (!fleet.healthy) throw new HarnessError('FTH_INTERNAL', `the fake Fleet Server did not become healthy: ${fleet.stateMessage}`);
  return {
    ready: { url: fleet.url, enrollmentToken: fleet.enrollmentToken! },
    held: () => fleet.heldPolls,
    close: async () => { await Promise.all([fleet.close(), es.close()]); },
  };
}

/** What the bare server answers to any bytes: just enough HTTP for the same client to read. */
export const BARE_REPLY = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}';

if (process.send && process.argv[2] === '--load-server') {
  const send = (message: object) => process.send!(message);
  let running: { held(): number; close(): Promise<void> } | undefined;
  process.on('message', (message: { start?: ServerSpec; rss?: boolean; held?: boolean; cpu?: boolean }) => {
    if (message.held) send({ held: running?.held() ?? 0 });
    if (message.cpu) {
      const cpu = process.cpuUsage();
      send({ cpu: (cpu.user + cpu.system) / 1000 });
    }
    if (message.start) {
      startLoadServer(message.start).then((server) => {
        running = server;
        send({ ready: server.ready });
      }, (error: Error) => send({ failed: error.message }));
    }
    if (message.rss) {
      global.gc?.();
      send({ rss: process.memoryUsage().rss });
    }
  });
  process.on('disconnect', () => {
    void (running?.close() ?? Promise.resolve()).finally(() => process.exit(0));
  });
}
