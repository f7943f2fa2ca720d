import { objectivePlugin } from '@pretrain/core';
import { StatedScore } from './objective';
import { statedScoreOptionsSchema } from './options';

export const statedScorePlugin = objectivePlugin(StatedScore, {
  name: 'stated-score',
  description: 'stated score: the score a review states ("7/10") is removed from its text and predicted, low or high, from the rest',
  options: statedScoreOptionsSchema,
});
