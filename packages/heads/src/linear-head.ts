import * as tf from '@tensorflow/tfjs-core';
import { dropout, headPath, maskedMean, normalTensor, PretrainError, ParameterSet, ParameterSetModule, type BackboneOutput, type LoadReport, type TaskHeadContext } from '@pretrain/core';

/**
 * One Linear layer stored as HF names `<prefix>.weight` / `<prefix>.bias` (no bias for HF layers
 * built with bias=False, such as GPT2ForSequenceClassification's `score`) in a core ParameterSet:
 * the weight is kept [in, out] so the forward is a plain matmul (the fast path) and exchanged as
 * HF's [out, in]. The set owns every name, so a checkpoint's other tensors are reported unexpected.
 */
export abstract class LinearHead extends ParameterSetModule {
  protected dropoutRate = 0;

  protected constructor(
    private prefix: string,
    private readonly outFeatures: number,
    private readonly classifierDropout: number | undefined,
    private withBias = true,
  ) {
    super(new ParameterSet(['']));
  }

  /** HF _init_weights: weight ~ N(0, initializer_range), bias 0. */
  init({ backbone, rng }: TaskHeadContext): void {
    if (this.variables().size > 0) throw new PretrainError(`${this.prefix} head: init() called twice`, { path: headPath() });
    const layer = this.layerFor?.({ backbone, rng });
    if (layer) ({ name: this.prefix, bias: this.withBias } = layer);
    this.parameters.add(`${this.prefix}.weight`, normalTensor([backbone.info.hiddenSize, this.outFeatures], backbone.info.initializerRange, rng), 'linear');
    if (this.withBias) this.parameters.add(`${this.prefix}.bias`, tf.zeros([this.outFeatures]));
    this.dropoutRate = this.classifierDropout ?? backbone.info.hiddenDropoutProb;
    this.afterInit?.({ backbone, rng });
  }

  protected afterInit?(context: TaskHeadContext): void;

  /** The layer's HF name and whether it has a bias, where they depend on the backbone (decided at init). */
  protected layerFor?(context: TaskHeadContext): { name: string; bias: boolean };

  override stateDict(): Map<string, tf.Tensor> {
    this.initialized();
    return super.stateDict();
  }

  override loadStateDict(tensors: Map<string, tf.Tensor>): LoadReport {
    this.initialized();
    try {
      return super.loadStateDict(tensors);
    } catch (error) {
      throw new PretrainError(`${(error as Error).message} (num_labels or hidden size differ)`, { path: headPath('numLabels'), cause: error });
    }
  }

  /** dropout (training only) → x·W + b over the last axis. */
  protected project(x: tf.Tensor, options: { training: boolean; dropoutSeed?: number }): tf.Tensor {
    const { weight, bias } = this.initialized();
    const dropped = options.training ? dropout(x, this.dropoutRate, options.dropoutSeed) : x;
    const shape = dropped.shape;
    const flat = tf.reshape(dropped, [-1, shape[shape.length - 1]]);
    const product = tf.matMul(flat, weight);
    const out = bias ? tf.add(product, bias) : product;
    return tf.reshape(out, [...shape.slice(0, -1), this.outFeatures]);
  }

  /** The layer's variables (ParameterSet.get says "was init() called?" before init). */
  protected initialized(): { weight: tf.Variable; bias?: tf.Variable } {
    const weight = this.parameters.get(`${this.prefix}.weight`);
    return { weight, bias: this.withBias ? this.parameters.get(`${this.prefix}.bias`) : undefined };
  }
}

/** HF class-name stem for a model type: bert → Bert, gpt2 → GPT2. */
export function architecturePrefix(modelType: string): string {
  const known: Record<string, string> = { bert: 'Bert', gpt2: 'GPT2', roberta: 'Roberta', distilbert: 'DistilBert', electra: 'Electra' };
  return known[modelType] ?? modelType.charAt(0).toUpperCase() + modelType.slice(1);
}

export const POOLINGS = ['pooler', 'first', 'mean', 'last'] as const;
export type Pooling = (typeof POOLINGS)[number];

/**
 * The pooled representation: 'pooler' is the pooler output where the backbone has one (else the first
 * token's state), 'first' the first token's state, 'mean' the mean over the tokens the attention mask
 * keeps (every position when no mask is given), 'last' the last token the mask keeps (HF
 * GPT2ForSequenceClassification: the token before the first padding; batches are right-padded).
 */
export function pooled(output: BackboneOutput, pooling: Pooling, attentionMask?: tf.Tensor2D): tf.Tensor2D {
  if (pooling === 'pooler' && output.pooledOutput) return output.pooledOutput;
  const [batch, seq, hidden] = output.sequenceOutput.shape;
  if (pooling === 'mean') return maskedMean(output.sequenceOutput, attentionMask ?? tf.ones([batch, seq]));
  if (pooling === 'last') return lastKept(output.sequenceOutput, attentionMask ?? tf.ones([batch, seq]));
  return tf.reshape(tf.slice(output.sequenceOutput, [0, 0, 0], [batch, 1, hidden]), [batch, hidden]);
}

function lastKept(states: tf.Tensor3D, attentionMask: tf.Tensor2D): tf.Tensor2D {
  const seq = states.shape[1];
  const kept = tf.sum(tf.cast(attentionMask, 'int32'), 1);
  const lastIndex = tf.maximum(tf.sub(kept, tf.scalar(1, 'int32')), tf.scalar(0, 'int32')) as tf.Tensor1D;
  const pick = tf.expandDims(tf.oneHot(lastIndex, seq, 1, 0, 'float32'), 2);
  return tf.sum(tf.mul(states, pick), 1) as tf.Tensor2D;
}

/**
 * config.json `architectures` (and, where HF would compute something else, the marks that make it
 * refuse) of a pooled classifier. HF's BertForSequenceClassification classifies the pooler output;
 * 'mean' or 'first' pooling, a BERT without pooler, or a GPT-2 (HF: last token, `score` layer) are not
 * that model. Such a checkpoint gets a model_type transformers does not know, so AutoConfig /
 * AutoModel* refuse to load it instead of silently computing different logits.
 */
export function pooledClassifierArchitecture(modelType: string, pooling: Pooling, poolerUsed: boolean): Record<string, unknown> {
  const stem = architecturePrefix(modelType);
  if (modelType === 'bert' && pooling === 'pooler' && poolerUsed) return { architectures: [`${stem}ForSequenceClassification`] };
  if (modelType === 'gpt2' && pooling === 'last') return { architectures: [`${stem}ForSequenceClassification`] };
  const how = pooling === 'mean' ? 'mean' : pooling === 'last' ? 'last-token' : 'first-token';
  const what = { mean: "mean of the unpadded tokens' last hidden states", 'last-token': "last unpadded token's last hidden state", 'first-token': "first token's last hidden state" }[how];
  return {
    architectures: [`Pretrain${stem}ForSequenceClassificationWith${{ mean: 'Mean', 'last-token': 'LastToken', 'first-token': 'FirstToken' }[how]}Pooling`],
    model_type: `pretrain-${modelType}-${how}-pooling`,
    pretrain_model_type: modelType,
    pretrain_pooling: how,
    pretrain_note: `classifies the ${what}, which no HF ${stem}ForSequenceClassification computes; the model_type is marked so that transformers refuses it (load it with pretrain, or see docs/guides/scale-out.md)`,
  };
}
