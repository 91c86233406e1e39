import type { InstallPlan } from '../flows/install-plan.js';
import { predictForwardProxy, predictSecureProxy, type AgentSide, type FleetSide, type ProxyPredictions } from './predict-proxy.js';

/**
 * The proxy legs an install plan has: the secure proxy in front of Fleet Server, or the forward
 * proxy the agent dials (none while it bootstraps its own Fleet Server or with --proxy-disabled,
 * as the real agent skips it then).
 */
export function proxyPredictions(plan: InstallPlan, agent: AgentSide, fleet: FleetSide): ProxyPredictions | undefined {
  const secure = plan.fleetServer.secureProxy;
  // A secure proxy in front of Elasticsearch is Fleet Server's hop, not the agent's.
  if (secure && secure.inFrontOf !== 'elasticsearch') return predictSecureProxy(secure, agent, fleet);
  const forward = plan.agent.proxy;
  if (!forward || forward.disabled || forward.bypassed) return undefined;
  const url = new URL(plan.url);
  return predictForwardProxy(forward, agent, forward.identity?.chain ?? plan.fleetServer.identity.chain, Number(url.port || 443));
}
