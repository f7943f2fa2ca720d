import { definePlugin } from '@pretrain/core';
import { MaskedLanguageModeling } from './objective';
import { mlmOptionsSchema, type MlmOptions } from './options';

export const mlmPlugin = definePlugin<'objective', MlmOptions>({
  kind: 'objective',
  name: 'mlm',
  description: 'Masked language modelling (BERT/RoBERTa): 15% of tokens, 80/10/10, dynamic or static, whole-word option',
  options: mlmOptionsSchema,
  meta: {
    requiresAttention: 'bidirectional',
    buildsExamples: (options) => options.buildExamples,
  },
  create: (options) => new MaskedLanguageModeling(options),
});
