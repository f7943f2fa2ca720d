import { PooledClassifierObjective, type AttentionKind, type BackboneInfo, type ObjectiveArchitecture, type ObjectivePlugin } from '@pretrain/core';
import { SentencePairBuilder } from './builder';
import { nspOptions, type NspOptions } from './options';

/** HF BertForPreTraining names of the NSP classifier. */
export const NSP_PARAMETER_NAMES = { weight: 'cls.seq_relationship.weight', bias: 'cls.seq_relationship.bias' } as const;

/**
 * Next sentence prediction (BERT): builds sentence pairs; a 2-way classifier on the pooled output
 * (logits index 0 = "is next").
 */
export class NextSentencePrediction extends PooledClassifierObjective implements ObjectivePlugin {
  static readonly requiresAttention: AttentionKind = 'bidirectional';
  static readonly buildsExamples = true;
  readonly name = 'nsp';
  readonly requiresAttention = NextSentencePrediction.requiresAttention;
  readonly exampleBuilder: SentencePairBuilder;

  constructor(readonly options: NspOptions = nspOptions()) {
    super({ objective: 'nsp', names: NSP_PARAMETER_NAMES, ownedPrefixes: ['cls.seq_relationship.'], poolerHint: 'NSP needs a model with a pooler, like BERT', labelField: options.labelField });
    this.exampleBuilder = new SentencePairBuilder(options);
  }

  /** HF BertForNextSentencePrediction alone, BertForPreTraining together with MLM. */
  hfArchitecture(info: BackboneInfo): ObjectiveArchitecture {
    if (info.modelType !== 'bert') return {};
    return { alone: { architecture: 'BertForNextSentencePrediction' }, jointly: { architecture: 'BertForPreTraining', with: ['mlm'] } };
  }
}
