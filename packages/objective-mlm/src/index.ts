import type { PluginDefinition } from '@pretrain/core';
import { mlmPlugin } from './plugin';

export { MaskedLanguageModeling, MLM_PARAMETER_NAMES } from './objective';
export { mlmOptionsSchema, mlmOptions, type MlmOptions } from './options';
export { maskBatch, IGNORE_INDEX, type MaskingOptions, type MaskingVocabulary, type MaskBatchOptions } from './masking';
export { FullSentenceBuilder, wordIdsFor } from './builder';
export { mlmPlugin };

/** Loaded by the registry: `{ "name": "mlm" }` or `{ "name": "@pretrain/objective-mlm" }` in a config. */
export const pretrainPlugins: PluginDefinition[] = [mlmPlugin];
