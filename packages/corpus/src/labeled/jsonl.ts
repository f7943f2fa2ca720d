import * as path from 'path';
import { inputError } from '../io/errors';
import { fieldValue } from '../text/documents';
import { readTextFile, rejectRow } from './read-text';
import { emptySummary, labelMap, type ClassificationExample, type LabeledDataset, type RegressionExample } from './types';

export interface JsonlExampleOptions {
  /** Field names; dots descend into objects (`pair.premise`). */
  textField: string;
  textPairField?: string;
  labelField: string;
  /** `class` (strings, numbers or booleans mapped to ids) or `float` (regression). Default `class`. */
  labelType?: 'class' | 'float';
  labels?: string[];
  skipInvalid?: boolean;
}

/** Labeled examples from a JSONL file with chosen fields. */
export function readJsonlExamples(file: string, options: JsonlExampleOptions & { labelType: 'float' }): LabeledDataset<RegressionExample>;
export function readJsonlExamples(file: string, options: JsonlExampleOptions & { labelType?: 'class' }): LabeledDataset<ClassificationExample>;
export function readJsonlExamples(file: string, options: JsonlExampleOptions): LabeledDataset<ClassificationExample> | LabeledDataset<RegressionExample> {
  const summary = emptySummary();
  const lines = readTextFile(file, summary).split('\n');
  const rows: { line: number; text: string; textPair?: string; label: string | number }[] = [];
  lines.forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim().length === 0) return;
    summary.rows++;
    try {
      rows.push({ line, ...recordFields(raw, file, line, options) });
    } catch (error) {
      rejectRow(error as never, options.skipInvalid, summary);
    }
  });
  const id = (line: number) => `${path.basename(file)}:${line}`;
  if (options.labelType === 'float') {
    const examples = rows.map((r) => ({ id: id(r.line), text: r.text, ...(r.textPair !== undefined ? { textPair: r.textPair } : {}), score: r.label as number }));
    summary.examples = examples.length;
    return { file, examples, summary };
  }
  const labels = labelMap(options.labels ?? [...new Set(rows.map((r) => String(r.label)))].sort());
  const examples = rows.map((r) => ({ id: id(r.line), text: r.text, ...(r.textPair !== undefined ? { textPair: r.textPair } : {}), label: labels.ids[String(r.label)], labelName: String(r.label) }));
  summary.examples = examples.length;
  return { file, examples, labels, summary };
}

function recordFields(raw: string, file: string, line: number, options: JsonlExampleOptions): { text: string; textPair?: string; label: string | number } {
  let record: unknown;
  try {
    record = JSON.parse(raw);
  } catch (error) {
    throw inputError(`invalid JSON (${(error as Error).message})`, file, line);
  }
  const text = stringField(record, options.textField, file, line);
  const textPair = options.textPairField === undefined ? undefined : stringField(record, options.textPairField, file, line);
  const label = fieldValue(record, options.labelField);
  if (options.labelType === 'float') {
    const score = typeof label === 'number' ? label : typeof label === 'string' && label.trim() !== '' ? Number(label) : NaN;
    if (!Number.isFinite(score)) throw inputError(`field "${options.labelField}" is ${JSON.stringify(label)}, expected a number`, file, line);
    return { text, textPair, label: score };
  }
  if (typeof label !== 'string' && typeof label !== 'number' && typeof label !== 'boolean') throw inputError(`field "${options.labelField}" is ${label === undefined ? 'missing' : JSON.stringify(label)}, expected a label`, file, line);
  if (options.labels && !options.labels.includes(String(label))) throw inputError(`unknown label "${label}" (expected one of: ${options.labels.join(', ')})`, file, line);
  return { text, textPair, label: String(label) };
}

function stringField(record: unknown, field: string, file: string, line: number): string {
  const value = fieldValue(record, field);
  if (typeof value !== 'string') throw inputError(`field "${field}" is ${value === undefined ? 'missing' : typeof value}, expected a string`, file, line);
  return value;
}
