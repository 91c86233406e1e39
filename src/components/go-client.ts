import http from 'node:http';
import { DEFAULT_GO, type GoRelease } from '../dialects/go.js';
import { describeConnection, failedConnection, type ClientConnection } from './client-connection.js';
import type { GoClientTls } from './go-client-tls.js';
import { dialTcp, settled, startGoTls, type Dialled } from './go-dial.js';
import { plainHttpError, stalledError, tlsRequestError } from './go-errors.js';
import { httpExchange, keepsAlive, type GoExchange, type GoResponse, type HttpRequestParts } from './go-http.js';
import { GoTransport } from './go-transport.js';

/**
 * A Go program's HTTP client as elastic-agent-libs configures it: this module only sequences the
 * steps (reuse a kept connection, dial, TLS, exchange, keep alive); each step is its own module
 * (go-dial, go-http, go-errors, go-transport), as net/http splits Transport from its dialer.
 */

export { GoTransport };
export type { GoClientTls, GoExchange, GoResponse, ClientConnection };

export interface GoRequest extends HttpRequestParts {
  readonly url: string;
  readonly tls?: GoClientTls;
  readonly goRelease?: GoRelease;
  /**
   * Where to open the TCP connection instead of the URL's host and port, like `curl --resolve`:
   * the URL's host name still drives SNI, verification and the Host header.
   */
  readonly connectTo?: { readonly host: string; readonly port: number };
  /** The client's transport: its kept-alive connection is reused, as Go's http.Transport does. */
  readonly transport?: GoTransport;
}

/**
 * One HTTPS request the way a Go program using elastic-agent-libs makes it. Failures are data
 * (`error` in Go's words), not exceptions: the caller is reproducing them.
 */
export async function goRequest(request: GoRequest): Promise<GoExchange> {
  const url = new URL(request.url);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const target = request.connectTo ?? { host, port };
  const key = `${url.protocol}//${host}:${port}@${target.host}:${target.port}`;
  const reused = await overKeptConnection(request, url, key);
  if (reused) return reused;
  const dialled = await dialTcp(target);
  if ('error' in dialled) return { error: dialled.error, connection: failedConnection(dialled.remote, dialled.cause) };
  if (url.protocol !== 'https:') return plainRequest(request, url, dialled);
  if (request.tls?.stall) return stalled(dialled);
  return tlsRequest(request, url, host, key, dialled);
}

/** A connection the server closed while idle: Go retries on a new one, and so does this. */
async function overKeptConnection(request: GoRequest, url: URL, key: string): Promise<GoExchange | undefined> {
  const kept = request.transport?.take(key, request.tls);
  if (!kept) return undefined;
  const response = await httpExchange(request, url, { agent: kept.agent }).catch(() => undefined);
  if (!response) {
    kept.agent.destroy();
    return undefined;
  }
  if (keepsAlive(response)) request.transport!.keep(kept);
  else kept.agent.destroy();
  return { response, connection: kept.connection };
}

async function tlsRequest(request: GoRequest, url: URL, host: string, key: string, dialled: Dialled): Promise<GoExchange> {
  const settings = request.tls ?? {};
  const { raw, local, localPort, remote } = dialled;
  const conn = startGoTls(raw, settings, host, request.goRelease ?? DEFAULT_GO);
  const { tap, socket, warnings } = conn;
  // With a transport, an agent around this one socket gives Node's HTTP keep-alive handling.
  const agent = request.transport ? new http.Agent({ keepAlive: true, maxSockets: 1 }) : undefined;
  if (agent) {
    agent.createConnection = () => socket;
    // Node's default sets TCP options on the socket it gets, which a TLS socket over the tap
    // does not survive; the raw socket underneath stays as it is.
    agent.keepSocketAlive = () => true;
  }
  const response = await httpExchange(request, url, agent ? { agent } : { socket }).catch((error: NodeJS.ErrnoException) => {
    conn.noteError(error);
    return undefined;
  });
  if (response && agent && keepsAlive(response) && !socket.destroyed) {
    const connection = describeConnection(tap, settings, local, localPort, remote, warnings, conn.nodeError());
    request.transport!.keep({ key, tls: request.tls, socket, agent, connection });
    return { response, connection };
  }
  agent?.destroy();
  socket.destroy();
  await settled(raw);
  const connection = describeConnection(tap, settings, local, localPort, remote, warnings, conn.nodeError());
  if (response) return { response, connection };
  return { error: tlsRequestError(tap, conn.nodeError(), local, remote), connection };
}

async function plainRequest(request: GoRequest, url: URL, { raw, local, localPort, remote }: Dialled): Promise<GoExchange> {
  const response = await httpExchange(request, url, { socket: raw }).catch((error: NodeJS.ErrnoException) => error);
  raw.destroy();
  const connection: ClientConnection = { ...failedConnection(remote, null), local, ...(localPort ? { localPort } : {}) };
  if (response instanceof Error) return { error: plainHttpError(response), connection };
  return { response, connection };
}

/** The stall knob: a client that never sends its ClientHello, until the server closes. */
async function stalled({ raw, local, localPort, remote }: Dialled): Promise<GoExchange> {
  raw.resume();
  await settled(raw);
  const connection: ClientConnection = {
    ...failedConnection(remote, null), local, ...(localPort ? { localPort } : {}), rejectedBy: 'server', phase: 'handshake',
  };
  return { error: stalledError(local, remote), connection };
}
