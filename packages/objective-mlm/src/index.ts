import type { PluginDefinition } from '@pretrain/core';
import { mlmPlugin } from './plugin';

export { MaskedLanguageModeling, MLM_PARAMETER_NAMES } from './objective';
export { mlmOptionsSchema, mlmOptions, type MlmOptions } from './options';
export { maskBatch, IGNORE_INDEX, type MaskingOptions, type MaskingVocabulary, type MaskBatchOptions } from './masking';
// Moved to core (ELECTRA packs examples the same way); re-exported so existing imports keep working.
export { FullSentenceBuilder, wordIdsFor } from '@pretrain/core';
export { mlmPlugin };

/** Loaded by the registry: `{ "name": "mlm" }` or `{ "name": "@pretrain/objective-mlm" }` in a config. */
export const pretrainPlugins: PluginDefinition[] = [mlmPlugin];
