import * as tf from '@tensorflow/tfjs-core';
import { definePlugin, z, type BackboneOutput, type BatchTensors, type TaskHeadContext, type TaskHeadForwardOptions, type TaskHeadPlugin, type TaskKind } from '@pretrain/core';
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
     * named `score`: HF GPT2ForSequenceClassification).
     */
    pooling: z.enum(POOLINGS).default('pooler'),
    /** Batch field holding the integer labels. */
    labelField: z.string().default('labels'),
  })
  .strict()
  .refine((o) => !o.labels || o.labels.length === o.numLabels, { message: 'labels must list exactly numLabels names', path: ['labels'] });
export type SequenceClassificationOptions = z.input<typeof sequenceClassificationOptionsSchema>;

/** The classifier layer's HF name: GPT-2's last-token classifier is `score` (bias-free), BERT's `classifier`. */
function classifierLayerName(pooling: Pooling): string {
  return pooling === 'last' ? 'score' : 'classifier';
}

/** HF *ForSequenceClassification: pooled → dropout → Linear(hidden, numLabels) named `classifier`. */
export class SequenceClassificationHead extends LinearHead implements TaskHeadPlugin {
  readonly task: TaskKind = 'sequence-classification';
  readonly hfHead = { suffix: 'ForSequenceClassification' };
  readonly numLabels: number;
  private readonly options: z.output<typeof sequenceClassificationOptionsSchema>;
  private modelType = 'bert';
  /** Cleared when the backbone gave no pooled output ('pooler' then falls back to the first token). */
  private poolerUsed = true;

  constructor(options: SequenceClassificationOptions = {}) {
    const parsed = sequenceClassificationOptionsSchema.parse(options);
    super(classifierLayerName(parsed.pooling), parsed.numLabels, parsed.dropout, parsed.pooling !== 'last');
    this.options = parsed;
    this.numLabels = parsed.numLabels;
  }

  protected override afterInit({ backbone }: TaskHeadContext): void {
    this.modelType = backbone.info.modelType;
  }

  /** [batch, numLabels] logits. */
  forward(output: BackboneOutput, options: TaskHeadForwardOptions): tf.Tensor2D {
    if (!output.pooledOutput) this.poolerUsed = false;
    return tf.tidy(() => this.project(pooled(output, this.options.pooling, options.attentionMask), options) as tf.Tensor2D);
  }

  loss(logits: tf.Tensor, batch: BatchTensors): tf.Scalar {
    const labels = labelField(batch, this.options.labelField, 'sequence-classification');
    return crossEntropy(logits as tf.Tensor2D, Int32Array.from(labels));
  }

  configJSON(): Record<string, unknown> {
    const names = this.options.labels ?? Array.from({ length: this.numLabels }, (_, i) => `LABEL_${i}`);
    return {
      ...pooledClassifierArchitecture(this.modelType, this.options.pooling, this.poolerUsed),
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
    pooling: z.enum(POOLINGS).default('pooler'),
    /** Batch field holding the float targets. */
    labelField: z.string().default('labels'),
  })
  .strict();
export type RegressionOptions = z.input<typeof regressionOptionsSchema>;

/** HF *ForSequenceClassification with num_labels 1 (problem_type "regression"): one score, MSE loss. */
export class RegressionHead extends LinearHead implements TaskHeadPlugin {
  readonly task: TaskKind = 'sequence-regression';
  readonly hfHead = { suffix: 'ForSequenceClassification' };
  private readonly options: z.output<typeof regressionOptionsSchema>;
  private modelType = 'bert';
  /** Cleared when the backbone gave no pooled output ('pooler' then falls back to the first token). */
  private poolerUsed = true;

  constructor(options: RegressionOptions = {}) {
    const parsed = regressionOptionsSchema.parse(options);
    super(classifierLayerName(parsed.pooling), 1, parsed.dropout, parsed.pooling !== 'last');
    this.options = parsed;
  }

  protected override afterInit({ backbone }: TaskHeadContext): void {
    this.modelType = backbone.info.modelType;
  }

  /** [batch, 1] scores (HF's logits shape). */
  forward(output: BackboneOutput, options: TaskHeadForwardOptions): tf.Tensor2D {
    if (!output.pooledOutput) this.poolerUsed = false;
    return tf.tidy(() => this.project(pooled(output, this.options.pooling, options.attentionMask), options) as tf.Tensor2D);
  }

  loss(scores: tf.Tensor, batch: BatchTensors): tf.Scalar {
    const targets = labelField(batch, this.options.labelField, 'regression');
    return tf.tidy(() => meanSquaredError(tf.reshape(scores, [-1]) as tf.Tensor1D, Float32Array.from(targets)));
  }

  configJSON(): Record<string, unknown> {
    return {
      ...pooledClassifierArchitecture(this.modelType, this.options.pooling, this.poolerUsed),
      id2label: { '0': 'LABEL_0' },
      label2id: { LABEL_0: 0 },
      problem_type: 'regression',
      ...(this.options.dropout !== undefined ? { classifier_dropout: this.options.dropout } : {}),
    };
  }
}

export const sequenceClassificationPlugin = definePlugin({
  kind: 'head',
  name: 'sequence-classification',
  description: 'pooled output → dropout → linear (HF classifier.*), cross-entropy loss',
  options: sequenceClassificationOptionsSchema,
  create: (options) => new SequenceClassificationHead(options),
});

export const regressionPlugin = definePlugin({
  kind: 'head',
  name: 'regression',
  description: 'pooled output → dropout → linear to one score (HF classifier.*, num_labels 1), MSE loss',
  options: regressionOptionsSchema,
  create: (options) => new RegressionHead(options),
});
