import { optionsParser, z } from '@pretrain/core';

export const mlmOptionsSchema = z
  .object({
    /** Share of maskable tokens selected for prediction (BERT: 0.15). */
    maskProbability: z.number().gt(0).lt(1).default(0.15),
    /** Share of selected tokens replaced by [MASK] (BERT: 0.8). */
    maskTokenProbability: z.number().min(0).max(1).default(0.8),
    /** Share of selected tokens replaced by a random token (BERT: 0.1); the rest stay unchanged. */
    randomTokenProbability: z.number().min(0).max(1).default(0.1),
    /** 'dynamic': a new mask every time an example is seen (RoBERTa); 'static': one fixed mask per example. */
    masking: z.enum(['dynamic', 'static']).default('dynamic'),
    /** Seed of the static masks (only with masking: 'static'). */
    staticSeed: z.number().int().nonnegative().default(0),
    /** Mask all pieces of a word together, using the batch's word ids. */
    wholeWordMasking: z.boolean().default(false),
    /** Cap on predictions per sequence (BERT's max_predictions_per_seq); 0 = none. */
    maxPredictionsPerSequence: z.number().int().nonnegative().default(0),
    /** Build the examples too (RoBERTa FULL-SENTENCES packing); off when another objective (NSP) builds them. */
    buildExamples: z.boolean().default(false),
    /** Separator token between documents when building examples. */
    separateDocuments: z.boolean().default(true),
    /** Batch field names this objective writes and reads. */
    labelField: z.string().min(1).default('mlmLabels'),
    positionsField: z.string().min(1).default('mlmPositions'),
  })
  .strict()
  .refine((o) => o.maskTokenProbability + o.randomTokenProbability <= 1, {
    message: 'maskTokenProbability + randomTokenProbability must not exceed 1',
    path: ['randomTokenProbability'],
  });

export type MlmOptions = z.infer<typeof mlmOptionsSchema>;

/** Options with every default filled in, for code that builds the objective directly. */
export const mlmOptions = optionsParser(mlmOptionsSchema);
