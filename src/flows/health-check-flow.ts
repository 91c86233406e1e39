import type { FakeFleetServer } from '../components/fleet-server.js';
import { ComponentLog } from '../components/log.js';
import { HealthChecker, type HealthCheckKind } from '../components/proxy/health-check.js';
import type { Leg } from '../report/leg.js';

/** --health-check and its interval and count: a load balancer probing Fleet Server before the agent comes. */
export interface PlannedHealthCheck {
  readonly kind: HealthCheckKind;
  readonly intervalMs: number;
  readonly count: number;
}

/**
 * The load balancer's probes of Fleet Server as a leg of their own (a balancer is a proxy: the
 * report names it so): its verdicts in HAProxy's words, and every line Fleet Server wrote about
 * the probes' connections, in Go's.
 */
export async function healthCheckLeg(planned: PlannedHealthCheck, fs: FakeFleetServer, serverName: string): Promise<Leg> {
  await using checker = new HealthChecker({ kind: planned.kind, target: fs.endpoint, intervalMs: planned.intervalMs, serverName, log: new ComponentLog('proxy') });
  const probes = await checker.run(planned.count);
  const lines: string[] = [];
  for (const probe of probes) {
    const server = await fs.connection(probe.localPort);
    await server?.done;
    if (server?.logLine) lines.push(server.logLine);
  }
  const down = probes.some((p) => !p.up);
  return {
    from: 'proxy',
    to: 'fleet-server',
    url: `${fs.url}${planned.kind === 'http' ? '/api/status' : ''}`,
    ok: !down,
    tls: null,
    serverCertificate: null,
    clientCertificate: null,
    rejectedBy: down ? 'server' : null,
    phase: down ? (planned.kind === 'http' ? 'http' : 'connect') : null,
    alert: null,
    logs: { proxy: checker.log.entries.map((e) => e.message).join('\n'), ...(lines.length ? { 'fleet-server': lines.join('\n') } : {}) },
    node: null,
  };
}
