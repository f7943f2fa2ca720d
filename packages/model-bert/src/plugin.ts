/**
 * The `bert` model plugin: options are HF config.json keys, in camelCase (hiddenSize, numAttentionHeads, ...)
 * or as HF spells them (hidden_size, num_attention_heads, ...), or `pretrained: <dir>` to load an HF
 * checkpoint directory.
 */
import * as path from 'path';
import { definePlugin, hfModelOptionsSchema, z, type PluginDefinition } from '@pretrain/core';
import { BERT_OPTION_KEYS, bertConfigSchema, bertOptionsToConfig, parseBertConfig, type BertConfigOptions } from './config';
import { BertModel } from './model';

export type BertPluginOptions = BertConfigOptions & { pretrained?: string; addPoolingLayer: boolean };

export const bertOptionsSchema = hfModelOptionsSchema<BertPluginOptions>({
  configSchema: bertConfigSchema,
  keys: BERT_OPTION_KEYS,
  pretrainedOverrides: ['hiddenDropoutProb', 'attentionProbsDropoutProb'],
  divisible: { width: 'hiddenSize', heads: 'numAttentionHeads' },
  extra: {
    /** HF add_pooling_layer: false for token classification / QA (their checkpoints have no pooler). */
    addPoolingLayer: z.boolean().default(true),
  },
});

/** Builds (or loads) a BERT from validated plugin options; relative `pretrained` paths resolve against baseDir. */
export function createBert(options: BertPluginOptions, context: { baseDir: string; seed: number }): BertModel {
  const { pretrained, addPoolingLayer, ...architecture } = options;
  const overrides = bertOptionsToConfig(architecture);
  if (pretrained) {
    const dir = path.resolve(context.baseDir, pretrained);
    return BertModel.fromPretrained(dir, { seed: context.seed, addPoolingLayer, configOverrides: overrides });
  }
  return new BertModel(parseBertConfig(overrides, 'model.options'), { seed: context.seed, addPoolingLayer });
}

export const bertPlugin = definePlugin<'model', BertPluginOptions>({
  kind: 'model',
  name: 'bert',
  description: 'BERT encoder (HF BertModel, post-LN, bidirectional attention); HF checkpoints in and out',
  options: bertOptionsSchema,
  meta: { attention: 'bidirectional' },
  create: createBert,
});

export const pretrainPlugins: PluginDefinition[] = [bertPlugin];
