import type { TextDocument } from '@pretrain/core/lite';
import { inputError } from '../io/errors';
import type { SourceFile } from '../io/files';
import { readLineBatches, type LineBatch } from '../io/lines';
import { recordProblem, type ReadStats } from '../io/stats';
import { GUTENBERG_HEADER_LINES, GutenbergStripper } from './gutenberg';
import { segmentSentences } from './segment';

/**
 * How plain text is laid out:
 * - `document`: the whole file is one document; blank lines separate paragraphs, whose wrapped
 *   lines are joined and split into sentences (books, articles).
 * - `paragraphs`: documents are separated by blank lines; each line is a sentence or a paragraph
 *   and is split into sentences (the original BERT pre-training layout).
 * - `sentences`: one sentence per line, kept as is; blank lines (if any) separate documents.
 */
export type TextLayout = 'document' | 'paragraphs' | 'sentences';
export type TextFormat = 'text' | 'jsonl';

export interface DocumentReadOptions {
  format: TextFormat;
  layout: TextLayout;
  /** JSONL: field holding the text; dots descend into objects (`meta.body`). */
  textField: string;
  stripGutenberg: boolean;
  /** Lines shorter than this (after trimming) are dropped. */
  minLineLength: number;
  /** BCP 47 locale for sentence segmentation. */
  locale: string;
  /** Longest text line kept whole; longer ones are cut into pieces (counted). */
  maxLineLength: number;
  /** Longest JSONL record line; a longer one is malformed. */
  maxRecordLength: number;
  /** Bounds memory on huge documents: longer ones are cut into consecutive documents. */
  maxSentencesPerDocument: number;
  skipInvalid: boolean;
}

export const defaultDocumentReadOptions: DocumentReadOptions = {
  format: 'text',
  layout: 'paragraphs',
  textField: 'text',
  stripGutenberg: false,
  minLineLength: 0,
  locale: 'en',
  maxLineLength: 1 << 20,
  maxRecordLength: 64 << 20,
  maxSentencesPerDocument: 10_000,
  skipInvalid: false,
};

/** The reading options in `options` (other keys ignored), over the defaults. */
export function documentReadOptions(options: object): DocumentReadOptions {
  const picked: Record<string, unknown> = { ...defaultDocumentReadOptions };
  for (const key of Object.keys(defaultDocumentReadOptions)) {
    const value = (options as Record<string, unknown>)[key];
    if (value !== undefined) picked[key] = value;
  }
  return picked as unknown as DocumentReadOptions;
}

/** Documents of one file, in file order, with ids `relPath:n` (n counts the file's documents from 0). */
export async function* readDocuments(file: SourceFile, options: DocumentReadOptions, stats: ReadStats): AsyncGenerator<TextDocument> {
  stats.files++;
  stats.bytes += file.size;
  let ordinal = 0;
  for await (const sentences of readSentenceGroups(file, options, stats)) yield { id: `${file.relPath}:${ordinal++}`, sentences };
}

/**
 * Bytes `start..end` of a file, both at cut points (see findCutPoint): reading them gives the lines
 * a whole-file read gives there, with the reading state (document, paragraph) fresh at `start`.
 */
export interface FileRange {
  start: number;
  end: number;
  /** Lines before `start`; called only when an error needs an absolute line number. */
  linesBefore: () => number;
}

/** Why nothing after a range counts: it ended in a Gutenberg footer, or the file was skipped (binary, unreadable). */
export type RangeEnd = 'footer' | 'skipped' | undefined;

/**
 * Sentence groups of one file range, in order. For the `document` layout each group is one
 * paragraph flush: the caller joins groups into documents across ranges (joinDocumentGroups);
 * for the other layouts (and JSONL) each group is a whole document. File-level counts (files,
 * bytes, documents, sentences) are the caller's; `outcome.end` says whether the file ends here.
 */
