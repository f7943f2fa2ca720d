import { PooledClassifierObjective, type AttentionKind, type ObjectivePlugin } from '@pretrain/core';
import { SentenceOrderBuilder } from './builder';
import { sopOptions, type SopOptions } from './options';

/** HF AlbertForPreTraining names of the sentence-order classifier. */
export const SOP_PARAMETER_NAMES = { weight: 'sop_classifier.classifier.weight', bias: 'sop_classifier.classifier.bias' } as const;

/** Sentence order prediction (ALBERT): were two consecutive segments swapped? 2-way classifier on the pooled output. */
export class SentenceOrderPrediction extends PooledClassifierObjective implements ObjectivePlugin {
  static readonly requiresAttention: AttentionKind = 'bidirectional';
  static readonly buildsExamples = true;
  readonly name = 'sop';
  readonly requiresAttention = SentenceOrderPrediction.requiresAttention;
  readonly exampleBuilder: SentenceOrderBuilder;

  constructor(readonly options: SopOptions = sopOptions()) {
    super({ objective: 'sop', names: SOP_PARAMETER_NAMES, ownedPrefixes: ['sop_classifier.'], poolerHint: 'SOP needs a model with a pooler', labelField: options.labelField });
    this.exampleBuilder = new SentenceOrderBuilder(options);
  }
}
