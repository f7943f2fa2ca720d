import * as tf from '@tensorflow/tfjs-core';
import type { BackboneOutput, LoadReport, NamedVariables, TaskHeadContext } from '@pretrain/core';

/**
 * One Linear layer stored as HF names `<prefix>.weight` / `<prefix>.bias`. Internally the weight is
 * kept [in, out] so the forward is a plain matmul (the fast path); stateDict/loadStateDict convert
 * to and from HF's [out, in].
 */
export abstract class LinearHead {
  private weight?: tf.Variable;
  private bias?: tf.Variable;
  protected dropoutRate = 0;

  protected constructor(
    private readonly prefix: string,
    private readonly outFeatures: number,
    private readonly classifierDropout: number | undefined,
  ) {}

  /** HF _init_weights: weight ~ N(0, initializer_range), bias 0. */
  init({ backbone, rng }: TaskHeadContext): void {
    if (this.weight) throw new Error(`${this.prefix} head: init() called twice`);
    const inFeatures = backbone.info.hiddenSize;
    const std = backbone.info.initializerRange;
    const values = new Float32Array(inFeatures * this.outFeatures);
    for (let i = 0; i < values.length; i++) values[i] = rng.normal() * std;
    this.weight = ownedVariable(tf.tensor2d(values, [inFeatures, this.outFeatures]), `${this.prefix}.weight`);
    this.bias = ownedVariable(tf.zeros([this.outFeatures]), `${this.prefix}.bias`);
    this.dropoutRate = this.classifierDropout ?? backbone.info.hiddenDropoutProb;
    this.afterInit?.({ backbone, rng });
  }

  protected afterInit?(context: TaskHeadContext): void;

  variables(): NamedVariables {
    if (!this.weight || !this.bias) return new Map();
    return new Map([
      [`${this.prefix}.weight`, this.weight],
      [`${this.prefix}.bias`, this.bias],
    ]);
  }

  stateDict(): Map<string, tf.Tensor> {
    const { weight, bias } = this.initialized();
    return new Map([
      [`${this.prefix}.weight`, tf.transpose(weight)],
      [`${this.prefix}.bias`, tf.clone(bias)],
    ]);
  }

  loadStateDict(tensors: Map<string, tf.Tensor>): LoadReport {
    const { weight, bias } = this.initialized();
    const missing: string[] = [];
    const w = tensors.get(`${this.prefix}.weight`);
    const b = tensors.get(`${this.prefix}.bias`);
    if (w) {
      const expected = [weight.shape[1], weight.shape[0]];
      if (w.shape.length !== 2 || w.shape[0] !== expected[0] || w.shape[1] !== expected[1]) {
        throw new Error(`${this.prefix}.weight: checkpoint has shape [${w.shape}], the head expects [${expected}] (num_labels or hidden size differ)`);
      }
      tf.tidy(() => weight.assign(tf.transpose(tf.cast(w, 'float32'))));
    } else missing.push(`${this.prefix}.weight`);
    if (b) {
      if (b.shape.length !== 1 || b.shape[0] !== bias.shape[0]) throw new Error(`${this.prefix}.bias: checkpoint has shape [${b.shape}], the head expects [${bias.shape}]`);
      tf.tidy(() => bias.assign(tf.cast(b, 'float32')));
    } else missing.push(`${this.prefix}.bias`);
    const unexpected = [...tensors.keys()].filter((k) => k !== `${this.prefix}.weight` && k !== `${this.prefix}.bias`);
    return { missing, unexpected };
  }

  dispose(): void {
    this.weight?.dispose();
    this.bias?.dispose();
    this.weight = undefined;
    this.bias = undefined;
  }

  /** dropout (training only) → x·W + b over the last axis. */
  protected project(x: tf.Tensor, options: { training: boolean; dropoutSeed?: number }): tf.Tensor {
    const { weight, bias } = this.initialized();
    const dropped = options.training && this.dropoutRate > 0 ? tf.dropout(x, this.dropoutRate, undefined, options.dropoutSeed) : x;
    const shape = dropped.shape;
    const flat = tf.reshape(dropped, [-1, shape[shape.length - 1]]);
    const out = tf.add(tf.matMul(flat, weight), bias);
    return tf.reshape(out, [...shape.slice(0, -1), this.outFeatures]);
  }

  protected initialized(): { weight: tf.Variable; bias: tf.Variable } {
    if (!this.weight || !this.bias) throw new Error(`${this.prefix} head used before init({ backbone, rng })`);
    return { weight: this.weight, bias: this.bias };
  }
}

/** A trainable variable with `initial`'s values; `initial` is disposed so nothing outlives the variable. */
function ownedVariable(initial: tf.Tensor, name: string): tf.Variable {
  const variable = tf.variable(initial, true, `${name}#${++variableCounter}`);
  initial.dispose();
  return variable;
}
let variableCounter = 0;

/** HF class-name stem for a model type: bert → Bert, gpt2 → GPT2. */
export function architecturePrefix(modelType: string): string {
  const known: Record<string, string> = { bert: 'Bert', gpt2: 'GPT2', roberta: 'Roberta', distilbert: 'DistilBert', electra: 'Electra' };
  return known[modelType] ?? modelType.charAt(0).toUpperCase() + modelType.slice(1);
}

export const POOLINGS = ['pooler', 'first', 'mean'] as const;
export type Pooling = (typeof POOLINGS)[number];

/**
 * The pooled representation: 'pooler' is the pooler output where the backbone has one (else the first
 * token's state), 'first' the first token's state, 'mean' the mean over the tokens the attention mask
 * keeps (every position when no mask is given).
 */
export function pooled(output: BackboneOutput, pooling: Pooling, attentionMask?: tf.Tensor2D): tf.Tensor2D {
  if (pooling === 'pooler' && output.pooledOutput) return output.pooledOutput;
  const [batch, seq, hidden] = output.sequenceOutput.shape;
  if (pooling === 'mean') return maskedMean(output.sequenceOutput, attentionMask ?? tf.ones([batch, seq]));
  return tf.reshape(tf.slice(output.sequenceOutput, [0, 0, 0], [batch, 1, hidden]), [batch, hidden]);
}

function maskedMean(states: tf.Tensor3D, attentionMask: tf.Tensor2D): tf.Tensor2D {
  const weights = tf.expandDims(tf.cast(attentionMask, 'float32'), 2);
  const counts = tf.maximum(tf.sum(weights, 1), 1);
  return tf.div(tf.sum(tf.mul(states, weights), 1), counts) as tf.Tensor2D;
}
