import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('the repository', () => {
  it('holds no merge-conflict markers in any tracked text file', () => {
    const files = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter((f) => /\.(ts|md|ya?ml|sh|json|mjs|txt|env)$/.test(f));
    const marked = files.filter((file) => /^(<{7} |>{7} |={7}$)/m.test(readFileSync(path.join(ROOT, file), 'utf8')));
    expect(marked).toEqual([]);
  });
});
