/**
 * Autoregressive generation for GPT-2: greedy or sampled (temperature, top-k, top-p, seeded),
 * with a key/value cache so each new token runs the model over one position, not the prefix.
 * Token choice happens on the host: one row of logits per sequence per step.
 */
import * as tf from '@tensorflow/tfjs-core';
import { PretrainError, Rng } from '@pretrain/core';
import type { Gpt2Model } from './model';
import type { KVCache } from './kv-cache';

export interface SamplingOptions {
  /** Sample instead of taking the argmax (HF `do_sample`). Default false (greedy). */
  doSample?: boolean;
  /** Divides the logits before sampling (default 1). */
  temperature?: number;
  /** Keep only the k most likely tokens (0 or undefined: all). */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p (1 or undefined: all). */
  topP?: number;
}

export interface GenerateOptions extends SamplingOptions {
  /** How many tokens to add at most (default 20). */
  maxNewTokens?: number;
  /** Generation of a row ends after it emits one of these (default: the config's eos_token_id; [] for none). */
  stopTokens?: number[];
  /** Seeds sampling (ignored when greedy). Default 0. */
  seed?: number;
  /** A generator to draw from instead of `seed` (e.g. the run's Rng). */
  rng?: Rng;
  /** Reuse keys/values of earlier positions (default true); false recomputes the whole prefix each step. */
  useCache?: boolean;
  /** Called with each step's logits, [rows * vocab] row-major (HF's `scores` for greedy search). */
  onLogits?: (step: number, logits: Float32Array) => void;
  /** Called with each new token as soon as it is chosen (streaming output). */
  onToken?: (token: number, row: number, step: number) => void;
}

/** Returns the generated tokens per prompt row (a stop token, when hit, is the row's last token). */
export function generate(model: Gpt2Model, prompt: number[] | number[][], options: GenerateOptions = {}): number[][] {
  const rows = (Array.isArray(prompt[0]) ? prompt : [prompt]) as number[][];
  const promptLength = rows[0]?.length ?? 0;
  if (promptLength === 0) throw new PretrainError('generate: the prompt is empty');
  if (rows.some((row) => row.length !== promptLength)) throw new PretrainError('generate: all prompt rows must have the same length (no padding support)');
  const maxNewTokens = options.maxNewTokens ?? 20;
  const limit = model.config.n_positions;
  if (promptLength + maxNewTokens > limit) {
    throw new PretrainError(`generate: prompt (${promptLength}) + maxNewTokens (${maxNewTokens}) exceeds n_positions (${limit})`);
  }
  validateSampling(options, model.config.vocab_size);
  const eos = model.config.eos_token_id;
  const stopTokens = new Set(options.stopTokens ?? (eos === null ? [] : [eos]));
  const rng = options.rng ?? new Rng(options.seed ?? 0);
  const useCache = options.useCache ?? true;
  const vocab = model.config.vocab_size;

  const sequences = rows.map((row) => [...row]);
  const generated: number[][] = rows.map(() => []);
  const finished = rows.map(() => false);
  // Sized for the whole generation: each step writes one position, nothing is copied.
  const cache = useCache ? model.createCache(rows.length, promptLength + maxNewTokens) : undefined;
  let pending = sequences.map((row) => [...row]);
  // The weights are fixed while generating: transpose the tied LM head once, not per token.
  const transposedEmbeddings = tf.transpose(model.inputEmbeddings()) as tf.Tensor2D;
  try {
    for (let step = 0; step < maxNewTokens; step++) {
      const logits = nextLogits(model, pending, cache, transposedEmbeddings);
      options.onLogits?.(step, logits);
      for (let r = 0; r < rows.length; r++) {
        // A finished row keeps feeding its last token so the batch stays rectangular; its output is ignored.
        const token = finished[r] ? sequences[r][sequences[r].length - 1] : pickToken(logits.subarray(r * vocab, (r + 1) * vocab), options, rng);
        sequences[r].push(token);
        if (finished[r]) continue;
        generated[r].push(token);
        options.onToken?.(token, r, step);
        if (stopTokens.has(token)) finished[r] = true;
      }
      if (finished.every(Boolean)) break;
      pending = useCache ? sequences.map((row) => [row[row.length - 1]]) : sequences;
    }
  } finally {
    cache?.clear();
    transposedEmbeddings.dispose();
  }
  return generated;
}

