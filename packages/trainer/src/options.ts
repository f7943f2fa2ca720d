import { z } from '@pretrain/core';

/** Fine-tuning strategies: which parameters train, and how that changes over the run. */
export const strategySchema = z.discriminatedUnion('type', [
  /** Every parameter trains. */
  z.object({ type: z.literal('full') }).strict(),
  /** Only the head (or objective heads) train; the backbone is a fixed feature extractor. */
  z.object({ type: z.literal('frozen-backbone') }).strict(),
  /** Embeddings and the first `layers` transformer layers stay fixed. */
  z.object({ type: z.literal('freeze-layers'), layers: z.number().int().nonnegative() }).strict(),
  /**
   * ULMFiT-style: start with only the head (and pooler / final norm) trainable, then unfreeze one
   * more layer group from the top every `every` epochs (or steps), down to the embeddings.
   */
  z
    .object({
      type: z.literal('gradual-unfreezing'),
      every: z.number().int().positive().default(1),
      unit: z.enum(['epoch', 'step']).default('epoch'),
    })
    .strict(),
]);
export type Strategy = z.output<typeof strategySchema>;

/**
 * The config's `trainer` section. The CLI validates it with
 * `parseWithPath(trainerOptionsSchema, config.trainer, 'trainer', file)`.
 */
export const trainerOptionsSchema = z
  .object({
    /** Checkpoints, metrics.jsonl and best/ go here; without it nothing is written to disk. */
    outputDir: z.string().optional(),
    /** Seeds shuffling, dropout, masking and head init; defaults to the experiment seed. */
    seed: z.number().int().nonnegative().optional(),
    batchSize: z.number().int().positive().default(32),
    evalBatchSize: z.number().int().positive().optional(),
    gradientAccumulationSteps: z.number().int().positive().default(1),
    /** Stop after this many optimizer steps. */
    maxSteps: z.number().int().positive().optional(),
    /** Passes over the training data (default 1 when maxSteps is unset). */
    epochs: z.number().int().positive().optional(),
    /** Stop (with a checkpoint) once this much wall-clock time has been spent training. */
    maxWallClockSeconds: z.number().positive().optional(),
    /** Longest example the example builder makes (pre-training). */
    maxLength: z.number().int().positive().default(128),
    padToMultipleOf: z.number().int().positive().optional(),
    learningRate: z.number().positive().default(5e-5),
    weightDecay: z.number().min(0).default(0.01),
    adamBeta1: z.number().min(0).lt(1).default(0.9),
    adamBeta2: z.number().min(0).lt(1).default(0.999),
    adamEpsilon: z.number().positive().default(1e-8),
    /** Regexes (over checkpoint tensor names) of parameters without weight decay; default: biases and LayerNorm weights. */
    noDecay: z.array(z.string()).optional(),
    schedule: z.enum(['linear', 'cosine', 'constant']).default('linear'),
    warmupSteps: z.number().int().nonnegative().default(0),
    /** Fraction of the total steps used for warmup (HF warmup_ratio); warmupSteps wins when both are set. */
    warmupRatio: z.number().min(0).max(1).optional(),
    /** Clip gradients to this global L2 norm; null disables clipping. */
    maxGradNorm: z.number().positive().nullable().default(1),
    strategy: strategySchema.default({ type: 'full' }),
    /** Layer-wise LR decay: parameters at depth d get lr · decay^(numLayers + 1 − d); heads get lr. */
    layerwiseLrDecay: z.number().gt(0).max(1).optional(),
    logEverySteps: z.number().int().positive().default(10),
    /** Evaluate every N optimizer steps (needs validation data); evaluation also runs at each epoch end. */
    evalEverySteps: z.number().int().positive().optional(),
    evalEachEpoch: z.boolean().default(true),
    saveEverySteps: z.number().int().positive().optional(),
    saveEachEpoch: z.boolean().default(true),
    /** Periodic checkpoints kept on disk (the best one is always kept as well). */
    keepCheckpoints: z.number().int().positive().default(2),
    /** Evaluation metric that picks the best checkpoint and drives early stopping. */
    metricForBest: z.string().default('loss'),
    /** Default: false for losses, perplexity and error metrics (mse, mae, rmse), else true. */
    greaterIsBetter: z.boolean().optional(),
    /** Stop after this many evaluations without improvement of metricForBest. */
    earlyStoppingPatience: z.number().int().positive().optional(),
    earlyStoppingThreshold: z.number().min(0).default(0),
    progress: z.enum(['auto', 'bar', 'plain', 'none']).default('auto'),
    /** true: continue from the newest checkpoint in outputDir (start fresh if none); a path: that checkpoint. */
    resume: z.union([z.boolean(), z.string()]).default(false),
  })
  .strict();

export type TrainerOptions = z.output<typeof trainerOptionsSchema>;
export type TrainerOptionsInput = z.input<typeof trainerOptionsSchema>;

export function greaterIsBetter(options: Pick<TrainerOptions, 'metricForBest' | 'greaterIsBetter'>): boolean {
  if (options.greaterIsBetter !== undefined) return options.greaterIsBetter;
  return !/loss|perplexity|^(eval_)?r?m[sa]e$/i.test(options.metricForBest);
}
