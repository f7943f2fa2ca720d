import * as path from 'path';
import { inputError } from '../io/errors';
import { readTextFile, rejectRow } from './read-text';
import { emptySummary, labelMap, type LabeledDataset, type LabeledSummary, type TokenTagExample } from './types';

export type TagScheme = 'iob1' | 'iob2';

export interface ConllReadOptions {
  /** Column holding the tag (0-based; negative counts from the end). Default -1 (the NER column of CoNLL-2003). */
  tagColumn?: number;
  /** Column holding the token. Default 0. */
  tokenColumn?: number;
  /** Tags as written out: `iob2` converts IOB1 input; `keep` leaves tags as in the file. Default `iob2`. */
  outputScheme?: 'iob2' | 'keep';
  /**
   * `iob` (default): entity tags, checked to be O / B-TYPE / I-TYPE. `plain`: any tag set kept as
   * written (part-of-speech or chunk columns); nothing is checked or converted.
   */
  tagFormat?: 'iob' | 'plain';
  /** Known tags in id order; without it tags are collected (O first, then sorted by entity type, B before I). */
  labels?: string[];
  skipInvalid?: boolean;
}

export interface ConllDataset extends LabeledDataset<TokenTagExample> {
  /** `-DOCSTART-` documents seen. */
  documents: number;
  /** iob1 when some I- tag starts an entity (IOB1 style), else iob2. */
  detectedScheme: TagScheme;
}

const TAG = /^(O|[BI]-\S+)$/;

/** CoNLL-2003 style files: one `token ... tag` line per token, blank lines between sentences, `-DOCSTART-` between documents. */
export function readConll(file: string, options: ConllReadOptions = {}): ConllDataset {
  const summary = emptySummary();
  const lines = readTextFile(file, summary).split('\n');
  const sentences: { line: number; tokens: string[]; tags: string[]; document: number }[] = [];
  let current: (typeof sentences)[number] | undefined;
  let broken = false;
  let documents = 0;
  const finishSentence = () => {
    if (current && !broken) sentences.push(current);
    current = undefined;
    broken = false;
  };
  lines.forEach((raw, i) => {
    const lineNumber = i + 1;
    const line = raw.replace(/\r$/, '');
    if (line.trim().length === 0) return finishSentence();
    if (line.startsWith('-DOCSTART-')) {
      finishSentence();
      documents++;
      return;
    }
    if (!current) {
      current = { line: lineNumber, tokens: [], tags: [], document: Math.max(0, documents - 1) };
      summary.rows++;
    }
    if (broken) return;
    try {
      const [token, tag] = tokenAndTag(line, file, lineNumber, options);
      current.tokens.push(token);
      current.tags.push(tag);
    } catch (error) {
      rejectRow(error as never, options.skipInvalid, summary);
      broken = true;
    }
  });
  finishSentence();
  const plain = options.tagFormat === 'plain';
  const detectedScheme: TagScheme = !plain && sentences.some((s) => hasIob1Start(s.tags)) ? 'iob1' : 'iob2';
  const convert = !plain && (options.outputScheme ?? 'iob2') === 'iob2';
  const tagged = sentences.map((s) => ({ ...s, tags: convert ? toIob2(s.tags) : s.tags }));
  const seen = new Set(tagged.flatMap((s) => s.tags));
  const labels = labelMap(options.labels ?? (plain ? [...seen].sort() : sortTags(seen)));
  const examples = tagged.map((s) => ({ id: `${path.basename(file)}:${s.line}`, tokens: s.tokens, tags: s.tags, tagIds: s.tags.map((t) => tagId(labels.ids, t, file, s.line, summary)), document: s.document }));
  summary.examples = examples.length;
  return { file, examples, labels, summary, documents, detectedScheme };
}

function tokenAndTag(line: string, file: string, lineNumber: number, options: ConllReadOptions): [string, string] {
  const fields = line.trim().split(/\s+/);
  const tagColumn = options.tagColumn ?? -1;
  const tagIndex = tagColumn < 0 ? fields.length + tagColumn : tagColumn;
  const tokenIndex = options.tokenColumn ?? 0;
  if (fields.length < 2 || tagIndex < 0 || tagIndex >= fields.length || tokenIndex >= fields.length) {
    throw inputError(`expected "token ... tag" columns, found ${fields.length} field(s)`, file, lineNumber);
  }
  const tag = fields[tagIndex];
  if (options.tagFormat !== 'plain' && !TAG.test(tag)) throw inputError(`"${tag}" is not an IOB tag (O, B-TYPE or I-TYPE)`, file, lineNumber);
  return [fields[tokenIndex], tag];
}

function tagId(ids: Record<string, number>, tag: string, file: string, line: number, _summary: LabeledSummary): number {
  const id = ids[tag];
  if (id === undefined) throw inputError(`tag "${tag}" is not in the given labels`, file, line);
  return id;
}

function typeOf(tag: string): string | undefined {
  return tag === 'O' ? undefined : tag.slice(2);
}

/** True when an I- tag begins an entity (the previous tag is O or of another type): IOB1 style. */
function hasIob1Start(tags: string[]): boolean {
  return tags.some((tag, i) => tag.startsWith('I-') && typeOf(tags[i - 1] ?? 'O') !== typeOf(tag));
}

/**
 * IOB1 → IOB2: every entity starts with B-. An I-X that follows O or another type becomes B-X;
 * B-X (IOB1 uses it only between two adjacent X entities) stays. IOB2 input is unchanged.
 */
export function toIob2(tags: string[]): string[] {
  return tags.map((tag, i) => (tag.startsWith('I-') && typeOf(tags[i - 1] ?? 'O') !== typeOf(tag) ? `B-${tag.slice(2)}` : tag));
}

function sortTags(tags: Set<string>): string[] {
  const rest = [...tags].filter((t) => t !== 'O').sort((a, b) => a.slice(2).localeCompare(b.slice(2)) || a.localeCompare(b));
  return tags.has('O') ? ['O', ...rest] : rest;
}
