import * as tf from '@tensorflow/tfjs-core';
import type { BackboneOutput, BatchTensors, LossOutput, ObjectiveContext } from './contract';
import { normalTensor, ParameterSet, ParameterSetModule } from './parameters';

/** Where a pooled-output classifier keeps its two HF tensors and how it names itself in errors. */
export interface PooledClassifierSpec {
  /** The objective's name, the first word of its error messages (e.g. `nsp`). */
  objective: string;
  /** HF names of the Linear layer, e.g. `cls.seq_relationship.weight` / `.bias`. */
  names: { weight: string; bias: string };
  /** Checkpoint names under these prefixes belong to this classifier (see ParameterSet). */
  ownedPrefixes: string[];
  /** Appended to the error when the backbone has no pooled output, e.g. `NSP needs a model with a pooler`. */
  poolerHint: string;
  /** Batch field holding one int label per example. */
  labelField: string;
  /** Output classes; 2 unless given. */
  numClasses?: number;
}

/**
 * The shared part of sentence-level objectives such as NSP and SOP: Linear(hidden, classes) on the
 * backbone's pooled output (HF names, weight N(0, initializer_range), bias 0), cross-entropy loss
 * with accuracy against an int label field. Subclasses add the name and the example builder.
 */
export abstract class PooledClassifierObjective extends ParameterSetModule {
  protected constructor(private readonly spec: PooledClassifierSpec) {
    super(new ParameterSet(spec.ownedPrefixes));
  }

  init({ backbone, rng }: ObjectiveContext): void {
    const classes = this.spec.numClasses ?? 2;
    this.parameters.dispose();
    this.parameters.add(this.spec.names.weight, normalTensor([backbone.info.hiddenSize, classes], backbone.info.initializerRange, rng), 'linear');
    this.parameters.add(this.spec.names.bias, tf.zeros([classes]));
  }

  /** [batch, classes] logits from the pooled output. */
  logits(pooledOutput: tf.Tensor2D): tf.Tensor2D {
    return tf.add(tf.matMul(pooledOutput, this.parameters.get(this.spec.names.weight)), this.parameters.get(this.spec.names.bias));
  }

  loss(output: BackboneOutput, batch: BatchTensors): LossOutput {
    const { objective, labelField, poolerHint } = this.spec;
    if (!output.pooledOutput) throw new Error(`${objective}: the backbone returned no pooledOutput (${poolerHint})`);
    const labels = batch.host.fields[labelField];
    if (!labels) throw new Error(`${objective}: the batch has no "${labelField}" field (were the examples built by the ${objective} builder?)`);
    const { loss, accuracy } = crossEntropyWithAccuracy(this.logits(output.pooledOutput), Int32Array.from(labels));
    return { loss, metrics: { accuracy } };
  }
}

/** log-softmax over the last axis from primitive ops (tf.logSoftmax trips tfjs's kernel leak check on wasm). */
function logSoftmax(logits: tf.Tensor2D): tf.Tensor2D {
  const shifted = tf.sub(logits, tf.max(logits, -1, true));
  return tf.sub(shifted, tf.log(tf.sum(tf.exp(shifted), -1, true)));
}

/** Mean cross-entropy of [n, classes] logits against n int labels, plus accuracy. */
function crossEntropyWithAccuracy(logits: tf.Tensor2D, labels: Int32Array): { loss: tf.Scalar; accuracy: tf.Scalar } {
  const labelTensor = tf.tensor1d(labels, 'int32');
  // One-hot in int32 then cast: float32 OneHot is unreliable on the wasm backend.
  const target = tf.cast(tf.oneHot(labelTensor, logits.shape[1]), 'float32');
  const loss = tf.neg(tf.mean(tf.sum(tf.mul(target, logSoftmax(logits)), -1))) as tf.Scalar;
  const accuracy = tf.mean(tf.cast(tf.equal(tf.argMax(logits, -1), labelTensor), 'float32')) as tf.Scalar;
  return { loss, accuracy };
}
