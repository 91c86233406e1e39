/**
 * The legs a scenario file may expect, apart from the file format's schemas (schema.ts) so that
 * running scenarios does not load zod.
 */

/**
 * In the order the agent meets them: enrolling, Fleet Server's own connection, then what the policy
 * changed (the agent's next checkin with its Fleet Server settings, Fleet Server's test of its
 * output), then the agent's output.
 */
export const LEG_KEYS = [
  'agent->proxy', 'agent->fleet-server', 'proxy->fleet-server', 'fleet-server->proxy', 'fleet-server->elasticsearch', 'proxy->elasticsearch',
  'agent->proxy (policy)', 'agent->fleet-server (policy)', 'proxy->fleet-server (policy)',
  'fleet-server->elasticsearch (policy)', 'fleet-server->proxy (policy)', 'proxy->elasticsearch (policy)',
  'agent->elasticsearch',
] as const;
/** A leg as a scenario file's `expect` names it, `from->to`. */
export type LegKey = (typeof LEG_KEYS)[number];
