import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Deadline } from '../../../src/components/http-deadlines.js';

describe('a connection\'s one deadline (Go\'s SetReadDeadline, moved without a timer per move)', () => {
  beforeEach(() => { vi.useFakeTimers({ now: 1_000_000 }); });
  afterEach(() => { vi.useRealTimers(); });

  it('expires at the latest time it was moved to, on one timer', () => {
    const expired = vi.fn();
    const deadline = new Deadline(expired);
    deadline.after(5_000);
    // Later moves (request, idle) do not add timers.
    deadline.after(60_000);
    deadline.after(35_000);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(34_998);
    expect(expired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(2);
    expect(expired).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('expires at an earlier time set after a later one', () => {
    const expired = vi.fn();
    const deadline = new Deadline(expired);
    deadline.after(60_000);
    deadline.at(Date.now() + 100);
    vi.advanceTimersByTime(99);
    expect(expired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(expired).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(60_000);
    expect(expired).toHaveBeenCalledTimes(1);
  });

  it('does not expire once stopped (0 or less is Go\'s zero deadline), and expires again when set again', () => {
    const expired = vi.fn();
    const deadline = new Deadline(expired);
    deadline.after(5_000);
    deadline.stop();
    vi.advanceTimersByTime(5_000);
    deadline.after(0);
    vi.advanceTimersByTime(60_000);
    expect(expired).not.toHaveBeenCalled();
    deadline.after(200);
    vi.advanceTimersByTime(200);
    expect(expired).toHaveBeenCalledTimes(1);
  });

  it('leaves no timer behind once disposed', () => {
    const expired = vi.fn();
    const deadline = new Deadline(expired);
    deadline.after(5_000);
    deadline.dispose();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(10_000);
    expect(expired).not.toHaveBeenCalled();
  });
});
