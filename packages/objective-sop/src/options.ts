import { optionsParser, z } from '@pretrain/core';

export const sopOptionsSchema = z
  .object({
    /** Chance of a shorter random target length for a document (ALBERT: 0.1). */
    shortSeqProbability: z.number().min(0).max(1).default(0.1),
    /** Chance that the two segments are swapped (ALBERT: 0.5). */
    swapProbability: z.number().min(0).max(1).default(0.5),
    /** Per-example label field: 0 = original order, 1 = swapped (HF sentence_order_label). */
    labelField: z.string().min(1).default('sentenceOrderLabel'),
  })
  .strict();

export type SopOptions = z.infer<typeof sopOptionsSchema>;

/** Options with every default filled in, for code that builds the objective directly. */
export const sopOptions = optionsParser(sopOptionsSchema);
