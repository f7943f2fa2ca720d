import * as tf from '@tensorflow/tfjs-core';
import { BackbonePlugin, PretrainError, Rng, TokenizerPlugin } from '@pretrain/core';
import { Gpt2Model, generate } from '@pretrain/model-gpt';

export interface SampleOptions {
  maxNewTokens: number;
  temperature: number;
  topK: number;
  seed: number;
  /** Stop at this id (end of text). */
  eosId?: number;
}

/**
 * Samples continuations from a causal backbone whose LM head is tied to the input embeddings:
 * GPT-2 through model-gpt's cached generation; any other causal backbone (e.g. a third-party
 * plugin) by recomputing logits = last hidden state · embeddingsᵀ. Greedy when temperature is 0.
 */
export function sampleTokens(backbone: BackbonePlugin, promptIds: number[], options: SampleOptions): number[] {
  if (backbone.info.attention !== 'causal') throw new PretrainError(`generate needs a causal (GPT-style) model; this checkpoint is a ${backbone.info.modelType} ${backbone.info.attention} model`);
  if (promptIds.length === 0) throw new PretrainError('generate: the prompt encodes to no tokens');
  if (backbone instanceof Gpt2Model) {
    // model-gpt's own generation keeps a key/value cache: one position per new token.
    const stopTokens = options.eosId === undefined ? [] : [options.eosId];
    return generate(backbone, promptIds, { doSample: options.temperature > 0, temperature: options.temperature || 1, topK: options.topK, seed: options.seed, maxNewTokens: options.maxNewTokens, stopTokens })[0];
  }
  const rng = new Rng(options.seed);
  const ids = promptIds.slice();
  for (let i = 0; i < options.maxNewTokens; i++) {
    const context = ids.slice(-backbone.info.maxPositions);
    const logits = tf.tidy(() => {
      const input = tf.tensor2d([context], [1, context.length], 'int32');
      const output = backbone.forward({ inputIds: input, attentionMask: tf.onesLike(input) as tf.Tensor2D }, { training: false });
      const last = tf.reshape(tf.slice(output.sequenceOutput, [0, context.length - 1, 0], [1, 1, -1]), [1, -1]);
      return tf.matMul(last, backbone.inputEmbeddings(), false, true).dataSync() as Float32Array;
    });
    const next = pick(logits, options, rng);
    ids.push(next);
    if (options.eosId !== undefined && next === options.eosId) break;
  }
  return ids.slice(promptIds.length);
}

function pick(logits: Float32Array, options: SampleOptions, rng: Rng): number {
  if (options.temperature <= 0) return argmax(logits);
  const order = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a]);
  const kept = options.topK > 0 ? order.slice(0, options.topK) : order;
  const max = logits[kept[0]];
  const weights = kept.map((i) => Math.exp((logits[i] - max) / options.temperature));
  const total = weights.reduce((a, b) => a + b, 0);
  let r = rng.float() * total;
  for (let k = 0; k < kept.length; k++) {
    r -= weights[k];
    if (r <= 0) return kept[k];
  }
  return kept[kept.length - 1];
}

function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** Generated ids as text, without special tokens (the end-of-text id that stopped sampling is not printed). */
export function sampleText(tokenizer: Pick<TokenizerPlugin, 'decode'>, ids: number[]): string {
  return tokenizer.decode(ids, { skipSpecialTokens: true });
}
