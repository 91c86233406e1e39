/**
 * Which proxy the agent's Fleet client dials once the policy takes over, decided as install
 * decides it (flow.ts, intercept-flow.ts, policy-stage.ts): the client after the policy
 * (components/policy.ts fleetClientAfterPolicy), its proxy route, and whether that is the
 * enrollment proxy still running or a fresh one of the policy's own. An agent bootstrapping its
 * own Fleet Server keeps its enrollment client and dials no proxy.
 */
import type { InstallPlan, PlannedProxy } from '../flows/install-plan.js';
import { fleetClientAfterPolicy, type FleetClientSettings } from '../components/policy.js';
import { proxyRoute, urlCredentials } from '../components/proxy/proxy-url.js';
import { endpointOf } from '../endpoint.js';

export type PolicyProxy =
  /** The policy's client dials Fleet Server (or the secure proxy in front of it) directly. */
  | { readonly kind: 'direct' }
  /** The enrollment proxy, still running, with everything it was told (rules, interception). */
  | { readonly kind: 'enrollment'; readonly planned: PlannedProxy }
  /** A proxy only the policy names: a plain fake of its URL's scheme, demanding --proxy-require-auth or the URL's credentials. */
  | { readonly kind: 'own'; readonly planned: PlannedProxy };

export function policyProxy(plan: InstallPlan): PolicyProxy {
  if (plan.agent.runsFleetServer) return { kind: 'direct' };
  const enrollment = plan.agent.proxy;
  // In front of a secure proxy install gives the policy stage no enrollment proxy.
  const behindSecure = plan.fleetServer.secureProxy !== undefined && plan.fleetServer.secureProxy.inFrontOf !== 'elasticsearch';
  const kept = enrollment && !behindSecure ? enrollment : undefined;
  const settings: FleetClientSettings = {
    url: plan.url, tls: {},
    ...(kept ? { proxy: { url: kept.route.url.href, headers: kept.route.headers, disable: kept.disabled } } : {}),
  };
  // Only the proxy keys matter here; the CAs are the caller's.
  const { ssl: _ssl, ...fleet } = plan.policy.fleet;
  const route = proxyRoute(fleetClientAfterPolicy(settings, fleet).proxy);
  if (!route) return { kind: 'direct' };
  const running = kept && !kept.disabled && !kept.bypassed;
  if (running && route.url.href === kept.route.url.href) return { kind: 'enrollment', planned: kept };
  const requireAuth = plan.policy.proxyAuth ?? urlCredentials(route.url);
  return { kind: 'own', planned: { route, disabled: false, bypassed: false, ...(requireAuth ? { requireAuth } : {}) } };
}

/** The port the agent's next connection asks its proxy for: the policy's Fleet Server host's own. */
export function policyTargetPort(plan: InstallPlan): number {
  const host = plan.agent.runsFleetServer ? plan.url : plan.policy.fleet.hosts[0] ?? plan.url;
  return endpointOf(new URL(host)).port;
}
