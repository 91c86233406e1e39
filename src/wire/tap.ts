/**
 * The record-layer tap, split by role as Go's crypto/tls is: RecordPump (pump.ts) is the shared
 * record layer, ClientTap (client-tap.ts) and ServerTap (server-tap.ts) each make their role's
 * decisions under their own policy type. A proxy is a ServerTap towards its clients and a
 * ClientTap towards its upstream.
 */
export { RecordPump } from './pump.js';
export { ClientTap } from './client-tap.js';
export { ServerTap } from './server-tap.js';
export type {
  AlertSeen, CertificateRequestInfo, ClientTapPolicy, PeerFault, RecordHeader, RecordReadState, RecordRefusal, RecordRules, Rejection, ServerTapPolicy,
} from './policy.js';

/** Either role's tap, for readers of what crossed the wire (reports, timelines). */
export type TlsTap = import('./pump.js').RecordPump;
