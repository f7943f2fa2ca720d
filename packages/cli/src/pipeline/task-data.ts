/**
 * Labeled data for every task, read by @pretrain/corpus's readers (real CSV parser, file:line errors,
 * skipInvalid counts): text (pairs) with class labels or scores, CoNLL-tagged sentences, SQuAD
 * questions. One label list per run comes out of here: data.labels ↔ head.options.labels ↔ the data.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ConfigError, PretrainError, Rng, type TaskKind } from '@pretrain/core';
import { readConll, readDelimited, readJsonlExamples, readSquad, type LabeledSummary, type QuestionAnsweringExample } from '@pretrain/corpus';
import type { DataSettings, LabeledFile } from './settings';

/** One text (or text pair) with a class label. */
export interface LabeledText {
  text: string;
  textPair?: string;
  label: string;
  /** `file:line` of the row. */
  where?: string;
}

/** One text (or pair) with a score (regression). */
export interface ScoredText {
  text: string;
  textPair?: string;
  score: number;
  where?: string;
}

/** A sentence already split into words, one tag per word (CoNLL style). */
export interface TaggedRow {
  words: string[];
  tags: string[];
  where?: string;
}

export type QaRow = QuestionAnsweringExample;

/** The rows of a task, by task. */
export interface TaskRowTypes {
  'sequence-classification': LabeledText;
  'sequence-regression': ScoredText;
  'token-classification': TaggedRow;
  'question-answering': QaRow;
}

export interface TaskSplits<R> {
  train: R[];
  validation: R[];
  test?: R[];
  /** True when validation was held out of train (no data.validation). */
  heldOut: boolean;
}

export type SplitName = 'train' | 'validation' | 'test';

/** Where a data file's format comes from: the config, else the task, else the extension. */
export function formatOf(spec: LabeledFile, task: TaskKind, where: string): NonNullable<LabeledFile['format']> {
  const ext = path.extname(spec.path).toLowerCase();
  const format = spec.format ?? (task === 'token-classification' ? 'conll' : task === 'question-answering' ? 'squad' : ext === '.jsonl' ? 'jsonl' : ext === '.csv' ? 'csv' : 'tsv');
  const allowed: Record<TaskKind, string[]> = {
    'sequence-classification': ['tsv', 'csv', 'jsonl'],
    'sequence-regression': ['tsv', 'csv', 'jsonl'],
    'token-classification': ['conll'],
    'question-answering': ['squad'],
  };
  if (!allowed[task].includes(format)) {
    throw new ConfigError([`${where}.format: "${format}" cannot hold ${task} data (use ${allowed[task].join(' or ')})`]);
  }
  return format;
}

/** Problems of skipped rows go to the log: how many, and the first few with file:line. */
function reportSkipped(summary: LabeledSummary, file: string, log?: (line: string) => void): void {
  if (summary.skipped === 0 && summary.invalidUtf8 === 0) return;
  const say = log ?? (() => undefined);
  if (summary.skipped > 0) {
    say(`note: ${file}: skipped ${summary.skipped} of ${summary.rows} malformed rows (skipInvalid), e.g.`);
    for (const problem of summary.problems.slice(0, 3)) say(`  ${problem}`);
  }
  if (summary.invalidUtf8 > 0) say(`note: ${file}: ${summary.invalidUtf8} invalid UTF-8 sequences replaced by U+FFFD`);
}

function whereOf(file: string, id: string): string {
  const line = /:(\d+)$/.exec(id)?.[1];
  return line ? `${file}:${line}` : file;
}

