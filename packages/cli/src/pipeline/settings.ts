import { parseWithPath, z } from '@pretrain/core';
import { trainerOptionsSchema, type TrainerOptions } from '@pretrain/trainer';

/** The `trainer:` section, validated by @pretrain/trainer's schema (errors name `trainer.<key>`). */
export function parseTrainerSettings(raw: unknown, file?: string): TrainerOptions {
  return parseWithPath(trainerOptionsSchema, raw ?? {}, 'trainer', file);
}

export type { TrainerOptions };

/** One labeled file: delimited text (TSV/CSV) or JSONL, with the text and label picked by column/field. */
export const labeledFileSchema = z
  .object({
    path: z.string().min(1),
    format: z.enum(['tsv', 'csv', 'jsonl']).optional(),
    /** Column index (TSV/CSV) or field name (JSONL / with header) of the text. */
    text: z.union([z.string(), z.number().int().nonnegative()]).default(0),
    /** Column index or field name of the label. */
    label: z.union([z.string(), z.number().int().nonnegative()]).default(1),
    header: z.boolean().default(false),
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
    /** Label names in id order; default: the sorted distinct labels of the data. */
    labels: z.array(z.string()).optional(),
    /** Fine-tune on only the first N (shuffled) training examples: the labeled-set size. */
    limit: z.number().int().positive().optional(),
  })
  .strict();

export type DataSettings = z.output<typeof dataSchema>;
export type LabeledFile = z.output<typeof labeledFileSchema>;

export function parseDataSettings(raw: unknown, file?: string): DataSettings {
  return parseWithPath(dataSchema, raw ?? {}, 'data', file);
}
