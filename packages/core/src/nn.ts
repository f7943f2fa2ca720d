/**
 * The few layers the transformer backbones (BERT, GPT-2) and their heads are made of, as plain
 * functions over tensors. Dense layers work on 2-D activations [rows, in] with weights kept as
 * [in, out], so every dense layer is one plain (non-transposed) matmul; HF's nn.Linear [out, in]
 * layout exists only at the checkpoint edge (GPT-2's Conv1D already is [in, out]).
 */
import * as tf from '@tensorflow/tfjs-core';
import { backendHasKernel, DROPOUT_MASK, GELU, type DropoutMaskAttrs } from './kernels/optional';
import { PretrainError } from './errors';
import type { Rng } from './rng';
import { fusedLayerNorm, hasLayerNormKernel } from './kernels/layer-norm';

/** The most negative float32: HF's additive mask value (`torch.finfo(float32).min`). */
export const FLOAT32_MIN = -3.4028234663852886e38;

export type Activation = 'gelu' | 'gelu_new' | 'gelu_pytorch_tanh' | 'relu';
export const ACTIVATIONS: readonly Activation[] = ['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'relu'];

/**
 * y = x W + b with x [rows, in], W [in, out]: one fused matmul + bias kernel. Gradient:
 * dx = dy Wᵀ, dW = xᵀ dy, db = column sums of dy (as a matmul, see columnSum).
 */
export function dense(x: tf.Tensor2D, weight: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, w, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    save([input, w]);
    return {
      value: tf.fused.matMul({ a: input, b: w, bias: b }),
      gradFunc: (dy: tf.Tensor, [savedInput, savedWeight]: tf.Tensor[]) => {
        const dy2d = dy as tf.Tensor2D;
        return [tf.matMul(dy2d, savedWeight as tf.Tensor2D, false, true), tf.matMul(savedInput as tf.Tensor2D, dy2d, true, false), columnSum(dy2d)];
      },
    };
  });
  return op(x, weight, bias) as tf.Tensor2D;
}

/**
 * Sum over rows, [rows, cols] → [cols]. On wasm core's Sum kernel sums leading axes in one pass
 * (float64 accumulators); elsewhere ones[1, rows] · x (a stock reduction over a non-last axis
 * transposes first). The matmul form on wasm packed all of x as XNNPACK weights for one output row:
 * 20 calls took 16 ms CPU of a BERT-mini step (docs/benchmarks.md, profile).
 */
export function columnSum(x: tf.Tensor2D): tf.Tensor1D {
  const [rows, cols] = x.shape;
  if (tf.getBackend() === 'wasm') return tf.sum(x, 0);
  return tf.reshape(tf.matMul(tf.ones([1, rows]), x), [cols]) as tf.Tensor1D;
}

/**
 * LayerNorm over the last axis with biased variance, eps inside the square root (as torch), for
 * 2-D input [rows, width]. On cpu and wasm one fused kernel forward and one backward
 * (kernels/layer-norm.ts); elsewhere the same math from ops with the gradient written out (about
 * half the kernels autodiff would run):
 *   dx = rstd · (ĝ - mean(ĝ) - x̂ · mean(ĝ · x̂)),  ĝ = dy · γ;  dγ = Σ dy · x̂;  dβ = Σ dy.
 */
export function layerNorm(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor2D {
  if (x.dtype === 'float32' && gamma.dtype === 'float32' && beta.dtype === 'float32' && hasLayerNormKernel()) return fusedLayerNorm(x, gamma, beta, eps);
  return layerNormComposed(x, gamma, beta, eps);
}

/** layerNorm from TF.js ops (backends without the fused kernel; the reference its tests compare with). */
export function layerNormComposed(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor2D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, g, b, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const mean = tf.mean(input, -1, true);
    const centered = tf.sub(input, mean);
    const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(centered), -1, true), eps));
    const normalized = tf.mul(centered, rstd);
    save([normalized, rstd, g]);
    return {
      value: tf.add(tf.mul(normalized, g), b),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xhat, r, gammaSaved] = saved;
        const dxhat = tf.mul(dy, gammaSaved);
        const projection = tf.mul(xhat, tf.mean(tf.mul(dxhat, xhat), -1, true));
        const dx = tf.mul(tf.sub(tf.sub(dxhat, tf.mean(dxhat, -1, true)), projection), r);
        return [dx, columnSum(tf.mul(dy, xhat) as tf.Tensor2D), columnSum(dy as tf.Tensor2D)];
      },
    };
  });
  return op(x, gamma, beta) as tf.Tensor2D;
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** Exact GELU: x Φ(x) with Φ(x) = 0.5 (1 + erf(x / sqrt 2)); gradient Φ(x) + x φ(x). One kernel where a pack provides it. */
export function geluErf<T extends tf.Tensor>(x: T): T {
  if (x.dtype === 'float32' && backendHasKernel(GELU)) return tf.engine().runKernel(GELU, { x }, { approximate: false }) as T;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const cdf = tf.mul(tf.add(tf.erf(tf.mul(input, Math.SQRT1_2)), 1), 0.5);
    save([input, cdf]);
    return {
      value: tf.mul(input, cdf),
      gradFunc: (dy: tf.Tensor, [saved, savedCdf]: tf.Tensor[]) => {
        const pdf = tf.mul(expOfNonPositive(tf.mul(tf.mul(saved, saved), -0.5)), INV_SQRT_2PI);
        return tf.mul(dy, tf.add(savedCdf, tf.mul(saved, pdf)));
      },
    };
  });
  return op(x) as T;
}