/** Text rows (classification labels as strings, or float scores) from TSV/CSV/JSONL. */
function readTextRows(spec: LabeledFile, file: string, task: 'sequence-classification' | 'sequence-regression', where: string, log?: (line: string) => void): (LabeledText | ScoredText)[] {
  const format = formatOf(spec, task, where);
  const labelType = task === 'sequence-regression' ? 'float' : 'class';
  if (format === 'jsonl') {
    const options = { textField: String(spec.text ?? 'text'), textPairField: spec.textPair === undefined ? undefined : String(spec.textPair), labelField: String(spec.label ?? 'label'), skipInvalid: spec.skipInvalid };
    const dataset = labelType === 'float' ? readJsonlExamples(file, { ...options, labelType: 'float' }) : readJsonlExamples(file, { ...options, labelType: 'class' });
    reportSkipped(dataset.summary, file, log);
    return dataset.examples.map((e) => toRow(e, file));
  }
  const named = [spec.text, spec.textPair, spec.label].some((c) => typeof c === 'string');
  const options = {
    format: format as 'tsv' | 'csv',
    header: spec.header ?? named,
    quoting: spec.quoting,
    textColumn: spec.text ?? 0,
    textPairColumn: spec.textPair,
    labelColumn: spec.label ?? 1,
    skipInvalid: spec.skipInvalid,
  };
  const dataset = labelType === 'float' ? readDelimited(file, { ...options, labelType: 'float' }) : readDelimited(file, { ...options, labelType: 'class' });
  reportSkipped(dataset.summary, file, log);
  return dataset.examples.map((e) => toRow(e, file));
}

function toRow(e: { id: string; text: string; textPair?: string; labelName?: string; score?: number }, file: string): LabeledText | ScoredText {
  const pair = e.textPair !== undefined ? { textPair: e.textPair } : {};
  if (e.score !== undefined) return { text: e.text, ...pair, score: e.score, where: whereOf(file, e.id) };
  return { text: e.text, ...pair, label: e.labelName!, where: whereOf(file, e.id) };
}

const IOB = /^(O|[BI]-\S+)$/;

/** CoNLL sentences: IOB entity tags become IOB2; other tag sets (POS, chunks) are kept as written. */
function readTaggedRows(spec: LabeledFile, file: string, where: string, log?: (line: string) => void): TaggedRow[] {
  formatOf(spec, 'token-classification', where);
  const base = { tokenColumn: spec.tokenColumn, tagColumn: spec.tagColumn, skipInvalid: spec.skipInvalid };
  let tagFormat = spec.tagFormat;
  if (!tagFormat) {
    const plain = readConll(file, { ...base, tagFormat: 'plain' });
    tagFormat = plain.examples.every((s) => s.tags.every((t) => IOB.test(t))) ? 'iob' : 'plain';
  }
  const dataset = readConll(file, { ...base, tagFormat, outputScheme: 'iob2' });
  reportSkipped(dataset.summary, file, log);
  return dataset.examples.map((s) => ({ words: s.tokens, tags: s.tags, where: whereOf(file, s.id) }));
}

function readQaRows(spec: LabeledFile, file: string, where: string, log?: (line: string) => void): QaRow[] {
  formatOf(spec, 'question-answering', where);
  const dataset = readSquad(file, { skipInvalid: spec.skipInvalid });
  reportSkipped(dataset.summary, file, log);
  if (dataset.misalignedAnswers > 0) log?.(`note: ${file}: ${dataset.misalignedAnswers} answers are not at their answer_start in the context (kept)`);
  return dataset.examples;
}

/** One data file's rows for the task; `where` is its config path (data.train[0]) for errors. */
export function readTaskFile<K extends TaskKind>(task: K, spec: LabeledFile, baseDir: string, where: string, log?: (line: string) => void): TaskRowTypes[K][] {
  const file = path.resolve(baseDir, spec.path);
  if (!fs.existsSync(file)) throw new PretrainError(`Labeled data file ${file} does not exist (${where}.path)`, { file, path: `${where}.path` });
  let rows: unknown[];
  if (task === 'token-classification') rows = readTaggedRows(spec, file, where, log);
  else if (task === 'question-answering') rows = readQaRows(spec, file, where, log);
  else rows = readTextRows(spec, file, task as 'sequence-classification' | 'sequence-regression', where, log);
  if (rows.length === 0) throw new PretrainError(`${file}: no examples (${where})`, { file, path: where });
  return rows as TaskRowTypes[K][];
}

