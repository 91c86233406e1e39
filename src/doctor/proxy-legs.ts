import type { InstallPlan } from '../flows/install-plan.js';
import { predictForwardProxy, predictSecureProxy, type AgentSide, type FleetSide, type ProxyPredictions } from './predict-proxy.js';
import { predictIntercept } from './predict-intercept.js';
import type { LegSetup } from './predict.js';
import { endpointOf } from '../endpoint.js';

/**
 * The proxy legs an install plan has: the secure proxy in front of Fleet Server, or the forward
 * (or TLS-intercepting) proxy the agent dials (none while it bootstraps its own Fleet Server or with --proxy-disabled,
 * as the real agent skips it then).
 */
export function proxyPredictions(plan: InstallPlan, agent: AgentSide, fleet: FleetSide, agentLeg: LegSetup, targetPort?: number): ProxyPredictions | undefined {
  const secure = plan.fleetServer.secureProxy;
  // A proxy in front of Elasticsearch is Fleet Server's hop (predict-es-proxy.ts), not the agent's.
  if (secure && secure.inFrontOf !== 'elasticsearch') return predictSecureProxy(secure, agent, fleet);
  const forward = plan.agent.proxy;
  if (!forward || forward.disabled || forward.bypassed) return undefined;
  // The port the agent asks the proxy for: --url's at enrollment, the policy's host's after it (`targetPort`).
  const port = targetPort ?? endpointOf(new URL(plan.url)).port;
  const { intercept } = forward;
  if (intercept) return predictIntercept({ ...forward, intercept }, agentLeg, { ...fleet, clientCAs: fleet.clientCAs ?? [], now: agent.now }, port);
  return predictForwardProxy(forward, agent, forward.identity?.chain ?? plan.fleetServer.identity.chain, port);
}
