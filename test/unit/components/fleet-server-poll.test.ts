import { describe, expect, it } from 'vitest';
import { pollTimeoutMs } from '../../../src/components/fleet-server-api.js';

describe('Fleet Server long-poll timeout', () => {
  it('is 5 minutes when the agent gives none, or gives something that is not a Go duration', () => {
    expect(pollTimeoutMs(undefined)).toBe(300_000);
    expect(pollTimeoutMs('ten minutes')).toBe(300_000);
    expect(pollTimeoutMs('10')).toBe(300_000);
  });

  it('is max(1 m, poll_timeout - 2 m) for a Go duration', () => {
    expect(pollTimeoutMs('10m')).toBe(480_000);
    expect(pollTimeoutMs('1h')).toBe(3_480_000);
    expect(pollTimeoutMs('2m30s')).toBe(60_000);
    expect(pollTimeoutMs('250ms')).toBe(60_000);
  });
});
