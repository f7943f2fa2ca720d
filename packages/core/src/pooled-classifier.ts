import * as tf from '@tensorflow/tfjs-core';
import type { BackboneOutput, BatchTensors, LossOutput, ObjectiveContext } from './contract';
import { objectivePath, PretrainError } from './errors';
import { softmaxCrossEntropy } from './losses';
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
    if (!output.pooledOutput) throw new PretrainError(`${objective}: the backbone returned no pooledOutput (${poolerHint})`, { path: 'model' });
    const labels = batch.host.fields[labelField];
    if (!labels) throw new PretrainError(`${objective}: the batch has no "${labelField}" field (were the examples built by the ${objective} builder?)`, { path: objectivePath(objective) });
    const { loss, accuracy } = softmaxCrossEntropy(this.logits(output.pooledOutput), Int32Array.from(labels), { caller: objective, path: objectivePath(objective) });
    return { loss, metrics: { accuracy } };
  }
}
