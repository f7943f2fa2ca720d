import { objectivePlugin } from '@pretrain/core';
import { CausalLanguageModeling } from './objective';
import { clmOptionsSchema } from './options';

export const clmPlugin = objectivePlugin(CausalLanguageModeling, {
  name: 'clm',
  description: 'Causal language modelling (GPT): documents packed into blocks, next-token loss, LM head tied to the embeddings',
  options: clmOptionsSchema,
});
