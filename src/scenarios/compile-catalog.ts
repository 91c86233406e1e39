/**
 * Build step (`npm run build`): validates the built-in catalog and stores each file's result
 * (see precompiled.ts). A malformed built-in file fails the build with the loader's message.
 */
import { BUILTIN_HARNESS, loadCatalog } from './catalog.js';
import { writePrecompiled } from './precompiled.js';

const entries = new Map<string, unknown>();
loadCatalog([BUILTIN_HARNESS], { precompiled: new Map(), record: (key, data) => entries.set(key, data) });
writePrecompiled(entries);
process.stdout.write(`built-in catalog: ${entries.size} files validated and stored\n`);
