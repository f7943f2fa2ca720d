import { definePlugin } from '@pretrain/core';
import { SentenceOrderPrediction } from './objective';
import { sopOptionsSchema, type SopOptions } from './options';

export const sopPlugin = definePlugin<'objective', SopOptions>({
  kind: 'objective',
  name: 'sop',
  description: 'Sentence order prediction (ALBERT): consecutive segments, swapped half of the time',
  options: sopOptionsSchema,
  meta: { buildsExamples: true, requiresAttention: 'bidirectional' },
  create: (options) => new SentenceOrderPrediction(options),
});
