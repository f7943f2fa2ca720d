/** What a reader saw and what it dropped; readers fill it in as they go and return it as a summary. */
export interface ReadStats {
  files: number;
  bytes: number;
  documents: number;
  sentences: number;
  /** Documents that had no text left after cleaning (skipped). */
  emptyDocuments: number;
  /** Lines dropped by `minLineLength`. */
  shortLines: number;
  /** Invalid UTF-8 sequences, each replaced by U+FFFD. */
  invalidUtf8: number;
  /** Lines longer than `maxLineLength` that were cut into pieces. */
  longLinesSplit: number;
  /** Malformed records skipped because of `skipInvalid`. */
  skippedRecords: number;
  /** Files skipped (binary or unreadable) because of `skipInvalid`. */
  skippedFiles: number;
  /** Files in which a Project Gutenberg header or footer was removed. */
  gutenbergStripped: number;
  /** `file:line: problem` for each skipped item (first 100 only). */
  problems: string[];
}

export function emptyStats(): ReadStats {
  return {
    files: 0,
    bytes: 0,
    documents: 0,
    sentences: 0,
    emptyDocuments: 0,
    shortLines: 0,
    invalidUtf8: 0,
    longLinesSplit: 0,
    skippedRecords: 0,
    skippedFiles: 0,
    gutenbergStripped: 0,
    problems: [],
  };
}

const MAX_PROBLEMS = 100;

export function recordProblem(stats: ReadStats, problem: string): void {
  if (stats.problems.length < MAX_PROBLEMS) stats.problems.push(problem);
}

/** Adds `from` into `into` (used to merge worker summaries). */
export function mergeStats(into: ReadStats, from: ReadStats): ReadStats {
  for (const key of Object.keys(into) as (keyof ReadStats)[]) {
    if (key === 'problems') {
      for (const p of from.problems) recordProblem(into, p);
    } else {
      into[key] += from[key];
    }
  }
  return into;
}
