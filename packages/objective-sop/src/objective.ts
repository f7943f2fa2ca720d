import { PooledClassifierObjective, type ObjectivePlugin } from '@pretrain/core';
import { SentenceOrderBuilder } from './builder';
import { sopOptions, type SopOptions } from './options';

/** HF AlbertForPreTraining names of the sentence-order classifier. */
export const SOP_PARAMETER_NAMES = { weight: 'sop_classifier.classifier.weight', bias: 'sop_classifier.classifier.bias' } as const;

/** Sentence order prediction (ALBERT): were two consecutive segments swapped? 2-way classifier on the pooled output. */
export class SentenceOrderPrediction extends PooledClassifierObjective implements ObjectivePlugin {
  readonly name = 'sop';
  readonly requiresAttention = 'bidirectional' as const;
  readonly exampleBuilder: SentenceOrderBuilder;
  readonly options: SopOptions;

  constructor(options: Partial<SopOptions> = {}) {
    const parsed = sopOptions(options);
    super({ objective: 'sop', names: SOP_PARAMETER_NAMES, ownedPrefixes: ['sop_classifier.'], poolerHint: 'SOP needs a model with a pooler', labelField: parsed.labelField });
    this.options = parsed;
    this.exampleBuilder = new SentenceOrderBuilder(this.options);
  }
}
