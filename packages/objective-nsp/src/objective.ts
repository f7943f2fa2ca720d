import * as tf from '@tensorflow/tfjs-core';
import type { BackboneOutput, BatchTensors, LoadReport, LossOutput, NamedVariables, ObjectiveContext, ObjectivePlugin } from '@pretrain/core';
import { SentencePairBuilder } from './builder';
import { crossEntropyWithAccuracy } from './loss';
import { nspOptions, type NspOptions } from './options';
import { normalTensor, ParameterSet } from './params';

/** HF BertForPreTraining names of the NSP classifier. */
export const NSP_PARAMETER_NAMES = { weight: 'cls.seq_relationship.weight', bias: 'cls.seq_relationship.bias' } as const;

/** Next sentence prediction (BERT): builds sentence pairs; a 2-way classifier on the pooled output. */
export class NextSentencePrediction implements ObjectivePlugin {
  readonly name = 'nsp';
  readonly requiresAttention = 'bidirectional' as const;
  readonly exampleBuilder: SentencePairBuilder;
  readonly options: NspOptions;
  private readonly parameters = new ParameterSet(['cls.seq_relationship.']);

  constructor(options: Partial<NspOptions> = {}) {
    this.options = nspOptions(options);
    this.exampleBuilder = new SentencePairBuilder(this.options);
  }

  init({ backbone, rng }: ObjectiveContext): void {
    this.parameters.dispose();
    this.parameters.add(NSP_PARAMETER_NAMES.weight, normalTensor([backbone.info.hiddenSize, 2], backbone.info.initializerRange, rng), 'linear');
    this.parameters.add(NSP_PARAMETER_NAMES.bias, tf.zeros([2]));
  }

  /** [batch, 2] logits (index 0 = "is next") from the pooled output. */
  logits(pooledOutput: tf.Tensor2D): tf.Tensor2D {
    return tf.add(tf.matMul(pooledOutput, this.parameters.get(NSP_PARAMETER_NAMES.weight)), this.parameters.get(NSP_PARAMETER_NAMES.bias));
  }

  loss(output: BackboneOutput, batch: BatchTensors): LossOutput {
    if (!output.pooledOutput) throw new Error('nsp: the backbone returned no pooledOutput (NSP needs a model with a pooler, like BERT)');
    const labels = batch.host.fields[this.options.labelField];
    if (!labels) throw new Error(`nsp: the batch has no "${this.options.labelField}" field (were the examples built by the nsp builder?)`);
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
