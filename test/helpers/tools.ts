import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/**
 * The first executable among `candidates` (absolute paths, or names looked up on PATH). A
 * missing tool fails the test file with how to get it: these tests hold the fakes against real
 * peers, and skipping them would report agreement nobody checked.
 */
export function requireTool(candidates: readonly string[], install: string): string {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const candidate of candidates) {
    const options = path.isAbsolute(candidate) ? [candidate] : dirs.map((dir) => path.join(dir, candidate));
    for (const file of options) {
      try {
        accessSync(file, constants.X_OK);
        return file;
      } catch {
        // not here; try the next
      }
    }
  }
  // The line scripts/test-peers.sh prints, and only that line: a stack would bury it.
  const error = new Error(`npm test needs real peers that are missing: ${candidates.join(' or ')} (apt-get install ${install} as root, or run .ci/run)`);
  error.stack = `Error: ${error.message}`;
  throw error;
}

export const goTool = () => requireTool(['/usr/lib/go-1.19/bin/go', 'go'], 'golang-1.19-go');
export const javaTool = () => requireTool(['java'], 'openjdk-17-jdk-headless');

/** A real program's log once it has stopped growing (nginx, tinyproxy and danted write asynchronously). */
export async function settledLines(read: () => Promise<string[]> | string[]): Promise<string[]> {
  let last = -1;
  for (let i = 0; i < 40; i++) {
    const lines = await read();
    if (lines.length === last) return lines;
    last = lines.length;
    await new Promise((r) => setTimeout(r, 100));
  }
  return read();
}
