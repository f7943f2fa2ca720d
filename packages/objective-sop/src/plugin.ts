import { objectivePlugin } from '@pretrain/core';
import { SentenceOrderPrediction } from './objective';
import { sopOptionsSchema } from './options';

export const sopPlugin = objectivePlugin(SentenceOrderPrediction, {
  name: 'sop',
  description: 'Sentence order prediction (ALBERT): consecutive segments, swapped half of the time',
  options: sopOptionsSchema,
});
