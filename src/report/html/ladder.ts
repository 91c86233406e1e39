/**
 * A leg's recorded timeline as the rows of a message sequence chart: what each side sent, with
 * the details a reader needs (SNI, offered versions, CA names asked for, the certificate sent or
 * withheld, the alert), the log lines where they were written, and the moment the client
 * considered its handshake done, which is what makes a TLS 1.3 client-certificate refusal late.
 */
import { alertName } from '../../wire/alerts.js';
import type { Leg } from '../leg.js';

export type Side = 'client' | 'server';

export interface LadderRow {
  /** Milliseconds since the connection's first byte; null for marks with no moment of their own. */
  readonly at: number | null;
  /** `msg`: an arrow from `side` to the other; `note`: a log line on `side`; `mark`: across both. */
  readonly kind: 'msg' | 'note' | 'mark';
  readonly side: Side;
  readonly label: string;
  readonly details: readonly string[];
  readonly tone: 'plain' | 'ok' | 'bad' | 'warn' | 'dim';
}

type TimelineEvent = NonNullable<Leg['timeline']>[number];
type Detail = Record<string, unknown>;

const QUIET = new Set(['ChangeCipherSpec', 'NewSessionTicket', 'EncryptedExtensions', 'ServerHelloDone', 'CertificateVerify', 'ServerKeyExchange', 'ClientKeyExchange']);

export function ladderRows(leg: Pick<Leg, 'timeline' | 'serverCertificate' | 'clientCertificate' | 'rejectedBy' | 'phase' | 'alert' | 'http' | 'to' | 'from' | 'ok' | 'tls'>): LadderRow[] {
  const events = leg.timeline ?? [];
  const rows: LadderRow[] = [];
  let finished = 0;
  let version = leg.tls?.version ?? null;
  let rejectionShown = false;
  let clientData = 0;
  let serverData = 0;
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!;
    const detail = (event.detail ?? {}) as Detail;
    const side = event.sender;
    const row = (label: string, details: string[] = [], tone: LadderRow['tone'] = 'plain', kind: LadderRow['kind'] = 'msg') =>
      rows.push({ at: event.at, kind, side, label, details, tone });
    switch (event.what) {
      case 'ClientHello': {
        const versions = (detail.versions as string[] | undefined) ?? [];
        row('ClientHello', [
          detail.serverName ? `SNI ${String(detail.serverName)}` : 'no SNI (an IP address, or none given)',
          versions.length ? `offers TLS ${versions.join(', ')}` : 'offers TLS 1.2 and below (no supported_versions)',
        ]);
        break;
      }
      case 'ServerHello':
        if (detail.helloRetryRequest) row('HelloRetryRequest', ['asks for another key share']);
        else {
          version = String(detail.version ?? version ?? '');
          row('ServerHello', [`TLS ${version} · ${String(detail.cipher ?? '')}`]);
        }
        break;
      case 'CertificateRequest': {
        const names = (detail.names as string[] | undefined) ?? [];
        row('CertificateRequest', names.length ? ['asks for a certificate issued by:', ...names] : ['names no CA: any certificate will do'], 'warn');
        break;
      }
      case 'Certificate':
        rows.push(certificateRow(event, detail, leg));
        break;
      case 'Finished':
        row('Finished');
        if (++finished === 2) {
          rows.push({ at: event.at, kind: 'mark', side, label: 'the client considers its handshake done', details: version === '1.3'
            ? ['TLS 1.3: the client sent the last Finished; the server has not yet answered its certificate']
            : ['TLS 1.2: the server sent the last Finished'], tone: 'ok' });
        }
        break;
      case 'ApplicationData': {
        let count = 1;
        let bytes = Number(detail.bytes ?? 0);
        while (events[i + 1]?.what === 'ApplicationData' && events[i + 1]!.sender === side) {
          bytes += Number((events[++i]!.detail as Detail | undefined)?.bytes ?? 0);
          count++;
        }
        const first = side === 'client' ? clientData++ === 0 : serverData++ === 0;
        const http = first && leg.http ? [side === 'client' ? `HTTP ${leg.http.method} ${leg.http.path}` : `HTTP ${leg.http.status}`] : [];
        row('ApplicationData', [...http, `${count} record${count > 1 ? 's' : ''}, ${bytes} bytes encrypted`], 'dim');
        break;
      }
      case 'Alert': {
        const description = Number(detail.description);
        const name = alertName(description);
        const fatal = Number(detail.level) === 2;
        const close = name === 'close_notify';
        row(`Alert: ${name}`, [`${fatal ? 'fatal' : 'warning'}${detail.encrypted ? ', encrypted' : ', in the clear'}`], close ? 'dim' : 'bad');
        if (!close && !rejectionShown && leg.rejectedBy === side) {
          rejectionShown = true;
          rows.push(rejectionMark(event.at, leg));
        }
        break;
      }
      case 'Log':
        rows.push({ at: event.at, kind: 'note', side, label: String(detail.component ?? side), details: String(detail.line ?? '').split('\n'), tone: 'plain' });
        break;
      case 'Close':
        row('TCP FIN', [], 'dim');
        break;
      case 'Reset':
        row('TCP RST', ['the connection was reset'], 'bad');
        break;
      case 'Plaintext':
        row('not TLS', [`${String(detail.bytes)} bytes that are not a TLS record`], 'bad');
        break;
      case 'Malformed':
        row('malformed record', [String(detail.reason ?? '')], 'bad');
        break;
      default:
        row(event.what, [], QUIET.has(event.what) ? 'dim' : 'plain');
    }
  }
  if (!leg.ok && leg.rejectedBy && !rejectionShown) rows.push(rejectionMark(null, leg));
  return rows;
}

