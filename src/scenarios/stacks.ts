/**
 * Which scenario runs may share a started Elasticsearch and Fleet Server (flows/flow.ts, Stack):
 * those whose component settings are equal, down to the bytes of every certificate and key. A
 * stack serves one run at a time; runs that find none idle for their settings start their own.
 */
import { KeyObject } from 'node:crypto';
import { closeStack, runFlow, runFlowOn, startStack, type FlowConfig, type FlowResult, type Stack } from '../flows/flow.js';
import { Cert } from '../x509/certificate.js';
import { newServiceToken } from '../components/elasticsearch/security.js';

/** Settings that cannot be compared by value (a class the key does not know): never shared. */
const UNIQUE = Symbol('unique');

/**
 * The components' settings as a string, or undefined when something in them cannot be compared.
 * A generated service token is random per run: what matters is whether Elasticsearch knows
 * Fleet Server's (it always does unless the scenario names another token); a token the
 * scenario names is part of the key.
 */
export function settingsKey(config: FlowConfig): string | undefined {
  let comparable = true;
  const replacer = (_key: string, value: unknown): unknown => {
    if (value === null || typeof value !== 'object') return typeof value === 'function' || typeof value === 'symbol' ? ((comparable = false), UNIQUE) : value;
    if (value instanceof Cert) return `cert:${value.sha256Hex}`;
    if (value instanceof KeyObject) return `key:${value.export(value.type === 'private' ? { type: 'pkcs8', format: 'der' } : { type: 'spki', format: 'der' }).toString('base64')}`;
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== Array.prototype && proto !== null) {
      comparable = false;
      return UNIQUE;
    }
    return value;
  };
  const { serviceToken, ...fleetServer } = config.fleetServer;
  const key = JSON.stringify({
    elasticsearch: config.elasticsearch,
    fleetServer,
    // A token the command names is sent as it is (its length shows on the wire): only the
    // generated ones, alike but for their random part, are interchangeable.
    token: generatedToken(serviceToken) ? 'generated' : serviceToken,
    knowsToken: config.elasticsearchServiceToken === undefined,
  }, replacer);
  return comparable ? key : undefined;
}

/** Every token newServiceToken() makes: the same name and length, a random secret. */
const GENERATED = newServiceToken();
const generatedToken = (token: string) => token.length === GENERATED.length && token.startsWith(GENERATED.slice(0, 56));

/**
 * How long a stack may stay idle and still be taken: well inside the fakes' 1 s keep-alive
 * timeout, so that Fleet Server's connection to Elasticsearch is still the bootstrap's.
 */
const FRESH_MS = 400;

/** Idle stacks by settings; every stack is closed at the end, idle or not. */
export class StackPool {
  private readonly idle = new Map<string, Array<{ stack: Stack; since: number }>>();
  private readonly all = new Set<Stack>();

  /** Runs the flow on an idle stack with its settings, or on a new one that stays for later flows. */
  async run(config: FlowConfig): Promise<FlowResult> {
    const key = settingsKey(config);
    if (key === undefined) return runFlow(config);
    const waiting = this.idle.get(key)?.pop();
    if (waiting) {
      const reused = waiting.stack;
      const result = performance.now() - waiting.since < FRESH_MS ? await runFlowOn(config, reused) : undefined;
      if (result) return this.release(key, reused, result);
      // Idle too long, or it no longer stands as its bootstrap left it: retire it, start a fresh one.
      this.all.delete(reused);
      await closeStack(reused);
    }
    const stack = await startStack(config);
    this.all.add(stack);
    return this.release(key, stack, (await runFlowOn(config, stack))!);
  }

  async close(): Promise<void> {
    const stacks = [...this.all];
    this.all.clear();
    this.idle.clear();
    await Promise.all(stacks.map((stack) => closeStack(stack)));
  }

  private release(key: string, stack: Stack, result: FlowResult): FlowResult {
    const idle = this.idle.get(key);
    const entry = { stack, since: performance.now() };
    if (idle) idle.push(entry);
    else this.idle.set(key, [entry]);
    return result;
  }
}
