import type { PluginDefinition } from '@pretrain/core';
import { clmPlugin } from './plugin';

export { CausalLanguageModeling } from './objective';
export { clmOptionsSchema, clmOptions, type ClmOptions } from './options';
export { BlockBuilder, separatorId, type BlockBuilderOptions } from './builder';
export { clmPlugin };

/** Loaded by the registry: `{ "name": "clm" }` or `{ "name": "@pretrain/objective-clm" }` in a config. */
export const pretrainPlugins: PluginDefinition[] = [clmPlugin];
