import type { Cert } from '../x509/certificate.js';
import type { CertificateSummary, ComponentName, Leg } from '../report/leg.js';
import { changedLeg, rememberWire } from '../capture/wire.js';
import type { GoExchange } from './go-http.js';
import type { ServerConnection } from './server-dialect.js';

/**
 * Legs are made here, where the components' connections are known; the report only reads them
 * (report/leg.ts is the vocabulary both sides share).
 */

export interface LegInput {
  readonly from: Leg['from'];
  readonly to: Leg['to'];
  readonly url: string;
  readonly exchange: GoExchange;
  /** Whether the exchange did what the flow needed (a 2xx, usually). */
  readonly ok: boolean;
  /** What the client component logged about it (in its words). */
  readonly clientLog?: string;
  /** The server side of the same connection, when the server is one of ours. */
  readonly server?: ServerConnection;
  readonly method?: string;
}

export function summarise(cert: Cert | undefined): CertificateSummary | null {
  if (!cert) return null;
  return {
    subject: cert.subject,
    issuer: cert.issuer,
    san: [...cert.dnsNames.map((n) => `DNS:${n}`), ...cert.ipAddresses.map((ip) => `IP:${ip}`)],
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    sha256: cert.sha256Hex,
  };
}

/** One leg of the report, from the client's view of a connection and the server's log of it. */
export function buildLeg(input: LegInput): Leg {
  const { exchange, server } = input;
  const connection = exchange.connection;
  const response = exchange.response;
  const httpFailure = response !== undefined && !input.ok;
  const logs: Partial<Record<ComponentName, string>> = {};
  if (input.clientLog) logs[input.from] = input.clientLog;
  if (server?.logLine) logs[input.to] = server.logLine;
  const leg: Leg = {
    from: input.from,
    to: input.to,
    url: input.url,
    ok: input.ok,
    tls: connection.version ? { version: connection.version, cipher: connection.cipher ?? 'unknown' } : null,
    serverCertificate: summarise(connection.serverChain[0]),
    clientCertificate: connection.clientCertificate,
    rejectedBy: httpFailure ? 'server' : connection.rejectedBy,
    phase: httpFailure ? 'http' : connection.phase,
    alert: connection.alert,
    logs,
    node: connection.node,
    ...(response && input.method ? { http: { method: input.method, path: new URL(input.url).pathname, status: response.status } } : {}),
    ...(connection.tap ? { timeline: legTimeline(input) } : {}),
    ...(connection.tap ? { verifiedWith: verifiedWith(input) } : {}),
  };
  if (connection.tap) rememberWire(leg, { timeline: connection.tap.timeline, local: connection.local, remote: connection.remote });
  return leg;
}

type TimelineEvents = NonNullable<Leg['timeline']>;

/**
 * The client's record of the wire, with the log lines of both components where they were
 * written: the server's from its own timeline (same clock, shifted to the client's start), the
 * client's now, as the component writes it when the exchange returns.
 */
function legTimeline(input: LegInput): TimelineEvents {
  const client = input.exchange.connection.tap!.timeline;
  const events = [...client.events];
  const server = input.server?.tap?.timeline;
  if (server) {
    const shift = server.start - client.start;
    for (const event of server.events) if (event.what === 'Log') events.push({ ...event, at: Math.round((event.at + shift) * 100) / 100 });
  }
  if (input.clientLog) {
    events.push({ at: Math.round((performance.now() - client.start) * 100) / 100, sender: 'client', what: 'Log', detail: { component: input.from, line: input.clientLog } });
  }
  return events.sort((a, b) => a.at - b.at);
}

function verifiedWith(input: LegInput): NonNullable<Leg['verifiedWith']> {
  const connection = input.exchange.connection;
  const request = connection.tap!.timeline.events.find((event) => event.what === 'CertificateRequest');
  const names = (request?.detail as { names?: string[] } | undefined)?.names;
  return { client: connection.verifies ?? null, server: names ?? null };
}

/**
 * The client's words on a leg, kept out of its timeline: through a proxy nobody waits for the far
 * server to finish, so where its last records fall against the client's line is a race, and
 * reports of the same run must not differ by it.
 */
export function withLog(leg: Leg, clientLog: string | undefined): Leg {
  return clientLog ? changedLeg(leg, { logs: { ...leg.logs, [leg.from]: clientLog } }) : leg;
}

/** A leg that was never attempted, with the reason and the client component's words. */
export function skippedLeg(from: Leg['from'], to: Leg['to'], url: string, reason: string, clientLog?: string): Leg {
  return {
    from, to, url, ok: false, tls: null, serverCertificate: null, clientCertificate: null,
    rejectedBy: null, phase: null, alert: null, logs: clientLog ? { [from]: clientLog } : {}, node: null, skipped: reason,
  };
}