/**
 * exp(z) for z ≤ 0 as s / (1 - s), s = sigmoid(z): on wasm sigmoid is a vectorised kernel while
 * exp (and erf, tanh) run a scalar libm loop about 20× slower than arithmetic.
 */
export function expOfNonPositive(z: tf.Tensor): tf.Tensor {
  const s = tf.sigmoid(z);
  return tf.div(s, tf.sub(1, s));
}

/**
 * GPT-2's tanh approximation, 0.5 x (1 + tanh(u)) with u = sqrt(2/pi) (x + 0.044715 x^3), computed
 * as x · sigmoid(2u) (the same function; sigmoid is a vectorised kernel on wasm, tanh is not).
 * Gradient: s + x · s (1 - s) · 2 du/dx, du/dx = sqrt(2/pi) (1 + 3 · 0.044715 x²).
 */
export function geluTanh<T extends tf.Tensor>(x: T): T {
  if (x.dtype === 'float32' && backendHasKernel(GELU)) return tf.engine().runKernel(GELU, { x }, { approximate: true }) as T;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const squared = tf.square(input);
    const twiceInner = tf.mul(tf.mul(input, tf.add(tf.mul(squared, 0.044715), 1)), 2 * SQRT_2_OVER_PI);
    const s = tf.sigmoid(twiceInner);
    save([input, squared, s]);
    return {
      value: tf.mul(input, s),
      gradFunc: (dy: tf.Tensor, [saved, savedSquared, savedS]: tf.Tensor[]) => {
        const slope = tf.add(tf.mul(savedSquared, 2 * SQRT_2_OVER_PI * 3 * 0.044715), 2 * SQRT_2_OVER_PI);
        const inner = tf.mul(tf.mul(saved, tf.mul(savedS, tf.sub(1, savedS))), slope);
        return tf.mul(dy, tf.add(savedS, inner));
      },
    };
  });
  return op(x) as T;
}

/**
 * HF activation names (ACT2FN) that heads may meet in a backbone's `hidden_act`: the backbones' own
 * ACTIVATIONS plus `gelu_fast` (the tanh form again), `tanh`, `silu` / `swish`.
 */
export const HF_ACTIVATIONS: readonly string[] = [...ACTIVATIONS, 'gelu_fast', 'tanh', 'silu', 'swish'];

/** The activation `name` (an HF ACT2FN name, see HF_ACTIVATIONS); an unknown name is a PretrainError. */
export function activate<T extends tf.Tensor>(x: T, activation: Activation | string): T {
  if (activation === 'gelu') return geluErf(x);
  if (activation === 'gelu_new' || activation === 'gelu_pytorch_tanh' || activation === 'gelu_fast') return geluTanh(x);
  if (activation === 'relu') return tf.relu(x);
  if (activation === 'tanh') return tf.tanh(x);
  if (activation === 'silu' || activation === 'swish') return tf.mul(x, tf.sigmoid(x)) as T;
  throw new PretrainError(`unsupported hidden activation "${activation}" (supported: ${HF_ACTIVATIONS.join(', ')})`);
}

/** `activate` bound to one name, checked now (a head resolves its backbone's activation once, at init). */
export function activationFunction(name: string): <T extends tf.Tensor>(x: T) => T {
  if (!HF_ACTIVATIONS.includes(name)) throw new PretrainError(`unsupported hidden activation "${name}" (supported: ${HF_ACTIVATIONS.join(', ')})`);
  return (x) => activate(x, name);
}

/**
 * Inverted dropout. With an `Rng` the mask is drawn on the host from that seeded generator, so a run
 * (and a resumed run) gets the same masks for the same seed (the backbones). With a number (or
 * undefined) it is TF.js's dropout with that seed (the task heads, seeded per step by the trainer's
 * `dropoutSeed`). Callers skip it when not training.
 */
export function dropout<T extends tf.Tensor>(x: T, rate: number, seed: Rng | number | undefined): T {
  if (rate <= 0) return x;
  if (typeof seed !== 'object') return tf.dropout(x, rate, undefined, seed) as T;
  const rng = seed;
  const scale = 1 / (1 - rate);
  // Two keep/drop decisions per 32-bit draw, each from 16 bits (keep probability exact to 2^-16).
  const threshold = Math.round((1 - rate) * 65536);
  if (backendHasKernel(DROPOUT_MASK)) return tf.mul(x, dropoutMaskKernel(rng, x.shape, threshold, scale));
  const mask = new Float32Array(x.size);
  rng.fillDropoutMask(mask, threshold, scale);
  return tf.mul(x, tf.tensor(mask, x.shape, 'float32'));
}

