/**
 * The few layers GPT-2 is made of, as plain functions over tensors. Dense layers work on 2-D
 * activations [rows, in] with weights kept as [in, out], so every dense layer is one plain
 * (non-transposed) matmul — which is also HF's Conv1D layout, so GPT-2 weights load as they are.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@pretrain/core';

/** The most negative float32: HF's additive mask value (`torch.finfo(float32).min`). */
export const FLOAT32_MIN = -3.4028234663852886e38;

export type Activation = 'gelu_new' | 'gelu_pytorch_tanh' | 'gelu' | 'relu';
export const ACTIVATIONS: readonly Activation[] = ['gelu_new', 'gelu_pytorch_tanh', 'gelu', 'relu'];

/** y = x W + b with x [rows, in], W [in, out]. */
export function dense(x: tf.Tensor2D, weight: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  return tf.add(tf.matMul(x, weight), bias);
}

/** LayerNorm over the last axis with biased variance, eps inside the square root (as torch). */
export function layerNorm<T extends tf.Tensor>(x: T, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): T {
  const mean = tf.mean(x, -1, true);
  const centered = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centered), -1, true);
  const normalized = tf.mul(centered, tf.rsqrt(tf.add(variance, eps)));
  return tf.add(tf.mul(normalized, gamma), beta);
}

/** Exact GELU: 0.5 x (1 + erf(x / sqrt 2)). */
export function geluErf<T extends tf.Tensor>(x: T): T {
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
}

/** GPT-2's tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
export function geluTanh<T extends tf.Tensor>(x: T): T {
  // x·x·x rather than pow(x, 3): pow's gradient also differentiates the exponent (log, where).
  const cube = tf.mul(tf.mul(x, x), x);
  const inner = tf.mul(tf.add(x, tf.mul(cube, 0.044715)), Math.sqrt(2 / Math.PI));
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
}

export function activate<T extends tf.Tensor>(x: T, activation: Activation): T {
  if (activation === 'gelu') return geluErf(x);
  if (activation === 'gelu_new' || activation === 'gelu_pytorch_tanh') return geluTanh(x);
  return tf.relu(x);
}

/**
 * Inverted dropout with a mask drawn on the host from a seeded generator, so a run (and a
 * resumed run) gets the same masks for the same seed. Callers skip it when not training.
 */
export function dropout<T extends tf.Tensor>(x: T, rate: number, rng: Rng): T {
  if (rate <= 0) return x;
  const keep = 1 - rate;
  const scale = 1 / keep;
  const mask = new Float32Array(x.size);
  for (let i = 0; i < mask.length; i++) mask[i] = rng.float() < keep ? scale : 0;
  return tf.mul(x, tf.tensor(mask, x.shape, 'float32'));
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

/** Values drawn from N(0, std) with a seeded generator (HF's `normal_(0, initializer_range)`). */
export function normalValues(size: number, std: number, rng: Rng): Float32Array {
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) values[i] = rng.normal() * std;
  return values;
}
