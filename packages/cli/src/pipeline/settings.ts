import { parseWithPath, z } from '@pretrain/core';

/** The `trainer:` section the CLI's training loop reads (unknown keys are an error naming the path). */
export const trainerSettingsSchema = z
  .object({
    maxSteps: z.number().int().positive().default(100),
    /** Fine-tuning: passes over the labeled set; when set, it decides the step count. */
    epochs: z.number().positive().optional(),
    batchSize: z.number().int().positive().default(16),
    maxLength: z.number().int().min(8).default(128),
    learningRate: z.number().positive().default(5e-4),
    warmupSteps: z.number().int().nonnegative().default(0),
    weightDecay: z.number().nonnegative().default(0.01),
    clipNorm: z.number().nonnegative().default(1),
    schedule: z.enum(['linear', 'cosine', 'constant']).default('linear'),
    logEvery: z.number().int().positive().default(10),
    evalEvery: z.number().int().positive().optional(),
    /** Stop cleanly after this many minutes (a checkpoint is still written). */
    timeBudgetMinutes: z.number().positive().optional(),
  })
  .strict();

export type TrainerSettings = z.output<typeof trainerSettingsSchema>;

export function parseTrainerSettings(raw: unknown, file?: string): TrainerSettings {
  return parseWithPath(trainerSettingsSchema, raw ?? {}, 'trainer', file);
}

/** One labeled file: delimited text (TSV/CSV) or JSONL, with the text and label picked by column/field. */
export const labeledFileSchema = z
  .object({
    path: z.string().min(1),
    format: z.enum(['tsv', 'csv', 'jsonl']).optional(),
    /** Column index (TSV/CSV) or field name (JSONL/with header) of the text. */
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
    /** Label names in id order; default: the sorted distinct labels of the training data. */
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
