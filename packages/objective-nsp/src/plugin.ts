import { objectivePlugin } from '@pretrain/core';
import { NextSentencePrediction } from './objective';
import { nspOptionsSchema } from './options';

export const nspPlugin = objectivePlugin(NextSentencePrediction, {
  name: 'nsp',
  description: 'Next sentence prediction (BERT): builds [CLS] A [SEP] B [SEP] pairs, 50% true continuations',
  options: nspOptionsSchema,
});