export async function* readRangeGroups(file: SourceFile, range: FileRange, options: DocumentReadOptions, stats: ReadStats, outcome: { end: RangeEnd }): AsyncGenerator<string[]> {
  const skippedBefore = stats.skippedFiles;
  const groups = readSentenceGroups(file, options, stats, range);
  let next = await groups.next();
  while (!next.done) {
    yield next.value;
    next = await groups.next();
  }
  outcome.end = stats.skippedFiles > skippedBefore ? 'skipped' : next.value;
}

/**
 * Joins `document`-layout paragraph groups into documents exactly where reading the whole file
 * cuts them: a document ends once it holds maxSentencesPerDocument sentences, and at the end of the file.
 */
export class DocumentJoiner {
  private pending = 0;

  constructor(private readonly maxSentencesPerDocument: number) {}

  /** Adds a group of `sentences`; returns the size of the document it completes, or 0. */
  add(sentences: number): number {
    this.pending += sentences;
    return this.pending >= this.maxSentencesPerDocument ? this.take() : 0;
  }

  /** At the end of the file: the size of the last document, or 0. */
  end(): number {
    return this.take();
  }

  private take(): number {
    const sentences = this.pending;
    this.pending = 0;
    return sentences;
  }
}

async function* readSentenceGroups(file: SourceFile, options: DocumentReadOptions, stats: ReadStats, range?: FileRange): AsyncGenerator<string[], RangeEnd> {
  const lineBatches = readLineBatches(file.path, {
    maxLineLength: options.format === 'jsonl' ? options.maxRecordLength : options.maxLineLength,
    overlongLines: options.format === 'jsonl' ? 'error' : 'split',
    skipInvalid: options.skipInvalid,
    stats,
    // A range that is the whole file reads it as a whole (gzip included).
    range: range && (range.start > 0 || range.end < file.size) ? { start: range.start, end: range.end } : undefined,
    linesBefore: range?.linesBefore,
  });
  if (options.format === 'jsonl') {
    yield* jsonlDocuments(file, lineBatches, options, stats, range?.linesBefore);
    return undefined;
  }
  return yield* textDocuments(file, lineBatches, options, stats, range);
}

async function* textDocuments(file: SourceFile, batches: AsyncIterable<LineBatch>, options: DocumentReadOptions, stats: ReadStats, range?: FileRange): AsyncGenerator<string[], RangeEnd> {
  // Ranges of a `document` file: every paragraph's sentences complete a group of their own, and
  // DocumentJoiner cuts documents across ranges where the whole-file builder would.
  const groupsParagraphs = range !== undefined && options.layout === 'document';
  const builder = new DocumentBuilder(groupsParagraphs ? { ...options, maxSentencesPerDocument: 1 } : options, stats, false);
  const skippedFilesBefore = stats.skippedFiles;
  const afterHeader = (range?.start ?? 0) > 0;
  const stripper = options.stripGutenberg ? new GutenbergStripper(GUTENBERG_HEADER_LINES, afterHeader) : undefined;
  for await (const raw of batches) {
    const batch = stripper ? strip(stripper, raw) : raw;
    for (const line of batch.lines) builder.addLine(line);
    yield* builder.takeCompleted();
  }
  if (stripper) {
    const rest = { lines: [] as string[], lineNumbers: [] as number[] };
    stripper.end(rest);
    for (const line of rest.lines) builder.addLine(line);
    if (stripper.stripped) stats.gutenbergStripped++;
  }
  if (groupsParagraphs) builder.endParagraph();
  // A file skipped as binary/unreadable is counted there, not again as an empty document.
  else builder.endDocument(options.layout === 'document' && stats.skippedFiles === skippedFilesBefore);
  yield* builder.takeCompleted();
  return stripper?.inFooter ? 'footer' : undefined;
}

function strip(stripper: GutenbergStripper, batch: LineBatch): LineBatch {
  const out: LineBatch = { lines: [], lineNumbers: [] };
  for (let i = 0; i < batch.lines.length; i++) stripper.push(batch.lines[i], batch.lineNumbers[i], out);
  return out;
}

