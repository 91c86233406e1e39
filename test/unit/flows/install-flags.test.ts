import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HarnessError } from '../../../src/errors.js';
import { AGENT_FLAGS, HARNESS_FLAGS, parseInstallFlags } from '../../../src/flows/install-flags.js';

function usageError(argv: string[]): { code: string; message: string } {
  try {
    parseInstallFlags(argv);
  } catch (error) {
    expect(error).toBeInstanceOf(HarnessError);
    return { code: (error as HarnessError).code, message: (error as HarnessError).message };
  }
  throw new Error(`${argv.join(' ')} parsed without an error`);
}

describe('parseInstallFlags, as the agent\'s pflag reads a command line', () => {
  it('reads --name=value, --name value and the shorthand -a value alike', () => {
    const parsed = parseInstallFlags(['--url=https://localhost:8220', '--fleet-server-es', 'https://localhost:9200', '-a', '/certs/fleet-ca.crt']);
    expect(parsed).toEqual({
      values: { url: 'https://localhost:8220', 'fleet-server-es': 'https://localhost:9200', 'certificate-authorities': '/certs/fleet-ca.crt' },
      repeated: {},
      inert: [],
    });
  });

  it('keeps everything after the first = of --name=value as the value', () => {
    expect(parseInstallFlags(['--header=Authorization=Bearer x']).values).toEqual({ header: 'Authorization=Bearer x' });
  });

  it('reads a shorthand with its value attached, -avalue', () => {
    expect(parseInstallFlags(['-a/certs/fleet-ca.crt']).values).toEqual({ 'certificate-authorities': '/certs/fleet-ca.crt' });
  });

  it('reads a shorthand written -a=value as the value after the = (pflag strips it)', () => {
    expect(parseInstallFlags(['-a=/certs/fleet-ca.crt']).values).toEqual({ 'certificate-authorities': '/certs/fleet-ca.crt' });
  });

  it('takes the argument after a string flag as its value even when it starts with a dash', () => {
    expect(parseInstallFlags(['--url', '--insecure']).values).toEqual({ url: '--insecure' });
  });

  it('sets boolean flags to true without consuming the next argument, and combines boolean shorthands', () => {
    expect(parseInstallFlags(['--insecure', '--url=https://x:8220']).values).toEqual({ insecure: true, url: 'https://x:8220' });
    expect(parseInstallFlags(['-if']).values).toEqual({ insecure: true, force: true });
  });

  it('accepts --flag=true and --flag=false for a boolean flag, as pflag does', () => {
    expect(parseInstallFlags(['--insecure=true']).values).toEqual({ insecure: true });
    expect(parseInstallFlags(['--fleet-server-es-insecure=false']).values).toEqual({ 'fleet-server-es-insecure': false });
  });

  it('lets the last value of a repeated flag win and lists every value under repeated', () => {
    const parsed = parseInstallFlags([
      '--elastic-agent-cert-key=/path/to/agent-cert-key', '--url=https://a:8220',
      '--elastic-agent-cert-key', '/path/to/agent-cert-key-passphrase',
    ]);
    expect(parsed.values['elastic-agent-cert-key']).toBe('/path/to/agent-cert-key-passphrase');
    expect(parsed.repeated).toEqual({ 'elastic-agent-cert-key': ['/path/to/agent-cert-key', '/path/to/agent-cert-key-passphrase'] });
  });

  it('lists the flags it accepts but does not emulate under inert, in table order (--proxy-url is emulated now)', () => {
    const parsed = parseInstallFlags(['--non-interactive', '--url=https://a:8220', '--proxy-url', 'http://proxy:3128', '-f', '--tag=a']);
    expect(parsed.inert).toEqual(['--force', '--non-interactive', '--tag']);
  });

  it('accepts the harness\'s own flags for the fake Elasticsearch', () => {
    expect(parseInstallFlags(['--certs', 'my-certs', '--es-client-auth=required', '--tls=1.3', '--json']).values)
      .toEqual({ certs: 'my-certs', 'es-client-auth': 'required', tls: '1.3', json: true });
  });

  it('refuses an unknown long flag with FTH_USAGE naming it', () => {
    expect(usageError(['--url=https://a:8220', '--no-such-flag'])).toEqual({ code: 'FTH_USAGE', message: "unknown option '--no-such-flag'" });
  });

  it('refuses an unknown shorthand with FTH_USAGE naming it', () => {
    expect(usageError(['-z'])).toEqual({ code: 'FTH_USAGE', message: "unknown option '-z'" });
  });

  it('refuses a string flag with no value at the end of the line, naming the flag', () => {
    expect(usageError(['--url'])).toEqual({ code: 'FTH_USAGE', message: "option '--url <value>' argument missing" });
  });

  it('refuses a positional argument', () => {
    expect(usageError(['install'])).toEqual({ code: 'FTH_USAGE', message: 'too many arguments. Expected 0 arguments but got 1.' });
  });

  it('has no flag name twice and no shorthand twice across the agent\'s and the harness\'s tables', () => {
    const all = [...AGENT_FLAGS, ...HARNESS_FLAGS];
    expect(new Set(all.map((f) => f.name)).size).toBe(all.length);
    const shorts = all.flatMap((f) => (f.short ? [f.short] : []));
    expect(new Set(shorts).size).toBe(shorts.length);
  });
});

describe('parseInstallFlags properties', () => {
  const stringFlags = [...AGENT_FLAGS, ...HARNESS_FLAGS].filter((f) => f.kind === 'string');
  // pflag reads `-a=v` as v, so a value that starts with = or - is not spelled the same way in every form.
  const value = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !s.startsWith('-') && !s.startsWith('='));
  const occurrence = fc.record({
    flag: fc.constantFrom(...stringFlags),
    value,
    form: fc.constantFrom('equals', 'separate', 'short', 'short-attached'),
  });

  it('round-trips any sequence of string flags in any spelling: last value wins, repeats listed in order', () => {
    fc.assert(fc.property(fc.array(occurrence, { maxLength: 8 }), (occurrences) => {
      const argv = occurrences.flatMap(({ flag, value: v, form }) => {
        if (flag.short && form === 'short') return [`-${flag.short}`, v];
        if (flag.short && form === 'short-attached') return [`-${flag.short}${v}`];
        return form === 'separate' ? [`--${flag.name}`, v] : [`--${flag.name}=${v}`];
      });
      const parsed = parseInstallFlags(argv);
      const byFlag = new Map<string, string[]>();
      for (const o of occurrences) byFlag.set(o.flag.name, [...(byFlag.get(o.flag.name) ?? []), o.value]);
      expect(parsed.values).toEqual(Object.fromEntries([...byFlag].map(([name, list]) => [name, list.at(-1)])));
      expect(parsed.repeated).toEqual(Object.fromEntries([...byFlag].filter(([, list]) => list.length > 1)));
    }));
  });
});
