import * as tf from '@tensorflow/tfjs-core';
import { headPlugin, optionsParser, z, type BackboneOutput, type BatchTensors, type TaskHeadContext, type TaskHeadForwardOptions, type TaskHeadPlugin, type TaskKind } from '@pretrain/core';
import { LinearHead, POOLINGS, pooled, pooledClassifierArchitecture, type Pooling } from './linear-head';
import { crossEntropy, labelField, meanSquaredError } from './losses';

export const sequenceClassificationOptionsSchema = z
  .object({
    numLabels: z.number().int().min(2).default(2),
    /** Label names by id (HF id2label); their count must equal numLabels. */
    labels: z.array(z.string()).optional(),
    /** HF classifier_dropout; default: the backbone's hidden dropout. */
    dropout: z.number().min(0).max(1).optional(),
    /**
     * 'pooler' (BERT's pooled [CLS], HF's choice for BERT), 'first' (the first token's hidden state),
     * 'mean' (mean over unpadded tokens) or 'last' (the last unpadded token, through a bias-free layer
     * named `score`: HF GPT2ForSequenceClassification). Default: the pooler on bidirectional
     * backbones, the last token on causal ones (what HF computes for each).
     */
    pooling: z.enum(POOLINGS).optional(),
    /** Batch field holding the integer labels. */
    labelField: z.string().default('labels'),
  })
  .strict()
  .refine((o) => !o.labels || o.labels.length === o.numLabels, { message: 'labels must list exactly numLabels names', path: ['labels'] });
export type SequenceClassificationOptions = z.input<typeof sequenceClassificationOptionsSchema>;
/** Options with every default filled in, for code that builds the head directly. */
export const sequenceClassificationOptions = optionsParser(sequenceClassificationOptionsSchema);

/**
 * What *ForSequenceClassification heads share: the pooling (given, or the backbone's HF default —
 * the pooler for bidirectional models, the last token for causal ones, as GPT2ForSequenceClassification),
 * the layer it implies (`score` without bias after last-token pooling, else `classifier`) and the
 * architecture the checkpoint claims.
 */
abstract class PooledHead extends LinearHead {
  readonly hfHead = { suffix: 'ForSequenceClassification' };
  protected pooling: Pooling;
  private modelType = 'bert';
  /** Cleared when the backbone gave no pooled output ('pooler' then falls back to the first token). */
  private poolerUsed = true;

  protected constructor(
    private readonly requestedPooling: Pooling | undefined,
    outFeatures: number,
    dropout: number | undefined,
  ) {
    super('classifier', outFeatures, dropout);
    this.pooling = requestedPooling ?? 'pooler';
  }

  protected override layerFor({ backbone }: TaskHeadContext): { name: string; bias: boolean } {
    this.pooling = this.requestedPooling ?? (backbone.info.attention === 'causal' ? 'last' : 'pooler');
    this.modelType = backbone.info.modelType;
    return this.pooling === 'last' ? { name: 'score', bias: false } : { name: 'classifier', bias: true };
  }

  /** pooled → dropout → Linear over the pooled states. */
  protected classify(output: BackboneOutput, options: TaskHeadForwardOptions): tf.Tensor2D {
    if (!output.pooledOutput) this.poolerUsed = false;
    return tf.tidy(() => this.project(pooled(output, this.pooling, options.attentionMask), options) as tf.Tensor2D);
  }

  protected architecture(): Record<string, unknown> {
    return pooledClassifierArchitecture(this.modelType, this.pooling, this.poolerUsed);
  }
}

/** HF *ForSequenceClassification: pooled → dropout → Linear(hidden, numLabels) named `classifier` (`score` for GPT-2). */
export class SequenceClassificationHead extends PooledHead implements TaskHeadPlugin {
  readonly task: TaskKind = 'sequence-classification';
  readonly numLabels: number;
  private readonly options: z.output<typeof sequenceClassificationOptionsSchema>;

  /** `options` as the plugin's schema parsed them (`sequenceClassificationOptions({...})` for direct use). */
  constructor(options: z.output<typeof sequenceClassificationOptionsSchema>) {
    super(options.pooling, options.numLabels, options.dropout);
    this.options = options;
    this.numLabels = options.numLabels;
  }

  /** [batch, numLabels] logits. */
  forward(output: BackboneOutput, options: TaskHeadForwardOptions): tf.Tensor2D {
    return this.classify(output, options);
  }

  loss(logits: tf.Tensor, batch: BatchTensors): tf.Scalar {
    const labels = labelField(batch, this.options.labelField, 'sequence-classification');
    return crossEntropy(logits as tf.Tensor2D, Int32Array.from(labels));
  }

  configJSON(): Record<string, unknown> {
    const names = this.options.labels ?? Array.from({ length: this.numLabels }, (_, i) => `LABEL_${i}`);
    return {
      ...this.architecture(),
      id2label: Object.fromEntries(names.map((n, i) => [String(i), n])),
      label2id: Object.fromEntries(names.map((n, i) => [n, i])),
      problem_type: 'single_label_classification',
      ...(this.options.dropout !== undefined ? { classifier_dropout: this.options.dropout } : {}),
    };
  }
}

export const regressionOptionsSchema = z
  .object({
    dropout: z.number().min(0).max(1).optional(),
    /** As for sequence classification; default: the pooler (bidirectional backbones) or the last token (causal ones). */
    pooling: z.enum(POOLINGS).optional(),
    /** Batch field holding the float targets. */
    labelField: z.string().default('labels'),
  })
  .strict();
export type RegressionOptions = z.input<typeof regressionOptionsSchema>;
/** Options with every default filled in, for code that builds the head directly. */
export const regressionOptions = optionsParser(regressionOptionsSchema);

/** HF *ForSequenceClassification with num_labels 1 (problem_type "regression"): one score, MSE loss. */
export class RegressionHead extends PooledHead implements TaskHeadPlugin {
  readonly task: TaskKind = 'sequence-regression';
  private readonly options: z.output<typeof regressionOptionsSchema>;

  /** `options` as the plugin's schema parsed them (`regressionOptions({...})` for direct use). */
  constructor(options: z.output<typeof regressionOptionsSchema>) {
    super(options.pooling, 1, options.dropout);
    this.options = options;
  }

  /** [batch, 1] scores (HF's logits shape). */
  forward(output: BackboneOutput, options: TaskHeadForwardOptions): tf.Tensor2D {
    return this.classify(output, options);
  }

  loss(scores: tf.Tensor, batch: BatchTensors): tf.Scalar {
    const targets = labelField(batch, this.options.labelField, 'regression');
    return tf.tidy(() => meanSquaredError(tf.reshape(scores, [-1]) as tf.Tensor1D, Float32Array.from(targets)));
  }

  configJSON(): Record<string, unknown> {
    return {
      ...this.architecture(),
      id2label: { '0': 'LABEL_0' },
      label2id: { LABEL_0: 0 },
      problem_type: 'regression',
      ...(this.options.dropout !== undefined ? { classifier_dropout: this.options.dropout } : {}),
    };
  }
}

export const sequenceClassificationPlugin = headPlugin(SequenceClassificationHead, {
  name: 'sequence-classification',
  description: 'pooled output → dropout → linear (HF classifier.*), cross-entropy loss',
  options: sequenceClassificationOptionsSchema,
});

export const regressionPlugin = headPlugin(RegressionHead, {
  name: 'regression',
  description: 'pooled output → dropout → linear to one score (HF classifier.*, num_labels 1), MSE loss',
  options: regressionOptionsSchema,
});