/**
 * Logits for the last position of every row: with a cache, over the pending tokens only (the cache
 * grows by them); without, a full forward over the whole sequence.
 */
function nextLogits(model: Gpt2Model, pending: number[][], cache: KVCache | undefined, transposedEmbeddings: tf.Tensor2D): Float32Array {
  const logits = tf.tidy(() => {
    const ids = tf.tensor2d(pending, [pending.length, pending[0].length], 'int32');
    const hidden = cache ? model.forwardWithCache(ids, cache).hidden : model.forward({ inputIds: ids }, { training: false }).sequenceOutput;
    const [batch, seq, width] = hidden.shape;
    const last = tf.reshape(tf.slice(hidden, [0, seq - 1, 0], [batch, 1, width]), [batch, width]) as tf.Tensor2D;
    return model.lmLogits(last, transposedEmbeddings);
  });
  const values = Float32Array.from(logits.dataSync() as Float32Array);
  logits.dispose();
  return values;
}

function validateSampling(options: SamplingOptions, vocab: number): void {
  const { temperature = 1, topK = 0, topP = 1 } = options;
  if (!(temperature > 0)) throw new PretrainError(`generate: temperature must be > 0, got ${temperature}`);
  if (!Number.isInteger(topK) || topK < 0 || topK > vocab) throw new PretrainError(`generate: topK must be an integer in [0, ${vocab}], got ${topK}`);
  if (!(topP > 0 && topP <= 1)) throw new PretrainError(`generate: topP must be in (0, 1], got ${topP}`);
}

/** Greedy argmax (first maximum, like torch.argmax) or a draw from the filtered distribution. */
export function pickToken(logits: ArrayLike<number>, options: SamplingOptions, rng: Rng): number {
  if (!options.doSample) return argmax(logits);
  const probs = samplingDistribution(logits, options);
  let u = rng.float();
  for (let i = 0; i < probs.length; i++) {
    u -= probs[i];
    if (u < 0) return i;
  }
  // Rounding left u just above 0: take the last token with probability mass.
  for (let i = probs.length - 1; i >= 0; i--) if (probs[i] > 0) return i;
  return argmax(logits);
}

export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/**
 * The distribution sampling draws from, as HF's logits warpers build it: temperature, then top-k
 * (ties with the k-th value kept), then top-p (drop the least likely tokens whose cumulative
 * probability stays within 1 - p; the most likely token always survives), then softmax.
 */
export function samplingDistribution(logits: ArrayLike<number>, options: SamplingOptions): Float64Array {
  const { temperature = 1, topK = 0, topP = 1 } = options;
  const n = logits.length;
  const scores = new Float64Array(n);
  for (let i = 0; i < n; i++) scores[i] = logits[i] / temperature;
  if (topK > 0 && topK < n) {
    const kth = [...scores].sort((a, b) => b - a)[topK - 1];
    for (let i = 0; i < n; i++) if (scores[i] < kth) scores[i] = -Infinity;
  }
  if (topP < 1) {
    const order = [...scores.keys()].sort((a, b) => scores[a] - scores[b]);
    const probs = softmax(scores);
    let cumulative = 0;
    for (let j = 0; j < order.length - 1; j++) {
      cumulative += probs[order[j]];
      if (cumulative <= 1 - topP) scores[order[j]] = -Infinity;
      else break;
    }
  }
  return softmax(scores);
}

function softmax(scores: Float64Array): Float64Array {
  let max = -Infinity;
  for (const s of scores) if (s > max) max = s;
  const out = new Float64Array(scores.length);
  let sum = 0;
  for (let i = 0; i < scores.length; i++) {
    out[i] = scores[i] === -Infinity ? 0 : Math.exp(scores[i] - max);
    sum += out[i];
  }
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}
