import { createRequire } from 'node:module';
import type Forge from 'node-forge';

let loaded: typeof Forge | undefined;

/**
 * node-forge, loaded on first use: it is some forty CommonJS files that every CLI start would
 * otherwise read and compile, and only PKCS#12 files and encrypted keys' details need it.
 */
export function forgeLib(): typeof Forge {
  return (loaded ??= createRequire(import.meta.url)('node-forge') as typeof Forge);
}