async function* jsonlDocuments(file: SourceFile, batches: AsyncIterable<LineBatch>, options: DocumentReadOptions, stats: ReadStats, linesBefore?: () => number): AsyncGenerator<string[]> {
  const builder = new DocumentBuilder(options, stats, true);
  for await (const batch of batches) {
    for (let i = 0; i < batch.lines.length; i++) {
      const lineNumber = () => batch.lineNumbers[i] + (linesBefore?.() ?? 0);
      const text = jsonlText(batch.lines[i], file.path, lineNumber, options, stats);
      if (text === undefined) continue;
      for (const line of text.split('\n')) builder.addLine(line);
      builder.endDocument(true);
      yield* builder.takeCompleted();
    }
  }
}

/** The text of one JSONL record; undefined for a blank line or a skipped malformed record. */
function jsonlText(line: string, file: string, lineNumber: () => number, options: DocumentReadOptions, stats: ReadStats): string | undefined {
  if (line.trim().length === 0) return undefined;
  let problem: string;
  try {
    const record = JSON.parse(line);
    const value = fieldValue(record, options.textField);
    if (typeof value === 'string') return value;
    problem = value === undefined ? `record has no field "${options.textField}"` : `field "${options.textField}" is ${typeof value}, expected a string`;
  } catch (error) {
    problem = `invalid JSON (${(error as Error).message})`;
  }
  const error = inputError(problem, file, lineNumber());
  if (!options.skipInvalid) throw error;
  stats.skippedRecords++;
  recordProblem(stats, error.message);
  return undefined;
}

export function fieldValue(record: unknown, field: string): unknown {
  let value: unknown = record;
  for (const key of field.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** Turns lines into sentence lists per the layout; completed documents are collected for the caller. */
class DocumentBuilder {
  private sentences: string[] = [];
  private paragraph = '';
  private sawText = false;
  /** A piece of the current document was already completed (it was cut at maxSentencesPerDocument). */
  private producedChunk = false;
  private completed: string[][] = [];

  constructor(private readonly options: DocumentReadOptions, private readonly stats: ReadStats, private readonly recordMode: boolean) {}

  addLine(raw: string): void {
    const line = raw.trim();
    if (line.length === 0) {
      if (this.options.layout === 'document' || this.recordMode) this.flushParagraph();
      else this.endDocument(false);
      return;
    }
    this.sawText = true;
    if (line.length < this.options.minLineLength) {
      this.stats.shortLines++;
      return;
    }
    if (this.options.layout === 'sentences') this.sentences.push(line);
    else if (this.options.layout === 'paragraphs') segmentSentences(line, this.options.locale, this.sentences);
    else {
      this.paragraph = this.paragraph.length > 0 ? `${this.paragraph} ${line}` : line;
      if (this.paragraph.length > this.options.maxLineLength) this.flushParagraph();
    }
    this.cutIfTooLong();
  }

  /** Ends the current document; `countEmpty` says whether an empty one is worth reporting even without text seen. */
  endDocument(countEmpty: boolean): void {
    this.flushParagraph();
    if (this.sentences.length > 0) this.complete();
    else if (!this.producedChunk && (this.sawText || countEmpty)) this.stats.emptyDocuments++;
    this.sawText = false;
    this.producedChunk = false;
  }

  takeCompleted(): string[][] {
    const done = this.completed;
    this.completed = [];
    return done;
  }

  /** Ends the paragraph being joined (at the end of a range of a `document` file). */
  endParagraph(): void {
    this.flushParagraph();
  }

  private flushParagraph(): void {
    if (this.paragraph.length === 0) return;
    segmentSentences(this.paragraph, this.options.locale, this.sentences);
    this.paragraph = '';
    this.cutIfTooLong();
  }

  private cutIfTooLong(): void {
    if (this.sentences.length >= this.options.maxSentencesPerDocument) this.complete();
  }

  private complete(): void {
    this.stats.documents++;
    this.stats.sentences += this.sentences.length;
    this.completed.push(this.sentences);
    this.sentences = [];
    this.producedChunk = true;
  }
}
