/**
 * The `gpt2` model plugin: options are HF config.json keys, in camelCase (nEmbd, nLayer, nHead, ...) or as
 * HF spells them (n_embd, n_layer, n_head, ...), or `pretrained: <dir>` to load an HF checkpoint directory.
 */
import { hfModelPlugin, type PluginCreateContext, type PluginDefinition } from '@pretrain/core';
import { GPT2_OPTION_KEYS, gpt2ConfigSchema, parseGpt2Config, type Gpt2Config, type Gpt2ConfigOptions } from './config';
import { Gpt2Model } from './model';

export type Gpt2PluginOptions = Gpt2ConfigOptions & { pretrained?: string };

export const gpt2Plugin = hfModelPlugin<Gpt2PluginOptions, Gpt2Config>(Gpt2Model, {
  name: 'gpt2',
  description: 'GPT-2 decoder (HF GPT2Model, pre-LN, causal attention, tied LM head, KV-cached generation); HF checkpoints in and out',
  attention: 'causal',
  configSchema: gpt2ConfigSchema,
  parseConfig: parseGpt2Config,
  keys: GPT2_OPTION_KEYS,
  pretrainedOverrides: ['residPdrop', 'embdPdrop', 'attnPdrop'],
  divisible: { width: 'nEmbd', heads: 'nHead' },
});

export const gpt2OptionsSchema = gpt2Plugin.options;

/** Builds (or loads) a GPT-2 from validated plugin options; relative `pretrained` paths resolve against baseDir. */
export const createGpt2 = (options: Gpt2PluginOptions, context: PluginCreateContext) => gpt2Plugin.create(options, context) as Gpt2Model;

export const pretrainPlugins: PluginDefinition[] = [gpt2Plugin];
