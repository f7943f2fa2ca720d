/**
 * GPT-2's HF `config.json` as plain data: validated on the way in (clear errors naming the field),
 * written back unchanged on the way out (keys this package does not use are preserved).
 */
import { hfConfigFromOptions, headsSplitWidthIssue, parseHfConfig, PretrainError, z, type Activation, type HfConfigOptions } from '@pretrain/core';

/** GPT-2's activation names, its default first (the order zod lists them in errors; core's list starts with BERT's). */
export const ACTIVATIONS: readonly Activation[] = ['gelu_new', 'gelu_pytorch_tanh', 'gelu', 'relu'];

/** The HF config fields GPT-2 reads, with HF's names and defaults. */
export interface Gpt2Config {
  model_type: 'gpt2';
  vocab_size: number;
  n_positions: number;
  n_embd: number;
  n_layer: number;
  n_head: number;
  /** FFN width; null means 4 * n_embd (HF). */
  n_inner: number | null;
  activation_function: Activation;
  resid_pdrop: number;
  embd_pdrop: number;
  attn_pdrop: number;
  layer_norm_epsilon: number;
  initializer_range: number;
  scale_attn_weights: boolean;
  scale_attn_by_inverse_layer_idx: boolean;
  bos_token_id: number | null;
  eos_token_id: number | null;
  /** HF GPT2Config has none by default; GPT2ForSequenceClassification needs one to find each row's last token. */
  pad_token_id?: number | null;
  /** Any other HF keys (architectures, summary_*, torch_dtype, ...), kept for the round trip. */
  [key: string]: unknown;
}

const positiveInt = z.number().int().positive();
const probability = z.number().min(0).max(1);
const tokenId = z.number().int().nonnegative().nullable();

export const gpt2ConfigSchema = z.looseObject({
  model_type: z.literal('gpt2').default('gpt2'),
  vocab_size: positiveInt.default(50257),
  n_positions: positiveInt.default(1024),
  n_embd: positiveInt.default(768),
  n_layer: positiveInt.default(12),
  n_head: positiveInt.default(12),
  n_inner: positiveInt.nullable().default(null),
  activation_function: z.enum(ACTIVATIONS as [Activation, ...Activation[]]).default('gelu_new'),
  resid_pdrop: probability.default(0.1),
  embd_pdrop: probability.default(0.1),
  attn_pdrop: probability.default(0.1),
  layer_norm_epsilon: z.number().positive().default(1e-5),
  initializer_range: z.number().positive().default(0.02),
  scale_attn_weights: z.boolean().default(true),
  scale_attn_by_inverse_layer_idx: z.boolean().default(false),
  // float32 is already "upcast": the reordered computation is the same math here.
  reorder_and_upcast_attn: z.boolean().default(false),
  bos_token_id: tokenId.default(50256),
  eos_token_id: tokenId.default(50256),
  pad_token_id: tokenId.optional(),
});

/** Validates an HF GPT-2 config (defaults filled as HF's GPT2Config does); `source` names it in errors. */
export function parseGpt2Config(raw: unknown, source = 'GPT-2 config'): Gpt2Config {
  const config = parseHfConfig<Gpt2Config>(gpt2ConfigSchema, raw, source, 'GPT-2');
  const split = headsSplitWidthIssue('n_embd', config.n_embd, 'n_head', config.n_head);
  if (split) throw new PretrainError(`${source}: ${split}`, { file: source, path: 'n_embd' });
  for (const key of ['bos_token_id', 'eos_token_id', 'pad_token_id'] as const) {
    const id = config[key];
    if (id !== null && id !== undefined && id >= config.vocab_size) throw new PretrainError(`${source}: ${key} (${id}) must be below vocab_size (${config.vocab_size})`, { file: source, path: key });
  }
  return config;
}

export function innerSize(config: Gpt2Config): number {
  return config.n_inner ?? 4 * config.n_embd;
}

/**
 * The camelCase option names of Pretrain experiment configs → HF config.json keys: model options are read
 * through this table (either spelling) and config.json is written through it.
 */
export const GPT2_OPTION_KEYS = {
  vocabSize: 'vocab_size',
  nPositions: 'n_positions',
  nEmbd: 'n_embd',
  nLayer: 'n_layer',
  nHead: 'n_head',
  nInner: 'n_inner',
  activationFunction: 'activation_function',
  residPdrop: 'resid_pdrop',
  embdPdrop: 'embd_pdrop',
  attnPdrop: 'attn_pdrop',
  layerNormEpsilon: 'layer_norm_epsilon',
  initializerRange: 'initializer_range',
  scaleAttnWeights: 'scale_attn_weights',
  scaleAttnByInverseLayerIdx: 'scale_attn_by_inverse_layer_idx',
  bosTokenId: 'bos_token_id',
  eosTokenId: 'eos_token_id',
  padTokenId: 'pad_token_id',
} as const;

export type Gpt2ConfigOptions = HfConfigOptions<typeof GPT2_OPTION_KEYS, Gpt2Config>;

/** camelCase options → HF config object (only the keys that were given). */
export const gpt2OptionsToConfig = (options: Gpt2ConfigOptions) => hfConfigFromOptions(options, GPT2_OPTION_KEYS);
