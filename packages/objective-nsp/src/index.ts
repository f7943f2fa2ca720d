import type { PluginDefinition } from '@pretrain/core';
import { nspPlugin } from './plugin';

export { NextSentencePrediction, NSP_PARAMETER_NAMES } from './objective';
export { nspOptionsSchema, nspOptions, type NspOptions } from './options';
export { SentencePairBuilder, pairExample, type PairBuilderOptions } from './builder';
export { createInstancesFromDocument, truncateSeqPair, type PairInstance, type PairOptions } from './pairs';
export { nspPlugin };

/** Loaded by the registry: `{ "name": "nsp" }` or `{ "name": "@pretrain/objective-nsp" }` in a config. */
export const pretrainPlugins: PluginDefinition[] = [nspPlugin];
