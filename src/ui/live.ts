/**
 * `serve --ui PORT`: a page that shows each connection to the fakes as it happens, with the
 * report's ladder, fed by server-sent events over node:http. Loopback unless told otherwise.
 */
import { requestTarget } from '../request-target.js';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ServerConnection } from '../components/tls-listener.js';
import { HarnessError, systemErrorCode } from '../errors.js';
import { observeConnections } from '../capture/observe.js';
import { liveHtml } from '../report/html/page.js';
import { connectionView } from './connection-view.js';

/** Connections kept for a page that opens late; older ones drop off. */
const KEPT = 200;
const POLL_MS = 200;

interface Tracked {
  readonly id: string;
  readonly component: string;
  readonly connection: ServerConnection;
  closed: boolean;
  signature: string;
  json?: string;
}

export interface LiveView {
  readonly url: string;
  close(): Promise<void>;
}

export async function startLiveView(options: { host: string; port: number; endpoints: readonly string[] }): Promise<LiveView> {
  const tracked: Tracked[] = [];
  const clients = new Set<http.ServerResponse>();
  let counter = 0;
  const stopObserving = observeConnections((component, connection) => {
    const entry: Tracked = { id: `c${++counter}`, component, connection, closed: false, signature: '' };
    connection.tap.once('close', () => { entry.closed = true; });
    tracked.push(entry);
    if (tracked.length > KEPT) tracked.shift();
  });
  const send = (response: http.ServerResponse, entry: Tracked) => response.write(`event: connection\ndata: ${entry.json}\n\n`);
  const timer = setInterval(() => {
    for (const entry of tracked) {
      const { connection } = entry;
      const signature = `${connection.tap.timeline.events.length}|${connection.secure}|${entry.closed}|${connection.logLine ?? ''}`;
      if (signature === entry.signature) continue;
      entry.signature = signature;
      entry.json = JSON.stringify(connectionView(entry.id, entry.component, connection, entry.closed));
      for (const client of clients) send(client, entry);
    }
  }, POLL_MS);
  timer.unref();

  const page = liveHtml({ kind: 'live', title: 'fleet-tls-harness: live', events: 'events', endpoints: options.endpoints });
  const server = http.createServer((request, response) => {
    const url = requestTarget(request.url);
    if (request.method !== 'GET') {
      response.writeHead(405, { allow: 'GET' }).end();
    } else if (url.pathname === '/') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(page);
    } else if (url.pathname === '/events') {
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      response.write('retry: 1000\n\n');
      for (const entry of tracked) if (entry.json) send(response, entry);
      clients.add(response);
      request.on('close', () => clients.delete(response));
    } else {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => {
      stopObserving();
      clearInterval(timer);
      reject(systemErrorCode(error) === 'EADDRINUSE'
        ? new HarnessError('FTH_PORT_IN_USE', `--ui: port ${options.port} on ${options.host} is already in use`, { cause: error })
        : new HarnessError('FTH_LISTEN_FAILED', `--ui: cannot listen on ${options.host}:${options.port}: ${(error as Error).message}`, { cause: error }));
    });
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}/`,
    async close() {
      stopObserving();
      clearInterval(timer);
      for (const client of clients) client.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
