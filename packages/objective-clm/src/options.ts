import { optionsParser, z } from '@pretrain/core';

export const clmOptionsSchema = z
  .object({
    /** Tokens per training block; 0 = the run's maxLength (the model's context). */
    blockSize: z.number().int().nonnegative().default(0),
    /** Token placed between documents; default: the tokenizer's eos (GPT-2 <|endoftext|>), else bos, else [SEP]. */
    separatorToken: z.string().min(1).optional(),
    /** Drop the final partial block (HF run_clm's group_texts does); false keeps it, shorter. */
    dropRemainder: z.boolean().default(true),
    /** Optional per-token label field (HF convention, unshifted, -100 = ignore); default: the input ids. */
    labelField: z.string().min(1).default('clmLabels'),
  })
  .strict();

export type ClmOptions = z.infer<typeof clmOptionsSchema>;

/** Options with every default filled in, for code that builds the objective directly. */
export const clmOptions = optionsParser(clmOptionsSchema);
