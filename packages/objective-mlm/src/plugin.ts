import { objectivePlugin } from '@pretrain/core';
import { MaskedLanguageModeling } from './objective';
import { mlmOptionsSchema } from './options';

export const mlmPlugin = objectivePlugin(MaskedLanguageModeling, {
  name: 'mlm',
  description: 'Masked language modelling (BERT/RoBERTa): 15% of tokens, 80/10/10, dynamic or static, whole-word option',
  options: mlmOptionsSchema,
});