function readSet<K extends TaskKind>(task: K, specs: LabeledFile | LabeledFile[] | undefined, baseDir: string, name: SplitName, log?: (line: string) => void): TaskRowTypes[K][] | undefined {
  if (!specs) return undefined;
  const list = Array.isArray(specs) ? specs : [specs];
  return list.flatMap((spec, i) => readTaskFile(task, spec, baseDir, Array.isArray(specs) ? `data.${name}[${i}]` : `data.${name}`, log));
}

/** Train/validation/test with a deterministic shuffle; validation is held out from train when absent. */
export function loadTaskSplits<K extends TaskKind>(task: K, data: DataSettings, baseDir: string, seed: number, options: { needTrain: boolean; log?: (line: string) => void }): TaskSplits<TaskRowTypes[K]> {
  const train = readSet(task, data.train, baseDir, 'train', options.log);
  if (options.needTrain && !train) throw new ConfigError(['data.train: required for fine-tuning (a labeled file: { path, text, label })']);
  let validation = readSet(task, data.validation, baseDir, 'validation', options.log);
  const test = readSet(task, data.test, baseDir, 'test', options.log);
  let shuffledTrain = train ? shuffled(train, new Rng(seed)) : [];
  const heldOut = !validation && shuffledTrain.length > 0;
  if (heldOut) {
    const held = Math.max(1, Math.round(shuffledTrain.length * data.validationFraction));
    validation = shuffledTrain.slice(0, held);
    shuffledTrain = shuffledTrain.slice(held);
  }
  if (data.limit !== undefined) shuffledTrain = shuffledTrain.slice(0, data.limit);
  return { train: shuffledTrain, validation: validation ?? [], test, heldOut };
}

/** The label names a split's rows use (classification labels, or tags). */
export function labelsOfRows(task: TaskKind, rows: unknown[]): string[] {
  if (task === 'sequence-classification') return (rows as LabeledText[]).map((r) => r.label);
  if (task === 'token-classification') return (rows as TaggedRow[]).flatMap((r) => r.tags);
  return [];
}

/** Labels sorted the way the readers sort them: tags O first, then by entity type with B before I; classes as strings. */
export function sortedLabels(task: TaskKind, labels: Iterable<string>): string[] {
  const set = new Set(labels);
  if (task === 'token-classification' && [...set].every((t) => IOB.test(t))) {
    const rest = [...set].filter((t) => t !== 'O').sort((a, b) => a.slice(2).localeCompare(b.slice(2)) || a.localeCompare(b));
    return set.has('O') ? ['O', ...rest] : rest;
  }
  return [...set].sort();
}

export interface LabelDecision {
  labels: string[];
  /** Where the list came from, for the `labels:` line. */
  source: 'data.labels' | 'head.options.labels' | 'checkpoint' | 'data';
  notes: string[];
}

/**
 * The one label list of a run. Explicit lists (data.labels, head.options.labels, a checkpoint's id2label)
 * must agree; without one the data's labels are used. A row with a label outside the list names its
 * file and line; head.options.numLabels (when given) must match.
 */
