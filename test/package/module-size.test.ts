import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src');

describe('the source layout', () => {
  it('gives every module over 250 lines its reason at the top, "(Over 250 lines: …)"', () => {
    const modules = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts'));
    const unexplained = modules.filter((file) => {
      const text = readFileSync(path.join(SRC, file), 'utf8');
      return text.split('\n').length > 251 && !/\(Over 250 lines:\s/.test(text.slice(0, 1500));
    });
    expect(unexplained).toEqual([]);
  });
});
