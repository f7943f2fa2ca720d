import { definePlugin } from '@pretrain/core';
import { CausalLanguageModeling } from './objective';
import { clmOptionsSchema, type ClmOptions } from './options';

export const clmPlugin = definePlugin<'objective', ClmOptions>({
  kind: 'objective',
  name: 'clm',
  description: 'Causal language modelling (GPT): documents packed into blocks, next-token loss, LM head tied to the embeddings',
  options: clmOptionsSchema,
  meta: { buildsExamples: true, requiresAttention: 'causal' },
  create: (options) => new CausalLanguageModeling(options),
});
