import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, HarnessError, isHarnessError, oneLine, systemErrorCode, type ErrorCode } from '../../src/errors.js';

const CODES = Object.keys(ERROR_CODES) as ErrorCode[];

describe('ERROR_CODES and HarnessError', () => {
  it.each(CODES)('%s builds a HarnessError that knows whether it is input and prints CODE: message', (code) => {
    const cause = new Error('underlying');
    const error = new HarnessError(code, "--tls: '1.4' is not one of 1.2, 1.3, both", { cause });
    expect(code).toMatch(/^FTH_[A-Z][A-Z0-9_]*$/);
    expect(ERROR_CODES[code].summary).toMatch(/^[a-z].*[^.]$/);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('HarnessError');
    expect(error.code).toBe(code);
    expect(error.message).toBe("--tls: '1.4' is not one of 1.2, 1.3, both");
    expect(error.cause).toBe(cause);
    expect(error.isInputError).toBe(ERROR_CODES[code].input);
    expect(error.shortMessage).toBe(`${code}: --tls: '1.4' is not one of 1.2, 1.3, both`);
    expect(isHarnessError(error)).toBe(true);
    expect(isHarnessError(error, code)).toBe(true);
    expect(CODES.filter((other) => other !== code).some((other) => isHarnessError(error, other))).toBe(false);
  });

  it('treats every code as the user\'s input (exit 2) except the wire and internal ones', () => {
    expect(CODES.filter((code) => !ERROR_CODES[code].input)).toEqual(['FTH_WIRE_UNSUPPORTED', 'FTH_WIRE_PROTOCOL', 'FTH_INTERNAL']);
  });

  it('does not take a plain Error, or an object with a code, for a HarnessError', () => {
    expect(isHarnessError(new Error('x'))).toBe(false);
    expect(isHarnessError({ code: 'FTH_USAGE', message: 'x' })).toBe(false);
    expect(isHarnessError(undefined)).toBe(false);
  });
});

describe('systemErrorCode', () => {
  it('reads a string code and nothing else', () => {
    expect(systemErrorCode(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBe('ENOENT');
    expect(systemErrorCode({ code: 'EADDRINUSE' })).toBe('EADDRINUSE');
    expect(systemErrorCode({ code: 98 })).toBeUndefined();
    expect(systemErrorCode(new Error('x'))).toBeUndefined();
    expect(systemErrorCode(null)).toBeUndefined();
    expect(systemErrorCode('ENOENT')).toBeUndefined();
  });
});

describe('oneLine', () => {
  it('drops commander\'s error: prefix and moves its suggestion into parentheses on the same line', () => {
    expect(oneLine("error: unknown command 'rn'\n(Did you mean run?)")).toBe("unknown command 'rn' (did you mean run?)");
    expect(oneLine("error: unknown option '--jsn'\n(Did you mean --json?)")).toBe("unknown option '--jsn' (did you mean --json?)");
  });

  it('joins any other lines with single spaces', () => {
    expect(oneLine('error: first\n   second  \n\nthird\n')).toBe('first second third');
  });

  it('never returns more than one line, and leaves a one-line message as it is but trimmed', () => {
    fc.assert(fc.property(fc.string(), (text) => {
      expect(oneLine(text)).not.toContain('\n');
    }));
    const single = fc.string().filter((s) => !s.includes('\n') && !s.startsWith('error: '));
    fc.assert(fc.property(single, (text) => {
      expect(oneLine(text)).toBe(text.trim());
    }));
  });
});
