import type { PluginDefinition } from '@pretrain/core';
import { electraPlugin } from './plugin';

export { ReplacedTokenDetection, ELECTRA_PARAMETER_NAMES, maskedBinaryCrossEntropy } from './objective';
export { electraOptionsSchema, electraOptions, type ElectraOptions } from './options';
export { maskForGenerator, replaceSampled, sampleRows, ELECTRA_FIELDS } from './corruption';
export { electraPlugin };

/** Loaded by the registry: `{ "name": "@pretrain/objective-electra" }` in an experiment config. */
export const pretrainPlugins: PluginDefinition[] = [electraPlugin];
