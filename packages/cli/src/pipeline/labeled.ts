import * as fs from 'fs';
import * as path from 'path';
import { PretrainError, Rng } from '@pretrain/core';
import type { DataSettings, LabeledFile } from './settings';

export interface LabeledText {
  text: string;
  label: string;
}

/** Reads one labeled file; a malformed row stops with an error naming the file and line. */
export function readLabeledFile(spec: LabeledFile, baseDir: string): LabeledText[] {
  const file = path.resolve(baseDir, spec.path);
  if (!fs.existsSync(file)) throw new PretrainError(`Labeled data file ${file} does not exist (data.*.path)`, { file });
  const format = spec.format ?? (file.endsWith('.jsonl') ? 'jsonl' : file.endsWith('.csv') ? 'csv' : 'tsv');
  const lines = fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, '').split(/\r?\n/);
  const rows: LabeledText[] = [];
  let header: string[] | undefined;
  lines.forEach((line, index) => {
    if (!line.trim()) return;
    const lineNo = index + 1;
    if (format === 'jsonl') {
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line);
      } catch (error) {
        throw new PretrainError(`${file}:${lineNo}: invalid JSON (${(error as Error).message})`, { file, line: lineNo });
      }
      rows.push(pick(record, spec, file, lineNo));
      return;
    }
    const cells = line.split(format === 'csv' ? ',' : '\t');
    if (spec.header && !header) {
      header = cells.map((c) => c.trim());
      return;
    }
    const record: Record<string, unknown> = {};
    cells.forEach((cell, i) => {
      record[String(i)] = cell.trim();
      if (header?.[i]) record[header[i]] = cell.trim();
    });
    rows.push(pick(record, spec, file, lineNo));
  });
  if (rows.length === 0) throw new PretrainError(`Labeled data file ${file} has no rows`, { file });
  return rows;
}

function pick(record: Record<string, unknown>, spec: LabeledFile, file: string, line: number): LabeledText {
  const text = record[String(spec.text)];
  const label = record[String(spec.label)];
  if (typeof text !== 'string' || text === '') throw new PretrainError(`${file}:${line}: no text in column/field "${spec.text}"`, { file, line });
  if (label === undefined || label === '') throw new PretrainError(`${file}:${line}: no label in column/field "${spec.label}"`, { file, line });
  return { text, label: String(label) };
}

export function readLabeledSet(specs: LabeledFile | LabeledFile[] | undefined, baseDir: string): LabeledText[] | undefined {
  if (!specs) return undefined;
  return (Array.isArray(specs) ? specs : [specs]).flatMap((spec) => readLabeledFile(spec, baseDir));
}

export interface LabeledSplits {
  train: LabeledText[];
  validation: LabeledText[];
  test?: LabeledText[];
  labels: string[];
  /** Labels seen in only one of several splits (often a stray row), e.g. `label "-" appears only in data.train (1 row)`. */
  notes?: string[];
}

/** Train/validation/test with a deterministic shuffle; validation is held out from train when absent. */
export function loadLabeledSplits(data: DataSettings, baseDir: string, seed: number, options: { needTrain: boolean }): LabeledSplits {
  const train = readLabeledSet(data.train, baseDir);
  if (options.needTrain && !train) throw new PretrainError('Config has no data.train (a labeled file: { path, text, label })', { path: 'data.train' });
  let validation = readLabeledSet(data.validation, baseDir);
  const test = readLabeledSet(data.test, baseDir);
  let shuffledTrain = train ? shuffled(train, new Rng(seed)) : [];
  if (!validation && shuffledTrain.length > 0) {
    const held = Math.max(1, Math.round(shuffledTrain.length * data.validationFraction));
    validation = shuffledTrain.slice(0, held);
    shuffledTrain = shuffledTrain.slice(held);
  }
  if (data.limit !== undefined) shuffledTrain = shuffledTrain.slice(0, data.limit);
  const labels = data.labels ?? [...new Set([...(train ?? []), ...(validation ?? []), ...(test ?? [])].map((r) => r.label))].sort();
  for (const [name, rows] of [['train', shuffledTrain], ['validation', validation ?? []], ['test', test ?? []]] as const) {
    const unknown = rows.find((r) => !labels.includes(r.label));
    if (unknown) throw new PretrainError(`data.${name}: label "${unknown.label}" is not one of data.labels (${labels.join(', ')})`, { path: 'data.labels' });
  }
  const present = { train: shuffledTrain, validation: validation ?? [], test: test ?? [] };
  return { train: shuffledTrain, validation: validation ?? [], test, labels, notes: labelsInOneSplit(present) };
}

function labelsInOneSplit(splits: Record<string, LabeledText[]>): string[] {
  const nonEmpty = Object.entries(splits).filter(([, rows]) => rows.length > 0);
  if (nonEmpty.length < 2) return [];
  const counts = new Map<string, Map<string, number>>();
  for (const [name, rows] of nonEmpty) {
    for (const { label } of rows) {
      const perSplit = counts.get(label) ?? new Map<string, number>();
      perSplit.set(name, (perSplit.get(name) ?? 0) + 1);
      counts.set(label, perSplit);
    }
  }
  return [...counts]
    .filter(([, perSplit]) => perSplit.size === 1)
    .map(([label, perSplit]) => {
      const [[name, rows]] = [...perSplit];
      return `label "${label}" appears only in data.${name} (${rows} row${rows === 1 ? '' : 's'})`;
    });
}

/** The head's numLabels must cover every label, else rows of the extra labels could never be learned. */
export function checkLabelCount(labels: string[], numLabels: unknown, explicit: boolean): void {
  if (typeof numLabels !== 'number' || labels.length <= numLabels) return;
  const source = explicit ? 'data.labels lists' : 'the data has';
  throw new PretrainError(
    `${source} ${labels.length} labels (${labels.map((l) => JSON.stringify(l)).join(', ')}) but head.options.numLabels is ${numLabels}: label "${labels[numLabels]}" would get id ${numLabels}, outside the head. Fix the stray rows or set data.labels`,
    { path: 'head.options.numLabels' },
  );
}

export function shuffled<T>(items: T[], rng: Rng): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
