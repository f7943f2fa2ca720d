import { optionsParser, z } from '@pretrain/core';

export const statedScoreOptionsSchema = z
  .object({
    /** The scale a stated score must be out of: "7/10" and "7 out of 10" with 10. */
    scale: z.number().int().min(2).max(100).default(10),
    /** Scores up to this are negative (label 0). */
    negativeAtMost: z.number().int().min(0).default(4),
    /** Scores from this on are positive (label 1); scores in between make a document unusable. */
    positiveAtLeast: z.number().int().min(1).default(7),
    /**
     * Windows are drawn at random from a pool of this many before they are yielded: a document's windows share
     * its label, and batches of consecutive windows would hold three or four documents' labels.
     */
    shuffleWindows: z.number().int().min(1).max(1_000_000).default(512),
    /**
     * Keep the two labels about equally common: a window of the label that has arrived more often so far is kept
     * with probability (other's arrivals + 1) / (own arrivals + 1). Most reviews that state a score are positive (about 4 in 5 windows
     * here), and a classifier can sit on that prior without learning anything.
     */
    balance: z.boolean().default(true),
    /** Per-example label field: 0 = negative, 1 = positive. */
    labelField: z.string().min(1).default('statedScoreLabel'),
  })
  .strict()
  .refine((o) => o.negativeAtMost < o.positiveAtLeast && o.positiveAtLeast <= o.scale, { message: 'need negativeAtMost < positiveAtLeast ≤ scale', path: ['positiveAtLeast'] });

export type StatedScoreOptions = z.infer<typeof statedScoreOptionsSchema>;

/** Options with every default filled in, for code that builds the objective directly. */
export const statedScoreOptions = optionsParser(statedScoreOptionsSchema);
