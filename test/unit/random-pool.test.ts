import { describe, expect, it } from 'vitest';
import { pooledRandomBytes, pooledRandomHex } from '../../src/random-pool.js';

describe('pooledRandomBytes', () => {
  it('hands out buffers of the size asked for, each its own copy, none repeated across block refills', () => {
    const seen = new Set<string>();
    // 4096-byte blocks: 2,000 draws of 16 bytes cross several refills.
    const draws = Array.from({ length: 2_000 }, (_, i) => pooledRandomBytes(i % 2 ? 16 : 8));
    for (const [i, bytes] of draws.entries()) {
      expect(bytes.length).toBe(i % 2 ? 16 : 8);
      // Its own memory: a view into the block would read the zeros the block is wiped with.
      expect(bytes.equals(Buffer.alloc(bytes.length))).toBe(false);
      seen.add(bytes.toString('hex'));
    }
    expect(seen.size).toBe(draws.length);
    const first = Buffer.from(draws[1]!);
    pooledRandomBytes(4096);
    pooledRandomBytes(16);
    expect(draws[1]!.equals(first)).toBe(true);
  });

  it('fills a request larger than a quarter block directly', () => {
    const big = pooledRandomBytes(2_000);
    expect(big.length).toBe(2_000);
    expect(big.equals(Buffer.alloc(2_000))).toBe(false);
  });
});

describe('pooledRandomHex', () => {
  it('hands out the hex of fresh bytes from the same blocks, none repeated across refills', () => {
    const draws = Array.from({ length: 1_200 }, () => pooledRandomHex(8));
    for (const hex of draws) expect(hex).toMatch(/^[0-9a-f]{16}$/);
    expect(draws).not.toContain('0'.repeat(16));
    expect(new Set(draws).size).toBe(draws.length);
    expect(pooledRandomHex(2_000)).toMatch(/^[0-9a-f]{4000}$/);
  });
});
