import type { PluginDefinition } from '@pretrain/core';
import { contextBowPlugin, contextContrastPlugin } from './plugin';

export { ContextBagOfWords, CONTEXT_BOW_PARAMETER_NAMES, targetDistribution } from './objective';
export { ContextWindowBuilder, contextWindows, type ContextWindow } from './builder';
export { contextBowOptions, contextBowOptionsSchema, type ContextBowOptions } from './options';
export { contextBowPlugin, contextContrastPlugin } from './plugin';

/** Loaded by the registry: `{ "name": "@pretrain/objective-context-bow" }` in an experiment config. */
export const pretrainPlugins: PluginDefinition[] = [contextBowPlugin, contextContrastPlugin];
export { ContextContrast, contextContrastOptionsSchema, DocumentPairBuilder, partnerMatrix, type ContextContrastOptions } from './contrast';
