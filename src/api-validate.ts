import { HarnessError } from './errors.js';
import { KEY_TYPES } from './pki/keys.js';
import { CA_NAMES, LEAF_NAMES } from './pki/profiles.js';
import { CLIENT_AUTHENTICATIONS, TLS_VERSIONS, VERIFICATION_MODES } from './tls/settings.js';

/**
 * The library's option checks, one per kind of value, as execa normalises each option in its own
 * step: whatever a caller passes from untyped code, a bad value becomes one FTH_OPTION_INVALID
 * naming the function, the option and the value given, instead of a TypeError deep inside.
 */

/** How a value given reads in a message: strings quoted, objects by kind. */
export function shown(value: unknown): string {
  if (typeof value === 'string') return `'${value.length > 60 ? `${value.slice(0, 60)}…` : value}'`;
  if (value === null || value === undefined || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return typeof value === 'object' ? 'an object' : typeof value;
}

function invalid(fn: string, option: string, expected: string, value: unknown): HarnessError {
  return new HarnessError('FTH_OPTION_INVALID', `${fn}: option ${option} must be ${expected}, got ${shown(value)}`);
}

export class OptionReader {
  constructor(private readonly fn: string, private readonly options: Record<string, unknown>) {}

  /** The options object itself. */
  static of(fn: string, options: unknown): OptionReader {
    if (typeof options !== 'object' || options === null || Array.isArray(options)) {
      throw new HarnessError('FTH_OPTION_INVALID', `${fn}: options must be an object, got ${shown(options)}`);
    }
    return new OptionReader(fn, options as Record<string, unknown>);
  }

  private get(name: string): unknown {
    return this.options[name];
  }

  oneOf<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    const value = this.get(name);
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
      throw invalid(this.fn, name, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
    }
    return value as T;
  }

  port(name = 'port'): number | undefined {
    const value = this.get(name);
    if (value === undefined) return undefined;
    // Node would take a string as a pipe path, and 65536 as an error of its own.
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 65535) {
      throw invalid(this.fn, name, 'an integer from 0 to 65535 (0 picks a free port)', value);
    }
    return value;
  }

  host(name = 'host'): string | undefined {
    const value = this.get(name);
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value.trim() === '' || /[\s/]/.test(value)) throw invalid(this.fn, name, 'a host name or IP address', value);
    return value;
  }

  integer(name: string, min: number): number | undefined {
    const value = this.get(name);
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw invalid(this.fn, name, `an integer of at least ${min}`, value);
    return value;
  }

  boolean(name: string): boolean | undefined {
    const value = this.get(name);
    if (value === undefined) return undefined;
    if (typeof value !== 'boolean') throw invalid(this.fn, name, 'true or false', value);
    return value;
  }

  /** A token or path: printable, without spaces or line breaks (a header value must not carry them). */
  token(name: string, required = false): string | undefined {
    const value = this.get(name);
    if (value === undefined && !required) return undefined;
    if (typeof value !== 'string' || !/^[\x21-\x7e]+$/.test(value)) throw invalid(this.fn, name, 'a non-empty string of printable characters without spaces', value);
    return value;
  }

  string(name: string): string | undefined {
    const value = this.get(name);
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value === '') throw invalid(this.fn, name, 'a non-empty string', value);
    return value;
  }

  url(name: string, required = false): string | undefined {
    const value = this.get(name);
    if (value === undefined && !required) return undefined;
    if (typeof value !== 'string' || !URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
      throw invalid(this.fn, name, 'an http or https URL', value);
    }
    return value;
  }

  /** A PKI as createPki returns it. */
  pki(name = 'pki'): void {
    const value = this.get(name) as { cas?: Record<string, unknown>; leaves?: Record<string, unknown> } | undefined;
    const complete = typeof value === 'object' && value !== null
      && CA_NAMES.every((n) => typeof value.cas?.[n] === 'object') && LEAF_NAMES.every((n) => typeof value.leaves?.[n] === 'object');
    if (!complete) throw invalid(this.fn, name, 'a PKI from createPki()', value);
  }

  object(name: string, what: string, accept: (value: object) => boolean): void {
    const value = this.get(name);
    if (typeof value !== 'object' || value === null || !accept(value)) throw invalid(this.fn, name, what, value);
  }

  list<T extends string>(name: string, allowed: readonly T[]): T[] | undefined {
    const value = this.get(name);
    if (value === undefined) return undefined;
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || !(allowed as readonly string[]).includes(v))) {
      throw invalid(this.fn, name, `an array of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
    }
    return value as T[];
  }

  strings(name: string, required = false): string[] | undefined {
    const value = this.get(name);
    if (value === undefined && !required) return undefined;
    if (typeof value === 'string' && value !== '') return [value];
    if (!Array.isArray(value) || value.length === 0 || value.some((v) => typeof v !== 'string' || v === '')) {
      throw invalid(this.fn, name, 'a non-empty string or array of non-empty strings', value);
    }
    return value as string[];
  }
}

export const ALLOWED = {
  clientAuthentication: CLIENT_AUTHENTICATIONS,
  tls: TLS_VERSIONS,
  verificationMode: VERIFICATION_MODES,
  keyType: KEY_TYPES,
  ca: CA_NAMES,
  leaf: LEAF_NAMES,
} as const;
