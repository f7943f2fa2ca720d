import { PooledClassifierObjective, type BackboneInfo, type ObjectiveArchitecture, type ObjectivePlugin } from '@pretrain/core';
import { SentencePairBuilder } from './builder';
import { nspOptions, type NspOptions } from './options';

/** HF BertForPreTraining names of the NSP classifier. */
export const NSP_PARAMETER_NAMES = { weight: 'cls.seq_relationship.weight', bias: 'cls.seq_relationship.bias' } as const;

/**
 * Next sentence prediction (BERT): builds sentence pairs; a 2-way classifier on the pooled output
 * (logits index 0 = "is next").
 */
export class NextSentencePrediction extends PooledClassifierObjective implements ObjectivePlugin {
  readonly name = 'nsp';
  readonly requiresAttention = 'bidirectional' as const;
  readonly exampleBuilder: SentencePairBuilder;
  readonly options: NspOptions;

  constructor(options: Partial<NspOptions> = {}) {
    const parsed = nspOptions(options);
    super({ objective: 'nsp', names: NSP_PARAMETER_NAMES, ownedPrefixes: ['cls.seq_relationship.'], poolerHint: 'NSP needs a model with a pooler, like BERT', labelField: parsed.labelField });
    this.options = parsed;
    this.exampleBuilder = new SentencePairBuilder(this.options);
  }

  /** HF BertForNextSentencePrediction alone, BertForPreTraining together with MLM. */
  hfArchitecture(info: BackboneInfo): ObjectiveArchitecture {
    if (info.modelType !== 'bert') return {};
    return { alone: { architecture: 'BertForNextSentencePrediction' }, jointly: { architecture: 'BertForPreTraining', with: ['mlm'] } };
  }
}