function certificateRow(event: TimelineEvent, detail: Detail, leg: Parameters<typeof ladderRows>[0]): LadderRow {
  const count = Number(detail.certificates ?? 0);
  if (event.sender === 'server') {
    const cert = leg.serverCertificate;
    return { at: event.at, kind: 'msg', side: 'server', label: 'Certificate', tone: 'plain', details: cert
      ? [`${count} certificate${count === 1 ? '' : 's'}: ${cert.subject}`, `issued by ${cert.issuer}`]
      : [`${count} certificate${count === 1 ? '' : 's'}`] };
  }
  const client = leg.clientCertificate;
  if (count === 0) {
    return { at: event.at, kind: 'msg', side: 'client', label: 'Certificate (empty)', tone: 'warn', details: [
      client?.subject ? `withheld: ${client.subject}` : 'no certificate to send',
      ...(client?.why ? [client.why] : []),
    ] };
  }
  return { at: event.at, kind: 'msg', side: 'client', label: 'Certificate', tone: 'plain', details: [`${count} certificate${count === 1 ? '' : 's'}${client?.subject ? `: ${client.subject}` : ''}`] };
}

export function phaseText(phase: Leg['phase'], version: string | null): string {
  switch (phase) {
    case 'connect': return 'before TLS began (connect)';
    case 'handshake': return 'during the handshake';
    case 'after-handshake': return version === '1.3'
      ? 'after the client thought its handshake was done (TLS 1.3)'
      : 'after the client thought its handshake was done';
    case 'http': return 'at the HTTP layer';
    default: return '';
  }
}

function rejectionMark(at: number | null, leg: Parameters<typeof ladderRows>[0]): LadderRow {
  const who = leg.rejectedBy === 'server' ? leg.to : leg.from;
  return {
    at, kind: 'mark', side: leg.rejectedBy ?? 'server', tone: 'bad',
    label: `rejected by ${who} ${phaseText(leg.phase, leg.tls?.version ?? null)}`.trim(),
    details: leg.alert ? [`alert ${leg.alert}`] : [],
  };
}
