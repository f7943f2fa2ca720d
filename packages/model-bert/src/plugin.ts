/**
 * The `bert` model plugin: options are HF config.json keys in camelCase (hiddenSize,
 * numAttentionHeads, ...), or `pretrained: <dir>` to load an HF checkpoint directory.
 */
import * as path from 'path';
import { PretrainError, definePlugin, z, type PluginDefinition } from '@pretrain/core';
import { BERT_OPTION_KEYS, bertOptionsToConfig, parseBertConfig } from './config';
import { BertModel } from './model';
import { ACTIVATIONS, type Activation } from '@pretrain/core';

/** Options that may accompany `pretrained` (HF from_pretrained overrides). */
const PRETRAINED_OVERRIDES = ['hiddenDropoutProb', 'attentionProbsDropoutProb'] as const;

const positiveInt = z.number().int().positive();
const probability = z.number().min(0).max(1);

export const bertOptionsSchema = z
  .object({
    /** Directory with config.json + model.safetensors (relative to the experiment config file). */
    pretrained: z.string().min(1).optional(),
    vocabSize: positiveInt.optional(),
    hiddenSize: positiveInt.optional(),
    numHiddenLayers: positiveInt.optional(),
    numAttentionHeads: positiveInt.optional(),
    intermediateSize: positiveInt.optional(),
    hiddenAct: z.enum(ACTIVATIONS as [Activation, ...Activation[]]).optional(),
    hiddenDropoutProb: probability.optional(),
    attentionProbsDropoutProb: probability.optional(),
    maxPositionEmbeddings: positiveInt.optional(),
    typeVocabSize: positiveInt.optional(),
    initializerRange: z.number().positive().optional(),
    layerNormEps: z.number().positive().optional(),
    padTokenId: z.number().int().nonnegative().optional(),
    /** HF add_pooling_layer: false for token classification / QA (their checkpoints have no pooler). */
    addPoolingLayer: z.boolean().default(true),
  })
  .strict()
  .superRefine((options, ctx) => {
    if (options.pretrained) {
      for (const key of Object.keys(BERT_OPTION_KEYS)) {
        if ((options as Record<string, unknown>)[key] !== undefined && !(PRETRAINED_OVERRIDES as readonly string[]).includes(key)) {
          ctx.addIssue({ code: 'custom', path: [key], message: `cannot be combined with "pretrained" (the checkpoint's config.json decides it); only ${PRETRAINED_OVERRIDES.join(', ')} may be overridden` });
        }
      }
      return;
    }
    const hidden = options.hiddenSize ?? 768;
    const heads = options.numAttentionHeads ?? 12;
    if (hidden % heads !== 0) ctx.addIssue({ code: 'custom', path: ['hiddenSize'], message: `hiddenSize (${hidden}) is not a multiple of numAttentionHeads (${heads})` });
  });

export type BertPluginOptions = z.infer<typeof bertOptionsSchema>;

/** Builds (or loads) a BERT from validated plugin options; relative `pretrained` paths resolve against baseDir. */
export function createBert(options: BertPluginOptions, context: { baseDir: string; seed: number }): BertModel {
  const { pretrained, addPoolingLayer, ...architecture } = options;
  const overrides = bertOptionsToConfig(architecture);
  if (pretrained) {
    const dir = path.resolve(context.baseDir, pretrained);
    return BertModel.fromPretrained(dir, { seed: context.seed, addPoolingLayer, configOverrides: overrides });
  }
  const config = parseBertConfig(overrides, 'model.options');
  if (config.pad_token_id >= config.vocab_size) throw new PretrainError('model.options: padTokenId must be below vocabSize');
  return new BertModel(config, { seed: context.seed, addPoolingLayer });
}

export const bertPlugin = definePlugin<'model', BertPluginOptions>({
  kind: 'model',
  name: 'bert',
  description: 'BERT encoder (HF BertModel, post-LN, bidirectional attention); HF checkpoints in and out',
  options: bertOptionsSchema as z.ZodType<BertPluginOptions>,
  meta: { attention: 'bidirectional' },
  create: createBert,
});

export const pretrainPlugins: PluginDefinition[] = [bertPlugin];
