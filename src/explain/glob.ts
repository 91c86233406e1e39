/**
 * A normalised template as literal pieces around `<any>` wildcards. Matching is plain
 * `indexOf` from left to right, which is exact for patterns whose only wildcard is "any text"
 * and linear in the line: no regular expression, so no pathological backtracking on a long paste.
 */
export interface Glob {
  readonly pieces: readonly string[];
  /** Characters of literal text, what a match is worth. */
  readonly literalLength: number;
}

export interface GlobMatch {
  /** Where the template's text starts and ends in the line. */
  readonly start: number;
  readonly end: number;
  /** How many of the line's characters the wildcards took. */
  readonly wildcardChars: number;
}

export function compileGlob(normalisedTemplate: string): Glob {
  const pieces = normalisedTemplate.split('<any>');
  return { pieces, literalLength: pieces.reduce((sum, p) => sum + p.length, 0) };
}

/** The whole line is the template. */
export function matchWhole(glob: Glob, line: string): GlobMatch | null {
  const { pieces } = glob;
  const first = pieces[0]!;
  if (pieces.length === 1) return line === first ? { start: 0, end: line.length, wildcardChars: 0 } : null;
  const last = pieces.at(-1)!;
  if (!line.startsWith(first) || !line.endsWith(last) || line.length < first.length + last.length) return null;
  const found = matchMiddle(pieces.slice(1, -1), line, first.length, line.length - last.length);
  return found === null ? null : { start: 0, end: line.length, wildcardChars: found };
}

/**
 * The template somewhere inside the line, starting and ending on word boundaries (the line has
 * text around it that no known wrapper explains). The first such place wins.
 */
export function findInside(glob: Glob, line: string): GlobMatch | null {
  const { pieces } = glob;
  const first = pieces[0]!;
  const last = pieces.at(-1)!;
  // A leading or trailing wildcard takes whatever surrounds the template: one start, or one end.
  const starts = first === '' ? [0] : occurrences(line, first, 0).filter((at) => boundaryBefore(line, at));
  for (const at of starts) {
    if (pieces.length === 1) {
      if (boundaryAfter(line, at + first.length)) return { start: at, end: at + first.length, wildcardChars: 0 };
      continue;
    }
    const ends = last === '' ? [line.length] : occurrences(line, last, at + first.length);
    for (const end of ends) {
      const stop = end + last.length;
      if (!boundaryAfter(line, stop)) continue;
      const wild = matchMiddle(pieces.slice(1, -1), line, at + first.length, end);
      if (wild !== null) return { start: at, end: stop, wildcardChars: wild };
    }
  }
  return null;
}

function occurrences(line: string, piece: string, from: number): number[] {
  const found: number[] = [];
  for (let at = line.indexOf(piece, from); at !== -1; at = line.indexOf(piece, at + 1)) found.push(at);
  return found;
}

/** Places the middle pieces in order between `from` and `to`; the characters left to wildcards, or null. */
function matchMiddle(middle: readonly string[], line: string, from: number, to: number): number | null {
  let cursor = from;
  let wild = 0;
  for (const piece of middle) {
    const at = line.indexOf(piece, cursor);
    if (at === -1 || at + piece.length > to) return null;
    wild += at - cursor;
    cursor = at + piece.length;
  }
  return wild + (to - cursor);
}

const WORD = /[A-Za-z0-9_>]/;

function boundaryBefore(line: string, at: number): boolean {
  return at === 0 || !WORD.test(line[at - 1]!) || !WORD.test(line[at]!);
}

function boundaryAfter(line: string, at: number): boolean {
  return at === line.length || !WORD.test(line[at]!) || !WORD.test(line[at - 1]!);
}

/** The line's text inside one literal piece of the template (the user pasted part of the message). */
export function insidePiece(glob: Glob, line: string): boolean {
  return glob.pieces.some((piece) => {
    for (let at = piece.indexOf(line); at !== -1; at = piece.indexOf(line, at + 1)) {
      if (boundaryBefore(piece, at) && boundaryAfter(piece, at + line.length)) return true;
    }
    return false;
  });
}
