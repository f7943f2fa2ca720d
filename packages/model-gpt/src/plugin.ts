/**
 * The `gpt2` model plugin: options are HF config.json keys in camelCase (nEmbd, nLayer, nHead, ...),
 * or `pretrained: <dir>` to load an HF checkpoint directory.
 */
import * as path from 'path';
import { definePlugin, z, type Activation, type PluginDefinition } from '@pretrain/core';
import { ACTIVATIONS, GPT2_OPTION_KEYS, gpt2OptionsToConfig, parseGpt2Config } from './config';
import { Gpt2Model } from './model';

/** Options that may accompany `pretrained` (HF from_pretrained overrides). */
const PRETRAINED_OVERRIDES = ['residPdrop', 'embdPdrop', 'attnPdrop'] as const;

const positiveInt = z.number().int().positive();
const probability = z.number().min(0).max(1);
const tokenId = z.number().int().nonnegative().nullable();

export const gpt2OptionsSchema = z
  .object({
    /** Directory with config.json + model.safetensors (relative to the experiment config file). */
    pretrained: z.string().min(1).optional(),
    vocabSize: positiveInt.optional(),
    nPositions: positiveInt.optional(),
    nEmbd: positiveInt.optional(),
    nLayer: positiveInt.optional(),
    nHead: positiveInt.optional(),
    nInner: positiveInt.nullable().optional(),
    activationFunction: z.enum(ACTIVATIONS as [Activation, ...Activation[]]).optional(),
    residPdrop: probability.optional(),
    embdPdrop: probability.optional(),
    attnPdrop: probability.optional(),
    layerNormEpsilon: z.number().positive().optional(),
    initializerRange: z.number().positive().optional(),
    scaleAttnWeights: z.boolean().optional(),
    scaleAttnByInverseLayerIdx: z.boolean().optional(),
    bosTokenId: tokenId.optional(),
    eosTokenId: tokenId.optional(),
    /** HF pad_token_id: the id batches are padded with (GPT2ForSequenceClassification finds each row's last token by it). */
    padTokenId: tokenId.optional(),
  })
  .strict()
  .superRefine((options, ctx) => {
    if (options.pretrained) {
      for (const key of Object.keys(GPT2_OPTION_KEYS)) {
        if ((options as Record<string, unknown>)[key] !== undefined && !(PRETRAINED_OVERRIDES as readonly string[]).includes(key)) {
          ctx.addIssue({ code: 'custom', path: [key], message: `cannot be combined with "pretrained" (the checkpoint's config.json decides it); only ${PRETRAINED_OVERRIDES.join(', ')} may be overridden` });
        }
      }
      return;
    }
    const width = options.nEmbd ?? 768;
    const heads = options.nHead ?? 12;
    if (width % heads !== 0) ctx.addIssue({ code: 'custom', path: ['nEmbd'], message: `nEmbd (${width}) is not a multiple of nHead (${heads})` });
  });

export type Gpt2PluginOptions = z.infer<typeof gpt2OptionsSchema>;

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
  options: gpt2OptionsSchema as z.ZodType<Gpt2PluginOptions>,
  meta: { attention: 'causal' },
  create: createGpt2,
});

export const pretrainPlugins: PluginDefinition[] = [gpt2Plugin];
