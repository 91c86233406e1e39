import http from 'node:http';
import type tls from 'node:tls';
import { DEFAULT_GO, type GoRelease } from '../dialects/go.js';
import { describeConnection, failedConnection, type ClientConnection } from './client-connection.js';
import type { GoClientTls } from './go-client-tls.js';
import { dialTcp, settled, startGoTls, type Dialled } from './go-dial.js';
import { plainHttpError, stalledError, tlsRequestError } from './go-errors.js';
import { GO_DEADLINE, httpExchange, keepsAlive, type GoExchange, type GoResponse, type HttpRequestParts } from './go-http.js';
import { GoTransport } from './go-transport.js';
import { dialFirstHop } from './proxy/proxy-dialer.js';
import { hostPort, proxyAuthorization, type ProxyRoute } from './proxy/proxy-url.js';
import { endpointOf } from '../endpoint.js';

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
  /** Transport.Proxy: the request goes through this proxy (proxy/proxy-dialer.ts). */
  readonly proxy?: ProxyRoute;
  /**
   * The deadline's clock starts only once this resolves too (given the connection's local port):
   * a fake peer in this process that still has work of its own to settle, which on a real network
   * would long be over before a timeout of minutes (an intercepting proxy's own handshake upstream).
   */
  readonly deadlineAfter?: (localPort: number | undefined) => Promise<void>;
}

/**
 * One HTTPS request the way a Go program using elastic-agent-libs makes it. Failures are data
 * (`error` in Go's words), not exceptions: the caller is reproducing them.
 */
export async function goRequest(request: GoRequest): Promise<GoExchange> {
  const url = new URL(request.url);
  const { host, port } = endpointOf(url);
  const target = request.connectTo ?? { host, port };
  const key = `${url.protocol}//${host}:${port}@${target.host}:${target.port}${request.proxy ? ` via ${request.proxy.url.href}` : ''}`;
  const reused = await overKeptConnection(request, url, key);
  if (reused) return reused;
  if (request.proxy) return throughProxy(request, request.proxy, url, host, port, key);
  const dialled = await dialTcp(target);
  if ('error' in dialled) return { error: dialled.error, connection: failedConnection(dialled.remote, dialled.cause) };
  if (url.protocol !== 'https:') return plainRequest(request, url, dialled);
  if (request.tls?.stall) return stalled(dialled);
  return tlsRequest(request, url, host, key, dialled);
}

/** Go's dialConn with a proxy: the first hop, then the same TLS or plain exchange over the tunnel. */
async function throughProxy(request: GoRequest, proxy: ProxyRoute, url: URL, host: string, port: number, key: string): Promise<GoExchange> {
  const first = await dialFirstHop({ host, port }, hostPort(host, port), url.protocol === 'https:' ? 'https:' : 'http:', proxy, request.tls ?? {});
  const hop = first.hop ? { proxy: first.hop } : {};
  if (!first.ok) return { error: first.error, connection: first.connection, ...hop };
  const dialled: Dialled = { raw: first.socket, local: first.local, localPort: first.localPort, remote: first.remote };
  if (url.protocol !== 'https:') {
    // Plain HTTP through an HTTP proxy: the absolute URL, with the proxy's credentials on the request itself.
    const authorization = first.hop?.forward ? proxyAuthorization(proxy.url) : undefined;
    const forwarded: GoRequest = first.hop?.forward
      ? { ...request, requestTarget: url.href, headers: { ...request.headers, ...(authorization ? { 'proxy-authorization': authorization } : {}) } }
      : request;
    return { ...await plainRequest(forwarded, url, dialled), ...hop };
  }
  if (request.tls?.stall) return { ...await stalled(dialled), ...hop };
  return { ...await tlsRequest(request, url, host, key, dialled), ...hop };
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
  // Only a request with a deadline listens for session tickets: a 'session' listener makes Node
  // serialise every ticket's session, wasted work on Fleet Server's calls to Elasticsearch.
  const after = () => {
    const ticketed = secureAndTicketed(socket);
    return request.deadlineAfter ? Promise.all([ticketed, request.deadlineAfter(localPort)]).then(() => undefined) : ticketed;
  };
  const timed = request.deadline ? { ...request, deadline: { ...request.deadline, after: after() } } : request;
  const response = await httpExchange(timed, url, agent ? { agent } : { socket }).catch((error: NodeJS.ErrnoException) => {
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
  const described = describeConnection(tap, settings, local, localPort, remote, warnings, conn.nodeError());
  if (response) return { response, connection: described };
  const timedOut = conn.nodeError()?.code === GO_DEADLINE;
  // The client gave up waiting: during the handshake, or with its request unanswered.
  const connection = timedOut ? { ...described, rejectedBy: 'client' as const, phase: tap.clientHandshakeDone ? 'http' as const : 'handshake' as const } : described;
  return { error: tlsRequestError(tap, conn.nodeError(), local, remote), connection, ...(timedOut ? { timedOut } : {}) };
}

const TICKETS_CAP_MS = 2_000;

/**
 * Under TLS 1.3 the server's session tickets follow the handshake: a deadline's clock starts once
 * they are in, so that a timed-out leg records the same wire however loaded the machine. Every
 * server the harness meets sends them (OpenSSL, Go and JSSE all do to a client offering
 * psk_dhe_ke, as this one does); the cap is for one that never does, and is long enough that a
 * starved event loop does not reach it first (100 ms did, at load 16).
 */
function secureAndTicketed(socket: tls.TLSSocket): Promise<void> {
  return new Promise<void>((resolve) => socket.once('secureConnect', () => {
    if (socket.getProtocol() !== 'TLSv1.3') return resolve();
    const timer = setTimeout(resolve, TICKETS_CAP_MS);
    socket.once('session', () => {
      clearTimeout(timer);
      resolve();
    });
  }));
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
