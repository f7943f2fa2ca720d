import { parseWithPath, z } from '@pretrain/core';
import { trainerOptionsSchema, type TrainerOptions } from '@pretrain/trainer';

/** The `trainer:` section, validated by @pretrain/trainer's schema (errors name `trainer.<key>`). */
export function parseTrainerSettings(raw: unknown, file?: string): TrainerOptions {
  return parseWithPath(trainerOptionsSchema, raw ?? {}, 'trainer', file);
}

export type { TrainerOptions };

const column = z.union([z.string(), z.number().int().nonnegative()]);

/**
 * One labeled file, read by @pretrain/corpus's readers: delimited text (TSV/CSV, a real CSV parser:
 * quoted commas and multi-line fields), JSONL, CoNLL columns (token classification) or SQuAD v1.1
 * JSON (question answering). The format defaults from the task and the file extension.
 */
export const labeledFileSchema = z
  .object({
    path: z.string().min(1),
    format: z.enum(['tsv', 'csv', 'jsonl', 'conll', 'squad']).optional(),
    /** Column index or header name (TSV/CSV), or field name (JSONL), of the text. Default 0 / "text". */
    text: column.optional(),
    /** The second text of a pair (MRPC, STS-B, RTE...). */
    textPair: column.optional(),
    /** Column or field of the label (a class name, or a number for regression). Default 1 / "label". */
    label: column.optional(),
    /** TSV/CSV: the first row names the columns. Default: true when a column is given by name. */
    header: z.boolean().optional(),
    /** TSV/CSV: honour double quotes. Default: true for CSV, false for TSV (GLUE's TSVs have stray quotes). */
    quoting: z.boolean().optional(),
    /** CoNLL: column of the word (0-based). Default 0. */
    tokenColumn: z.number().int().nonnegative().optional(),
    /** CoNLL: column of the tag (0-based; negative counts from the end). Default -1 (CoNLL-2003 NER). */
    tagColumn: z.number().int().optional(),
    /** CoNLL: `iob` (entity tags, IOB1 converted to IOB2) or `plain` (POS, chunks: kept as written). Default: iob when every tag is O/B-X/I-X. */
    tagFormat: z.enum(['iob', 'plain']).optional(),
    /** Skip (and count) malformed rows instead of stopping at the first. */
    skipInvalid: z.boolean().default(false),
  })
  .strict();

/** The `data:` section for fine-tuning, evaluation and prediction. */
export const dataSchema = z
  .object({
    train: z.union([labeledFileSchema, z.array(labeledFileSchema)]).optional(),
    validation: z.union([labeledFileSchema, z.array(labeledFileSchema)]).optional(),
    test: z.union([labeledFileSchema, z.array(labeledFileSchema)]).optional(),
    /** Without a validation file: hold out this fraction of train (deterministic for the seed). */
    validationFraction: z.number().gt(0).lt(1).default(0.2),
    /** Label (or tag) names in id order; default: head.options.labels, else the labels of the data. */
    labels: z.array(z.string()).optional(),
    /** Fine-tune on only the first N (shuffled) training examples: the labeled-set size. */
    limit: z.number().int().positive().optional(),
    /** Question answering: context tokens shared by consecutive windows of a long context. Default min(128, a quarter of trainer.maxLength). */
    stride: z.number().int().nonnegative().optional(),
    /** Question answering: longest answer, in tokens. */
    maxAnswerLength: z.number().int().positive().default(30),
    /** Question answering: candidate spans kept per question. */
    nBest: z.number().int().positive().default(20),
  })
  .strict();

export type DataSettings = z.output<typeof dataSchema>;
export type LabeledFile = z.output<typeof labeledFileSchema>;

export function parseDataSettings(raw: unknown, file?: string): DataSettings {
  return parseWithPath(dataSchema, raw ?? {}, 'data', file);
}
