import * as path from 'path';
import { parse } from 'csv-parse/sync';
import { inputError } from '../io/errors';
import { readTextFile, rejectRow } from './read-text';
import { emptySummary, labelMap, type ClassificationExample, type LabeledDataset, type LabeledSummary, type RegressionExample } from './types';

/** A column by header name or by 0-based index. */
export type Column = string | number;

export interface DelimitedReadOptions {
  /** `tsv` or `csv`; default from the file extension (`.csv` → csv, else tsv). */
  format?: 'tsv' | 'csv';
  /** First row names the columns. Default true. */
  header?: boolean;
  /**
   * Honour double quotes (fields with delimiters, quotes and newlines). Default: true for CSV,
   * false for TSV — GLUE's TSVs contain unbalanced quotes and are read with quoting off, as GLUE does.
   */
  quoting?: boolean;
  textColumn: Column;
  textPairColumn?: Column;
  labelColumn: Column;
  /** `class`: labels map to ids; `float`: numeric scores (regression). Default `class`. */
  labelType?: 'class' | 'float';
  /** Known label names in id order; without it labels are collected and sorted. */
  labels?: string[];
  /** Skip (and count) malformed rows instead of stopping at the first. */
  skipInvalid?: boolean;
}

export type DelimitedDataset = LabeledDataset<ClassificationExample> | LabeledDataset<RegressionExample>;

export function readDelimited(file: string, options: DelimitedReadOptions & { labelType: 'float' }): LabeledDataset<RegressionExample>;
export function readDelimited(file: string, options: DelimitedReadOptions & { labelType?: 'class' }): LabeledDataset<ClassificationExample>;
export function readDelimited(file: string, options: DelimitedReadOptions): DelimitedDataset;
/** GLUE-style TSV/CSV rows as typed examples, with a label map for classification. */
export function readDelimited(file: string, options: DelimitedReadOptions): DelimitedDataset {
  const summary = emptySummary();
  const text = readTextFile(file, summary);
  const format = options.format ?? (path.extname(file).toLowerCase() === '.csv' ? 'csv' : 'tsv');
  const records = parseRecords(text, file, format, options.quoting ?? format === 'csv');
  const header = options.header ?? true;
  const names = header && records.length > 0 ? records[0].fields.map((n) => n.trim()) : undefined;
  const columns = {
    text: columnIndex(options.textColumn, names, file),
    pair: options.textPairColumn === undefined ? undefined : columnIndex(options.textPairColumn, names, file),
    label: columnIndex(options.labelColumn, names, file),
  };
  const rows = header ? records.slice(1) : records;
  if ((options.labelType ?? 'class') === 'float') return { file, examples: regressionRows(rows, columns, file, options, summary), summary };
  return classificationRows(rows, columns, file, options, summary);
}

interface ParsedRecord {
  fields: string[];
  line: number;
}

function parseRecords(text: string, file: string, format: 'tsv' | 'csv', quoting: boolean): ParsedRecord[] {
  let parsed: { record: string[]; raw: string; info: { lines: number } }[];
  try {
    parsed = parse(text, {
      delimiter: format === 'tsv' ? '\t' : ',',
      quote: quoting ? '"' : false,
      relax_column_count: true,
      skip_empty_lines: true,
      bom: true,
      info: true,
      raw: true,
    }) as never;
  } catch (error) {
    const line = (error as { lines?: number }).lines;
    throw inputError(`cannot parse ${format.toUpperCase()}: ${(error as Error).message}`, file, line, error);
  }
  return parsed.map(({ record, raw, info }) => ({ fields: record, line: info.lines - countNewlines(raw.replace(/\r?\n$/, '')) }));
}

function countNewlines(text: string): number {
  let count = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) count++;
  return count;
}

function columnIndex(column: Column, names: string[] | undefined, file: string): number {
  if (typeof column === 'number') return column;
  if (!names) throw inputError(`column "${column}" named, but the file has no header row (use a column index or header: true)`, file);
  const index = names.indexOf(column);
  if (index < 0) throw inputError(`no column "${column}" in the header (columns: ${names.join(', ')})`, file, 1);
  return index;
}

interface Columns {
  text: number;
  pair?: number;
  label: number;
}

