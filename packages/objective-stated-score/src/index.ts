import type { PluginDefinition } from '@pretrain/core';
import { statedScorePlugin } from './plugin';

export { StatedScore, STATED_SCORE_PARAMETER_NAMES } from './objective';
export { findStatedScores, polarityOf, StatedScoreBuilder, type StatedScore as StatedScoreSpan } from './builder';
export { statedScoreOptions, statedScoreOptionsSchema, type StatedScoreOptions } from './options';
export { statedScorePlugin } from './plugin';

/** Loaded by the registry: `{ "name": "@pretrain/objective-stated-score" }` in an experiment config. */
export const pretrainPlugins: PluginDefinition[] = [statedScorePlugin];
