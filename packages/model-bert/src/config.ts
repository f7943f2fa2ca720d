/**
 * BERT's HF `config.json` as plain data: validated on the way in (clear errors naming the field),
 * written back unchanged on the way out (keys this package does not use are preserved).
 */
import { ACTIVATIONS, hfConfigFromOptions, headsSplitWidthIssue, parseHfConfig, PretrainError, z, type Activation, type HfConfigOptions } from '@pretrain/core';

/** The HF config fields BERT reads, with HF's names and defaults. */
export interface BertConfig {
  model_type: 'bert';
  vocab_size: number;
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  hidden_act: Activation;
  hidden_dropout_prob: number;
  attention_probs_dropout_prob: number;
  max_position_embeddings: number;
  type_vocab_size: number;
  initializer_range: number;
  layer_norm_eps: number;
  pad_token_id: number;
  position_embedding_type: 'absolute';
  /** Any other HF keys (architectures, id2label, torch_dtype, ...), kept for the round trip. */
  [key: string]: unknown;
}

const positiveInt = z.number().int().positive();
const probability = z.number().min(0).max(1);

export const bertConfigSchema = z.looseObject({
  model_type: z.literal('bert').default('bert'),
  vocab_size: positiveInt.default(30522),
  hidden_size: positiveInt.default(768),
  num_hidden_layers: positiveInt.default(12),
  num_attention_heads: positiveInt.default(12),
  intermediate_size: positiveInt.default(3072),
  hidden_act: z.enum(ACTIVATIONS as [Activation, ...Activation[]]).default('gelu'),
  hidden_dropout_prob: probability.default(0.1),
  attention_probs_dropout_prob: probability.default(0.1),
  max_position_embeddings: positiveInt.default(512),
  type_vocab_size: positiveInt.default(2),
  initializer_range: z.number().positive().default(0.02),
  layer_norm_eps: z.number().positive().default(1e-12),
  pad_token_id: z.number().int().nonnegative().default(0),
  position_embedding_type: z.literal('absolute').default('absolute'),
});

/**
 * Validates an HF BERT config (defaults filled as HF's BertConfig does). `source` names the file
 * or option block in error messages.
 */
export function parseBertConfig(raw: unknown, source = 'BERT config'): BertConfig {
  const config = parseHfConfig<BertConfig>(bertConfigSchema, raw, source, 'BERT');
  const split = headsSplitWidthIssue('hidden_size', config.hidden_size, 'num_attention_heads', config.num_attention_heads);
  if (split) throw new PretrainError(`${source}: ${split}`, { file: source, path: 'hidden_size' });
  if (config.pad_token_id >= config.vocab_size) {
    throw new PretrainError(`${source}: pad_token_id (${config.pad_token_id}) must be below vocab_size (${config.vocab_size})`, { file: source, path: 'pad_token_id' });
  }
  return config;
}

/**
 * The camelCase option names of Pretrain experiment configs → HF config.json keys: model options are read
 * through this table (either spelling) and config.json is written through it.
 */
export const BERT_OPTION_KEYS = {
  vocabSize: 'vocab_size',
  hiddenSize: 'hidden_size',
  numHiddenLayers: 'num_hidden_layers',
  numAttentionHeads: 'num_attention_heads',
  intermediateSize: 'intermediate_size',
  hiddenAct: 'hidden_act',
  hiddenDropoutProb: 'hidden_dropout_prob',
  attentionProbsDropoutProb: 'attention_probs_dropout_prob',
  maxPositionEmbeddings: 'max_position_embeddings',
  typeVocabSize: 'type_vocab_size',
  initializerRange: 'initializer_range',
  layerNormEps: 'layer_norm_eps',
  padTokenId: 'pad_token_id',
} as const;

export type BertConfigOptions = HfConfigOptions<typeof BERT_OPTION_KEYS, BertConfig>;

/** camelCase options → HF config object (only the keys that were given). */
export const bertOptionsToConfig = (options: BertConfigOptions) => hfConfigFromOptions(options, BERT_OPTION_KEYS);
