/**
 * The `gpt2` model plugin: options are HF config.json keys, in camelCase (nEmbd, nLayer, nHead, ...) or as
 * HF spells them (n_embd, n_layer, n_head, ...), or `pretrained: <dir>` to load an HF checkpoint directory.
 */
import * as path from 'path';
import { definePlugin, hfModelOptionsSchema, type PluginDefinition } from '@pretrain/core';
import { GPT2_OPTION_KEYS, gpt2ConfigSchema, gpt2OptionsToConfig, parseGpt2Config, type Gpt2ConfigOptions } from './config';
import { Gpt2Model } from './model';

export type Gpt2PluginOptions = Gpt2ConfigOptions & { pretrained?: string };

export const gpt2OptionsSchema = hfModelOptionsSchema<Gpt2PluginOptions>({
  configSchema: gpt2ConfigSchema,
  keys: GPT2_OPTION_KEYS,
  pretrainedOverrides: ['residPdrop', 'embdPdrop', 'attnPdrop'],
  divisible: { width: 'nEmbd', heads: 'nHead' },
});

/** Builds (or loads) a GPT-2 from validated plugin options; relative `pretrained` paths resolve against baseDir. */
export function createGpt2(options: Gpt2PluginOptions, context: { baseDir: string; seed: number }): Gpt2Model {
  const { pretrained, ...architecture } = options;
  const overrides = gpt2OptionsToConfig(architecture);
  if (pretrained) return Gpt2Model.fromPretrained(path.resolve(context.baseDir, pretrained), { seed: context.seed, configOverrides: overrides });
  return new Gpt2Model(parseGpt2Config(overrides, 'model.options'), { seed: context.seed });
}

export const gpt2Plugin = definePlugin<'model', Gpt2PluginOptions>({
  kind: 'model',
  name: 'gpt2',
  description: 'GPT-2 decoder (HF GPT2Model, pre-LN, causal attention, tied LM head, KV-cached generation); HF checkpoints in and out',
  options: gpt2OptionsSchema,
  meta: { attention: 'causal' },
  create: createGpt2,
});

export const pretrainPlugins: PluginDefinition[] = [gpt2Plugin];
