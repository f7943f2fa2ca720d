import { optionsParser, z } from '@pretrain/core';

export const contextBowOptionsSchema = z
  .object({
    /** Tokens on each side of a window, in the same document, whose words the window predicts. */
    radius: z.number().int().min(1).max(100_000).default(128),
    /** Words drawn from the context per window (at most the window's own length, specials included). */
    targetsPerWindow: z.number().int().min(1).max(4096).default(32),
    /** Documents with fewer tokens are skipped: two windows and their contexts need some text. */
    minDocumentTokens: z.number().int().min(2).default(8),
    /**
     * word2vec's subsampling threshold t for the drawn words: a token seen with frequency f (counted over the
     * documents built so far) is kept with probability min(1, sqrt(t / f)); 0 keeps every draw. Frequent
     * tokens ("the", ".") say little about a document.
     */
    subsample: z.number().min(0).max(1).default(0),
    /**
     * What predicts the context words: 'hidden' the mean of the window's last hidden states (what a mean-pooling
     * classifier reads), 'embeddings' the mean of its word embeddings (a bag-of-words model over the tied
     * embedding matrix, as word2vec's CBOW with a document-wide window).
     */
    pool: z.enum(['hidden', 'embeddings']).default('hidden'),
    /** Per-token field the builder writes the drawn context words to (-100 where none). */
    targetField: z.string().min(1).default('contextBowTargets'),
  })
  .strict();

export type ContextBowOptions = z.infer<typeof contextBowOptionsSchema>;

/** Options with every default filled in, for code that builds the objective directly. */
export const contextBowOptions = optionsParser(contextBowOptionsSchema);
