import * as tf from '@tensorflow/tfjs-core';
import type { BackboneOutput, BatchTensors, LoadReport, LossOutput, NamedVariables, ObjectiveContext, ObjectivePlugin } from '@pretrain/core';
import { SentenceOrderBuilder } from './builder';
import { crossEntropyWithAccuracy } from './loss';
import { sopOptions, type SopOptions } from './options';
import { normalTensor, ParameterSet } from './params';

/** HF AlbertForPreTraining names of the sentence-order classifier. */
export const SOP_PARAMETER_NAMES = { weight: 'sop_classifier.classifier.weight', bias: 'sop_classifier.classifier.bias' } as const;

/** Sentence order prediction (ALBERT): were two consecutive segments swapped? 2-way classifier on the pooled output. */
export class SentenceOrderPrediction implements ObjectivePlugin {
  readonly name = 'sop';
  readonly requiresAttention = 'bidirectional' as const;
  readonly exampleBuilder: SentenceOrderBuilder;
  readonly options: SopOptions;
  private readonly parameters = new ParameterSet(['sop_classifier.']);

  constructor(options: Partial<SopOptions> = {}) {
    this.options = sopOptions(options);
    this.exampleBuilder = new SentenceOrderBuilder(this.options);
  }

  init({ backbone, rng }: ObjectiveContext): void {
    this.parameters.dispose();
    this.parameters.add(SOP_PARAMETER_NAMES.weight, normalTensor([backbone.info.hiddenSize, 2], backbone.info.initializerRange, rng), 'linear');
    this.parameters.add(SOP_PARAMETER_NAMES.bias, tf.zeros([2]));
  }

  logits(pooledOutput: tf.Tensor2D): tf.Tensor2D {
    return tf.add(tf.matMul(pooledOutput, this.parameters.get(SOP_PARAMETER_NAMES.weight)), this.parameters.get(SOP_PARAMETER_NAMES.bias));
  }

  loss(output: BackboneOutput, batch: BatchTensors): LossOutput {
    if (!output.pooledOutput) throw new Error('sop: the backbone returned no pooledOutput (SOP needs a model with a pooler)');
    const labels = batch.host.fields[this.options.labelField];
    if (!labels) throw new Error(`sop: the batch has no "${this.options.labelField}" field (were the examples built by the sop builder?)`);
    const { loss, accuracy } = crossEntropyWithAccuracy(this.logits(output.pooledOutput), Int32Array.from(labels));
    return { loss, metrics: { accuracy } };
  }

  variables(): NamedVariables {
    return this.parameters.variables();
  }

  stateDict(): Map<string, tf.Tensor> {
    return this.parameters.stateDict();
  }

  loadStateDict(tensors: Map<string, tf.Tensor>): LoadReport {
    return this.parameters.loadStateDict(tensors);
  }

  dispose(): void {
    this.parameters.dispose();
  }
}
