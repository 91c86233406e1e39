/**
 * Which scenario runs may share a started Elasticsearch and Fleet Server (flows/flow.ts, Stack):
 * those whose component settings are equal, down to the bytes of every certificate and key. A
 * stack serves one run at a time; runs that find none idle for their settings start their own.
 */
import { KeyObject } from 'node:crypto';
import { closeStack, runFlow, runFlowOn, startStack, type FlowConfig, type FlowResult, type Stack } from '../flows/flow.js';
import { Cert } from '../x509/certificate.js';
import { newServiceToken } from '../components/elasticsearch/security.js';
import { TextIds } from '../remember.js';

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
    // Stand-ins start with a NUL, which no setting's text does (one that did would be numbered too),
    // so a stand-in never equals a real value.
    if (typeof value === 'string') return value.length > LONG_TEXT || value.startsWith('\0') ? `\0text:${texts.id(value)}` : value;
    if (value === null || typeof value !== 'object') return typeof value === 'function' || typeof value === 'symbol' ? ((comparable = false), UNIQUE) : value;
    if (value instanceof Cert) return `\0cert:${value.sha256Hex}`;
    if (value instanceof KeyObject) return `\0key:${keyId(value)}`;
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
    // A proxy in front of Elasticsearch is part of the stack: Fleet Server bootstraps through it.
    ...(config.secureProxy?.inFrontOf === 'elasticsearch' ? { esProxy: config.secureProxy } : {}),
  }, replacer);
  return comparable ? key : undefined;
}

/**
 * Long texts (PEM certificates and keys) and keys by a short stand-in each, so that the settings'
 * key is short: writing out and comparing kilobytes of PEM for every run was a fiftieth of a
 * catalog run. A key's stand-in is kept with it; one from an older generation of the table still
 * never equals another key's.
 */
const LONG_TEXT = 64;
const texts = new TextIds(8_192);
const keys = new WeakMap<KeyObject, string>();

function keyId(key: KeyObject): string {
  let id = keys.get(key);
  if (id === undefined) {
    id = `${key.type}:${texts.id(key.export(key.type === 'private' ? { type: 'pkcs8', format: 'der' } : { type: 'spki', format: 'der' }).toString('base64'))}`;
    keys.set(key, id);
  }
  return id;
}

/** Every token newServiceToken() makes: the same name and length, a random secret. */
const GENERATED = newServiceToken();
const generatedToken = (token: string) => token.length === GENERATED.length && token.startsWith(GENERATED.slice(0, 56));

/**
 * How long a stack may stay idle and still be taken: well inside the fakes' 1 s keep-alive
 * timeout, so that Fleet Server's connection to Elasticsearch is still the bootstrap's.
 */
const FRESH_MS = 400;

interface IdleStack { readonly stack: Stack; readonly since: number }

/**
 * Idle stacks by settings; every stack is closed at the end, idle or not. A run whose settings'
 * stack is busy waits for it (one waiter per busy stack) rather than starting its own: runs with
 * equal settings are neighbours in the catalog and start together, and a stack handed straight
 * on is never stale. Starting a stack (two listeners, Fleet Server's bootstrap with its
 * handshakes) is the dearest part of a run.
 */
export class StackPool {
  private readonly idle = new Map<string, IdleStack[]>();
  private readonly all = new Set<Stack>();
  /** Stacks in use, by settings. */
  private readonly busy = new Map<string, number>();
  /** Runs waiting for a busy stack of their settings: each gets it, or undefined to start their own. */
  private readonly waiting = new Map<string, Array<(entry: IdleStack | undefined) => void>>();
  /** After close, a run still going (an aborted batch) keeps nothing: its stack is closed with it. */
  private closed = false;

  /** Runs the flow on an idle stack with its settings, or on a new one that stays for later flows. */
  async run(config: FlowConfig): Promise<FlowResult> {
    const key = settingsKey(config);
    if (key === undefined) return runFlow(config);
    const waiting = this.idle.get(key)?.pop() ?? (this.canWait(key) ? await this.waitFor(key) : undefined);
    if (this.closed) return runFlow(config);
    this.busy.set(key, (this.busy.get(key) ?? 0) + 1);
    let kept: Stack | undefined;
    try {
      if (waiting) {
        const reused = waiting.stack;
        const result = performance.now() - waiting.since < FRESH_MS ? await runFlowOn(config, reused) : undefined;
        if (result) return ((kept = reused), result);
        // Idle too long, or it no longer stands as its bootstrap left it: retire it, start a fresh one.
        this.all.delete(reused);
        await closeStack(reused);
      }
      const stack = await startStack(config);
      this.all.add(stack);
      const result = (await runFlowOn(config, stack))!;
      kept = stack;
      return result;
    } finally {
      this.busy.set(key, this.busy.get(key)! - 1);
      this.release(key, kept);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const stacks = [...this.all];
    this.all.clear();
    this.idle.clear();
    for (const waiters of this.waiting.values()) for (const wake of waiters.splice(0)) wake(undefined);
    await Promise.all(stacks.map((stack) => closeStack(stack)));
  }

  private canWait(key: string): boolean {
    return (this.waiting.get(key)?.length ?? 0) < (this.busy.get(key) ?? 0);
  }

  private waitFor(key: string): Promise<IdleStack | undefined> {
    return new Promise((resolve) => {
      const waiters = this.waiting.get(key);
      if (waiters) waiters.push(resolve);
      else this.waiting.set(key, [resolve]);
    });
  }

  /** A run is over: its stack (if it still stands) goes to the next waiter or to the idle list; without one, a waiter starts its own. */
  private release(key: string, stack: Stack | undefined): void {
    if (this.closed) {
      if (stack) void closeStack(stack).catch(() => {});
      return;
    }
    const wake = this.waiting.get(key)?.shift();
    const entry = stack ? { stack, since: performance.now() } : undefined;
    if (wake) return wake(entry);
    if (!entry) return;
    const idle = this.idle.get(key);
    if (idle) idle.push(entry);
    else this.idle.set(key, [entry]);
  }
}