/** The text fields of a row, or an error naming what is missing. */
function rowTexts(record: ParsedRecord, columns: Columns, file: string): { text: string; textPair?: string; label: string } {
  const needed = Math.max(columns.text, columns.pair ?? 0, columns.label) + 1;
  if (record.fields.length < needed) throw inputError(`expected at least ${needed} fields, found ${record.fields.length}`, file, record.line);
  const textPair = columns.pair === undefined ? undefined : record.fields[columns.pair];
  return { text: record.fields[columns.text], textPair, label: record.fields[columns.label].trim() };
}

function classificationRows(rows: ParsedRecord[], columns: Columns, file: string, options: DelimitedReadOptions, summary: LabeledSummary): LabeledDataset<ClassificationExample> {
  const parsed: { record: ParsedRecord; text: string; textPair?: string; label: string }[] = [];
  for (const record of rows) {
    summary.rows++;
    try {
      const row = rowTexts(record, columns, file);
      if (row.label.length === 0) throw inputError('empty label', file, record.line);
      if (options.labels && !options.labels.includes(row.label)) throw inputError(`unknown label "${row.label}" (expected one of: ${options.labels.join(', ')})`, file, record.line);
      parsed.push({ record, ...row });
    } catch (error) {
      rejectRow(error as never, options.skipInvalid, summary);
    }
  }
  const labels = labelMap(options.labels ?? [...new Set(parsed.map((p) => p.label))].sort());
  const examples = parsed.map(({ record, text, textPair, label }) => ({ id: `${path.basename(file)}:${record.line}`, text, ...(textPair !== undefined ? { textPair } : {}), label: labels.ids[label], labelName: label }));
  summary.examples = examples.length;
  return { file, examples, labels, summary };
}

function regressionRows(rows: ParsedRecord[], columns: Columns, file: string, options: DelimitedReadOptions, summary: LabeledSummary): RegressionExample[] {
  const examples: RegressionExample[] = [];
  for (const record of rows) {
    summary.rows++;
    try {
      const row = rowTexts(record, columns, file);
      const score = Number(row.label);
      if (row.label.length === 0 || !Number.isFinite(score)) throw inputError(`score "${row.label}" is not a number`, file, record.line);
      examples.push({ id: `${path.basename(file)}:${record.line}`, text: row.text, ...(row.textPair !== undefined ? { textPair: row.textPair } : {}), score });
    } catch (error) {
      rejectRow(error as never, options.skipInvalid, summary);
    }
  }
  summary.examples = examples.length;
  return examples;
}

/** Column layouts of the GLUE tasks as distributed (glue_data/<TASK>/{train,dev}.tsv). */
export const glueTasks = {
  sst2: { header: true, textColumn: 'sentence', labelColumn: 'label', labels: ['0', '1'] },
  cola: { header: false, textColumn: 3, labelColumn: 1, labels: ['0', '1'] },
  mrpc: { header: true, textColumn: '#1 String', textPairColumn: '#2 String', labelColumn: 'Quality', labels: ['0', '1'] },
  rte: { header: true, textColumn: 'sentence1', textPairColumn: 'sentence2', labelColumn: 'label', labels: ['entailment', 'not_entailment'] },
  stsb: { header: true, textColumn: 'sentence1', textPairColumn: 'sentence2', labelColumn: 'score', labelType: 'float' },
} as const satisfies Record<string, DelimitedReadOptions>;

export type GlueTask = keyof typeof glueTasks;

/** A GLUE task file with its known layout; `overrides` change any option (e.g. skipInvalid). */
export function readGlue(task: 'stsb', file: string, overrides?: Partial<DelimitedReadOptions>): LabeledDataset<RegressionExample>;
export function readGlue(task: Exclude<GlueTask, 'stsb'>, file: string, overrides?: Partial<DelimitedReadOptions>): LabeledDataset<ClassificationExample>;
export function readGlue(task: GlueTask, file: string, overrides: Partial<DelimitedReadOptions> = {}): DelimitedDataset {
  const preset = glueTasks[task] as DelimitedReadOptions | undefined;
  if (!preset) throw inputError(`unknown GLUE task "${task}" (known: ${Object.keys(glueTasks).join(', ')})`, file);
  return readDelimited(file, { ...preset, labels: preset.labels ? [...preset.labels] : undefined, ...overrides });
}
