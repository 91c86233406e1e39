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

export function pooledRandomBytes(size: number): Buffer {
  if (size > BLOCK / 4) return randomFillSync(Buffer.alloc(size));
  if (next + size > block.length) {
    block = randomFillSync(Buffer.allocUnsafe(BLOCK));
    next = 0;
  }
  const bytes = Buffer.from(block.subarray(next, next + size));
  // Handed out bytes are wiped from the block, so they exist only in the caller's buffer.
  block.fill(0, next, next + size);
  next += size;
  return bytes;
}

/** pooledRandomBytes(size) as hex, without a buffer of the caller's own in between. */
export function pooledRandomHex(size: number): string {
  if (size > BLOCK / 4) return pooledRandomBytes(size).toString('hex');
  if (next + size > block.length) {
    block = randomFillSync(Buffer.allocUnsafe(BLOCK));
    next = 0;
  }
  const hex = block.toString('hex', next, next + size);
  block.fill(0, next, next + size);
  next += size;
  return hex;
}
