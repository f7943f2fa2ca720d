import type { PluginDefinition } from '@pretrain/core';
import { sopPlugin } from './plugin';

export { SentenceOrderPrediction, SOP_PARAMETER_NAMES } from './objective';
export { sopOptionsSchema, sopOptions, type SopOptions } from './options';
export { SentenceOrderBuilder, orderInstancesFromDocument, type OrderInstance } from './builder';
export { sopPlugin };

/** Loaded by the registry: `{ "name": "sop" }` or `{ "name": "@pretrain/objective-sop" }` in a config. */
export const pretrainPlugins: PluginDefinition[] = [sopPlugin];
