import { definePlugin } from '@pretrain/core';
import { NextSentencePrediction } from './objective';
import { nspOptionsSchema, type NspOptions } from './options';

export const nspPlugin = definePlugin<'objective', NspOptions>({
  kind: 'objective',
  name: 'nsp',
  description: 'Next sentence prediction (BERT): builds [CLS] A [SEP] B [SEP] pairs, 50% true continuations',
  options: nspOptionsSchema,
  meta: { buildsExamples: true, requiresAttention: 'bidirectional' },
  create: (options) => new NextSentencePrediction(options),
});