export function decideLabels(
  task: TaskKind,
  splits: Partial<Record<SplitName, unknown[] | undefined>>,
  given: { dataLabels?: string[]; headLabels?: string[]; checkpointLabels?: string[]; numLabels?: number },
): LabelDecision {
  const explicit: [LabelDecision['source'], string[]][] = [];
  if (given.checkpointLabels) explicit.push(['checkpoint', given.checkpointLabels]);
  if (given.dataLabels) explicit.push(['data.labels', given.dataLabels]);
  if (given.headLabels) explicit.push(['head.options.labels', given.headLabels]);
  for (const [source, list] of explicit.slice(1)) {
    if (JSON.stringify(list) !== JSON.stringify(explicit[0][1])) {
      throw new ConfigError([`${source} (${list.join(', ')}) differs from ${explicit[0][0]} (${explicit[0][1].join(', ')}): a run has one label list, in id order`]);
    }
  }
  const all = Object.values(splits).flatMap((rows) => labelsOfRows(task, rows ?? []));
  const labels = explicit[0]?.[1] ?? sortedLabels(task, all);
  const source = explicit[0]?.[0] ?? 'data';
  for (const [name, rows] of Object.entries(splits)) checkRowsLabels(task, name as SplitName, rows ?? [], labels, source);
  const numLabels = given.numLabels;
  if (numLabels !== undefined && labels.length !== numLabels) {
    const what = source === 'data' ? 'the data has' : `${source} lists`;
    const fix = labels.length > numLabels ? `label "${labels[numLabels]}" would get id ${numLabels}, outside the head. Fix the stray rows or set data.labels` : 'set data.labels to name every label in id order, or fix head.options.numLabels';
    throw new ConfigError([`head.options.numLabels: ${what} ${labels.length} labels (${labels.map((l) => JSON.stringify(l)).join(', ')}) but head.options.numLabels is ${numLabels}: ${fix}`]);
  }
  if (labels.length < 2) throw new ConfigError([`data: only one label (${JSON.stringify(labels[0] ?? '')}) in the data; classification needs at least 2 (set data.labels)`]);
  return { labels, source, notes: labelsInOneSplit(task, splits) };
}

function checkRowsLabels(task: TaskKind, name: SplitName, rows: unknown[], labels: string[], source: string): void {
  const known = new Set(labels);
  for (const row of rows) {
    const used = labelsOfRows(task, [row]);
    const unknown = used.find((l) => !known.has(l));
    if (unknown === undefined) continue;
    const where = (row as { where?: string }).where ?? `data.${name}`;
    const headerHint = /:1$/.test(where) ? ' (is line 1 a header row? set header: true on the file)' : '';
    throw new PretrainError(`${where}: label "${unknown}" (data.${name}) is not one of the ${labels.length} labels from ${source} (${labels.join(', ')})${headerHint}`, { path: 'data.labels' });
  }
}

/** Labels seen in only one of several splits (often a stray row), e.g. `label "-" appears only in data.train (1 row)`. */
function labelsInOneSplit(task: TaskKind, splits: Partial<Record<SplitName, unknown[] | undefined>>): string[] {
  const nonEmpty = Object.entries(splits).filter(([, rows]) => rows && rows.length > 0) as [string, unknown[]][];
  if (nonEmpty.length < 2) return [];
  const counts = new Map<string, Map<string, number>>();
  for (const [name, rows] of nonEmpty) {
    for (const label of labelsOfRows(task, rows)) {
      const perSplit = counts.get(label) ?? new Map<string, number>();
      perSplit.set(name, (perSplit.get(name) ?? 0) + 1);
      counts.set(label, perSplit);
    }
  }
  const unit = task === 'token-classification' ? 'word' : 'row';
  const notes = [...counts]
    .filter(([, perSplit]) => perSplit.size === 1)
    .map(([label, perSplit]) => {
      const [[name, n]] = [...perSplit];
      return `label "${label}" appears only in data.${name} (${n} ${unit}${n === 1 ? '' : 's'})`;
    });
  return notes.length > 5 ? [...notes.slice(0, 5), `${notes.length - 5} more labels appear in only one split`] : notes;
}

/** Classification rows of one delimited file the way the demo reads UCI sentences (no header, text then label). */
export function readLabeledTsv(file: string): LabeledText[] {
  return readTaskFile('sequence-classification', { path: file, format: 'tsv', text: 0, label: 1, header: false, skipInvalid: false }, path.dirname(file), file);
}

export interface LabeledSplits {
  train: LabeledText[];
  validation: LabeledText[];
  test?: LabeledText[];
  labels: string[];
  notes?: string[];
}

export function shuffled<T>(items: T[], rng: Rng): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
