import { optionsParser, z } from '@pretrain/core';

export const electraOptionsSchema = z
  .object({
    /** Share of maskable tokens the generator re-predicts (ELECTRA: 15%; every one becomes the mask token). */
    maskProbability: z.number().gt(0).lt(1).default(0.15),
    /** Weight of the generator's masked-LM loss. */
    generatorWeight: z.number().min(0).default(1),
    /** Weight of the discriminator's replaced-token loss (ELECTRA's λ = 50). */
    discriminatorWeight: z.number().gt(0).default(50),
    /** Temperature of the generator's sampling (1 = its softmax). */
    samplingTemperature: z.number().gt(0).default(1),
    /** Put a separator between documents when packing sentences. */
    separateDocuments: z.boolean().default(true),
  })
  .strict();

export type ElectraOptions = z.output<typeof electraOptionsSchema>;

/** Options with every default filled in, for code that builds the objective directly. */
export const electraOptions = optionsParser(electraOptionsSchema);
