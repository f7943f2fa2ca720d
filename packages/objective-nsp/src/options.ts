import { optionsParser, z } from '@pretrain/core';

export const nspOptionsSchema = z
  .object({
    /** Chance of a shorter random target length for a document (BERT: 0.1). */
    shortSeqProbability: z.number().min(0).max(1).default(0.1),
    /** Chance that B comes from another document (BERT: 0.5). */
    randomNextProbability: z.number().min(0).max(1).default(0.5),
    /** Passes over each pool of documents with fresh randomness (BERT's dupe_factor). */
    dupeFactor: z.number().int().positive().default(1),
    /** Documents held in memory at once; random B segments come from the same pool. */
    documentPoolSize: z.number().int().min(2).default(1000),
    shuffle: z.boolean().default(true),
    /** Per-example label field: 0 = B continues A, 1 = random B (HF next_sentence_label). */
    labelField: z.string().min(1).default('nextSentenceLabel'),
  })
  .strict();

export type NspOptions = z.infer<typeof nspOptionsSchema>;

/** Options with every default filled in, for code that builds the objective directly. */
export const nspOptions = optionsParser(nspOptionsSchema);
