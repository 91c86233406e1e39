import { randomFillSync } from 'node:crypto';

/**
 * Random bytes for the fakes' identifiers (API keys, ack tokens, document ids), drawn from a
 * block filled a few kilobytes at a time, as node:crypto's randomUUID draws its own. Each
 * randomBytes call is a trip into OpenSSL's generator: under `load` one per request, it cost
 * more than the rest of a checkin's routing. The bytes are the same generator's; each is handed
 * out once, in a buffer of the caller's own.
 */
const BLOCK = 4096;
let block = Buffer.alloc(0);
let next = 0;

/**
 * Hands `size` fresh bytes of the block to `use`, then wipes them from it, so that they exist
 * only in what the caller made of them.
 */
function fromBlock<T>(size: number, use: (start: number, end: number) => T): T {
  if (next + size > block.length) {
    block = randomFillSync(Buffer.allocUnsafe(BLOCK));
    next = 0;
  }
  const value = use(next, next + size);
  block.fill(0, next, next + size);
  next += size;
  return value;
}

export function pooledRandomBytes(size: number): Buffer {
  if (size > BLOCK / 4) return randomFillSync(Buffer.alloc(size));
  return fromBlock(size, (start, end) => Buffer.from(block.subarray(start, end)));
}

/** pooledRandomBytes(size) as hex, without a buffer of the caller's own in between. */
export function pooledRandomHex(size: number): string {
  if (size > BLOCK / 4) return pooledRandomBytes(size).toString('hex');
  return fromBlock(size, (start, end) => block.toString('hex', start, end));
}
