/**
 * The `bert` model plugin: options are HF config.json keys, in camelCase (hiddenSize, numAttentionHeads, ...)
 * or as HF spells them (hidden_size, num_attention_heads, ...), or `pretrained: <dir>` to load an HF
 * checkpoint directory.
 */
import { hfModelPlugin, z, type PluginCreateContext, type PluginDefinition } from '@pretrain/core';
import { BERT_OPTION_KEYS, bertConfigSchema, parseBertConfig, type BertConfig, type BertConfigOptions } from './config';
import { BertModel } from './model';

export type BertPluginOptions = BertConfigOptions & { pretrained?: string; addPoolingLayer: boolean };

export const bertPlugin = hfModelPlugin<BertPluginOptions, BertConfig>(BertModel, {
  name: 'bert',
  description: 'BERT encoder (HF BertModel, post-LN, bidirectional attention); HF checkpoints in and out',
  attention: 'bidirectional',
  configSchema: bertConfigSchema,
  parseConfig: parseBertConfig,
  keys: BERT_OPTION_KEYS,
  pretrainedOverrides: ['hiddenDropoutProb', 'attentionProbsDropoutProb'],
  divisible: { width: 'hiddenSize', heads: 'numAttentionHeads' },
  extra: {
    /** HF add_pooling_layer: false for token classification / QA (their checkpoints have no pooler). */
    addPoolingLayer: z.boolean().default(true),
  },
});

export const bertOptionsSchema = bertPlugin.options;

/** Builds (or loads) a BERT from validated plugin options; relative `pretrained` paths resolve against baseDir. */
export const createBert = (options: BertPluginOptions, context: PluginCreateContext) => bertPlugin.create(options, context) as BertModel;

export const pretrainPlugins: PluginDefinition[] = [bertPlugin];
