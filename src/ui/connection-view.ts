/**
 * One connection to a fake, as the server end saw it, in the shape the page's ladder draws:
 * the client is whoever connected (curl, openssl, a real agent), the server is the fake.
 */
import type { ServerConnection } from '../components/tls-listener.js';
import { alertName } from '../wire/alerts.js';
import { versionName } from '../wire/timeline.js';
import { parseCertificate } from '../x509/certificate.js';
import { summarise } from '../components/legs.js';
import type { Leg } from '../report/leg.js';
import { ladderRows } from '../report/html/ladder.js';
import type { LegView } from '../report/html/model.js';

export interface LiveConnection {
  readonly id: string;
  readonly component: string;
  readonly remote: string;
  readonly local: string;
  readonly started: string;
  /** `handshaking`, `open`, `closed` or `rejected`. */
  readonly state: string;
  readonly leg: LegView;
}

export function connectionView(id: string, component: string, connection: ServerConnection, closed: boolean): LiveConnection {
  const tap = connection.tap;
  const session = tap.session;
  const fatal = tap.alerts.find((alert) => alert.level === 2 && alert.description !== 0);
  const rejectedBy = fatal ? fatal.sender : !connection.secure && closed ? (tap.rejection?.by ?? 'client') : null;
  const failed = fatal !== undefined || (closed && !connection.secure);
  const version = session.version ? versionName(session.version) : null;
  const firstCertificate = (chain: readonly Buffer[] | null) => {
    try {
      return chain && chain[0] ? parseCertificate(chain[0]) : undefined;
    } catch {
      return undefined;
    }
  };
  const clientCert = firstCertificate(tap.clientChain);
  const leg = {
    from: 'client', to: component, url: `https://${connection.local}`, ok: !failed && connection.secure,
    tls: version ? { version, cipher: session.suite?.iana ?? 'unknown' } : null,
    serverCertificate: summarise(firstCertificate(tap.serverChain)),
    clientCertificate: tap.certificateRequest
      ? { presented: clientCert !== undefined, ...(clientCert ? { subject: clientCert.subject } : { why: 'the client sent an empty Certificate message' }) }
      : null,
    // A TLS 1.3 client has finished once its Certificate flight is out, though the server may
    // have stopped reading before the Finished behind it.
    rejectedBy, phase: failed ? (tap.clientHandshakeDone || (version === '1.3' && rejectedBy === 'server' && tap.clientChain !== null) ? 'after-handshake' : 'handshake') : null,
    alert: fatal ? alertName(fatal.description) : null,
    logs: connection.logLine ? { [component]: connection.logLine } : {},
    node: null,
    timeline: tap.timeline.events,
  } as unknown as Leg;
  const state = failed ? 'rejected' : closed ? 'closed' : connection.secure ? 'open' : 'handshaking';
  const status: LegView['status'] = failed ? 'fail' : connection.secure ? 'ok' : 'skip';
  const who = rejectedBy === 'server' ? component : rejectedBy === 'client' ? 'the client' : null;
  return {
    id, component, remote: connection.remote, local: connection.local,
    started: new Date(tap.timeline.startedAt).toISOString().slice(11, 23),
    state,
    leg: {
      key: `client->${component}`, from: 'client', to: component, url: leg.url, status,
      verdict: failed
        ? `${who ? `rejected by ${who}` : 'failed'}${fatal ? ` with alert ${alertName(fatal.description)}` : ''}${connection.logLine ? `: ${connection.logLine}` : ''}`
        : connection.secure ? `handshake done: TLS ${version} ${session.suite?.iana ?? ''}`.trim() : 'handshake in progress',
      tls: version, cipher: session.suite?.iana ?? null, alert: leg.alert, rejectedBy: who,
      serverCertificate: leg.serverCertificate, clientCertificate: leg.clientCertificate, verifiedWith: null, logs: leg.logs,
      rows: ladderRows(leg),
    },
  };
}