/** The same mask as Rng.fillDropoutMask, drawn by the backend's PretrainDropoutMask (a kernel pack's); the generator advances as the JS loop would. */
function dropoutMaskKernel(rng: Rng, shape: number[], threshold: number, scale: number): tf.Tensor {
  const state = rng.getState();
  const attrs: DropoutMaskAttrs = { shape, state: [...state.s], threshold, scale };
  const [mask, next] = tf.engine().runKernel(DROPOUT_MASK, {}, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
  const words = next.dataSync();
  next.dispose();
  rng.setState({ s: [words[0] >>> 0, words[1] >>> 0, words[2] >>> 0, words[3] >>> 0], spareNormal: state.spareNormal });
  return mask;
}

/**
 * Additive attention bias [batch, 1, 1, seq] from a 0/1 padding mask: 0 where attended,
 * float32 min where masked (HF's extended attention mask).
 */
export function paddingBias(attentionMask: tf.Tensor2D): tf.Tensor4D {
  const [batch, seq] = attentionMask.shape;
  const masked = tf.sub(1, tf.cast(attentionMask, 'float32'));
  return tf.reshape(tf.mul(masked, FLOAT32_MIN), [batch, 1, 1, seq]);
}

/**
 * Whether a 0/1 attention mask masks anything. Packed batches usually have no padding; then the
 * all-zero additive bias (a broadcast add over every [batch, heads, seq, seq] score) is skipped.
 */
export function hasPadding(attentionMask: tf.Tensor): boolean {
  return attentionMask.dataSync().some((v) => v === 0);
}

/** Values drawn from N(0, std) with a seeded generator (HF's `normal_(0, initializer_range)`). */
export function normalValues(size: number, std: number, rng: Rng): Float32Array {
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) values[i] = rng.normal() * std;
  return values;
}

/** [batch, hidden]: the mean of each row's states over the positions its attention mask marks (1 = token, 0 = padding). */
export function maskedMean(states: tf.Tensor3D, attentionMask: tf.Tensor2D): tf.Tensor2D {
  const weights = tf.expandDims(tf.cast(attentionMask, 'float32'), 2);
  const counts = tf.maximum(tf.sum(weights, 1), 1);
  return tf.div(tf.sum(tf.mul(states, weights), 1), counts) as tf.Tensor2D;
}

/**
 * Rows of a [rows, width] matrix at host-known indices. The gradient scatters back with a host-built
 * selection matrix where the backend lacks UnsortedSegmentSum (tf.gather's gradient kernel).
 */
export function gatherRows(x: tf.Tensor2D, indices: Int32Array): tf.Tensor2D {
  const index = tf.tensor1d(indices, 'int32');
  if (tf.getKernel('UnsortedSegmentSum', tf.getBackend())) return tf.gather(x, index) as tf.Tensor2D;
  const rows = x.shape[0];
  const gather = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const value = tf.gather(args[0] as tf.Tensor, index);
    return {
      value,
      gradFunc: (dy: tf.Tensor) => {
        const scatter = new Float32Array(rows * indices.length);
        indices.forEach((row, i) => (scatter[row * indices.length + i] = 1));
        return tf.matMul(tf.tensor2d(scatter, [rows, indices.length]), dy as tf.Tensor2D);
      },
    };
  });
  return gather(x) as tf.Tensor2D;
}

/** Parameters of a BERT-style LM prediction head whose decoder weight is tied to the input embeddings. */
export interface TiedLmHeadParameters {
  denseWeight: tf.Tensor2D;
  denseBias: tf.Tensor1D;
  layerNormWeight: tf.Tensor1D;
  layerNormBias: tf.Tensor1D;
  /** The decoder's own bias [vocab]. */
  bias: tf.Tensor1D;
}

/**
 * Vocabulary logits [positions, vocab] of a BERT-style LM head at flat (row · seq + col) positions of
 * [batch, seq, hidden] states: dense → activation → LayerNorm → × embeddingsᵀ + bias. BERT's MLM head
 * (`cls.predictions`) and ELECTRA's generator (`generator_predictions`, `generator_lm_head`) are this.
 */
export function tiedLmHeadLogits(
  sequenceOutput: tf.Tensor3D,
  positions: Int32Array,
  head: TiedLmHeadParameters,
  embeddings: tf.Tensor2D,
  activation: (x: tf.Tensor2D) => tf.Tensor2D,
  layerNormEps: number,
): tf.Tensor2D {
  const [batch, seq, hidden] = sequenceOutput.shape;
  const selected = gatherRows(tf.reshape(sequenceOutput, [batch * seq, hidden]), positions);
  const transformed = layerNorm(activation(dense(selected, head.denseWeight, head.denseBias)), head.layerNormWeight, head.layerNormBias, layerNormEps);
  return tf.add(tf.matMul(transformed, embeddings, false, true), head.bias);
}
