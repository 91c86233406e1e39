/**
 * A load balancer's health checks of Fleet Server on paper (--health-check): what HAProxy's
 * checker reports for each kind of probe, and what Fleet Server logs for it (a TCP probe without a
 * byte is a TLS handshake error to Go's net/http server, each time).
 */
import type { PlannedHealthCheck } from '../flows/health-check-flow.js';
import type { ClientAuthentication } from '../tls/settings.js';
import { finding, type Finding } from './findings.js';
import type { Prediction } from './predict.js';

/** Fleet Server as the probes meet it. */
export interface ProbedFleetServer {
  readonly tls: boolean;
  readonly clientAuthentication: ClientAuthentication;
  /** It bootstrapped, so GET /api/status answers 200 (503 otherwise). */
  readonly healthy: boolean;
}

export function predictHealthCheck(planned: PlannedHealthCheck, fleet: ProbedFleetServer): { prediction: Prediction; findings: Finding[] } {
  const leg = (outcome: Prediction['outcome'], message: string): Prediction => ({ from: 'proxy', to: 'fleet-server', outcome, message });
  const probes = `${planned.count} probe${planned.count === 1 ? '' : 's'}`;
  if (planned.kind === 'tcp') {
    return {
      prediction: leg('ok', 'Layer4 check passed'),
      findings: fleet.tls ? [finding('info', '--health-check', null, 'HEALTH_CHECK_HANDSHAKE_ERRORS',
        `a TCP check opens and closes without a ClientHello: Fleet Server logs "http: TLS handshake error from <balancer>: EOF" for each of the ${probes}; harmless`,
        'check with TLS or HTTPS (GET /api/status) instead to keep Fleet Server\'s log quiet (--health-check=http)')] : [],
    };
  }
  if (!fleet.tls) {
    return {
      prediction: leg('rejected-by-server', 'SSL handshake failure'),
      findings: [finding('error', '--health-check', null, 'HEALTH_CHECK_HANDSHAKE_ERRORS',
        `Fleet Server speaks plain HTTP (--fleet-server-insecure-http): the balancer's ${planned.kind === 'tls' ? 'TLS' : 'HTTPS'} check fails its handshake and marks it down`,
        'check with TCP (--health-check=tcp), or a plain HTTP check of /api/status')],
    };
  }
  if (fleet.clientAuthentication === 'required') {
    return {
      prediction: leg('rejected-by-server', 'SSL handshake failure'),
      findings: [finding('error', '--fleet-server-client-auth', null, 'HEALTH_CHECK_HANDSHAKE_ERRORS',
        `Fleet Server requires a client certificate and the balancer's probes present none: it logs "tls: client didn't provide a certificate" for each of the ${probes} and the balancer marks it down`,
        'check with TCP (--health-check=tcp), give the balancer\'s checks a client certificate from a CA in --certificate-authorities, or --fleet-server-client-auth=optional')],
    };
  }
  if (planned.kind === 'tls') return { prediction: leg('ok', 'Layer6 check passed'), findings: [] };
  return fleet.healthy
    ? { prediction: leg('ok', 'Layer7 check passed, code: 200'), findings: [] }
    : { prediction: leg('rejected-by-server', 'Layer7 wrong status, code: 503'), findings: [] };
}
