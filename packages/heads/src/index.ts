import type { PluginDefinition } from '@pretrain/core';
import { questionAnsweringPlugin } from './question-answering';
import { regressionPlugin, sequenceClassificationPlugin } from './sequence-classification';
import { tokenClassificationPlugin } from './token-classification';

export * from './sequence-classification';
export * from './token-classification';
export * from './question-answering';
export * from './metrics';
export { crossEntropy, meanSquaredError } from './losses';
export { architecturePrefix, pooled, pooledClassifierArchitecture, POOLINGS, type Pooling } from './linear-head';

/** The heads this package registers: kind 'head', names as used in configs. */
export const pretrainPlugins: PluginDefinition[] = [sequenceClassificationPlugin, regressionPlugin, tokenClassificationPlugin, questionAnsweringPlugin];
export { taskMetrics } from './task-metrics';
export type { HeadPrediction, TaskMetricsOptions } from './task-metrics';
