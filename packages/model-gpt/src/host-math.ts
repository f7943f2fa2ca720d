/**
 * The vector math of a one-position decoding step on host Float32Arrays [rows, width]. Such a step
 * works on a few hundred floats per row: on the wasm and cpu backends launching a kernel costs more
 * than its arithmetic (5–40 µs each), so LayerNorm, biases, activations and residual adds run here
 * and only the weight products go to the backend (see Gpt2Model.decodeStep). Same formulas as
 * core's layer functions; the KV-cache tests compare a cached decode with full forwards.
 */
import type { Activation } from '@pretrain/core';

/** LayerNorm of each row (biased variance, eps inside the root, as torch). */
export function layerNormRows(x: Float32Array, width: number, gamma: ArrayLike<number>, beta: ArrayLike<number>, eps: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let start = 0; start < x.length; start += width) {
    let mean = 0;
    for (let i = 0; i < width; i++) mean += x[start + i];
    mean /= width;
    let variance = 0;
    for (let i = 0; i < width; i++) variance += (x[start + i] - mean) ** 2;
    const rstd = 1 / Math.sqrt(variance / width + eps);
    for (let i = 0; i < width; i++) out[start + i] = (x[start + i] - mean) * rstd * gamma[i] + beta[i];
  }
  return out;
}

/** x += y, element-wise (the residual stream). */
export function addInto(x: Float32Array, y: ArrayLike<number>): void {
  for (let i = 0; i < x.length; i++) x[i] += y[i];
}

/** Adds `row` to every row of x (a bias, or a position embedding). */
export function addToRows(x: Float32Array, row: ArrayLike<number>): void {
  const width = row.length;
  for (let start = 0; start < x.length; start += width) {
    for (let i = 0; i < width; i++) x[start + i] += row[i];
  }
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** Applies the activation element-wise, in place; returns x. */
export function activateInPlace(x: Float32Array, activation: Activation): Float32Array {
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (activation === 'relu') x[i] = v > 0 ? v : 0;
    else if (activation === 'gelu') x[i] = 0.5 * v * (1 + erf(v * Math.SQRT1_2));
    else x[i] = 0.5 * v * (1 + Math.tanh(SQRT_2_OVER_PI * (v + 0.044715 * v * v * v)));
  }
  return x;
}

/**
 * The error function (JavaScript has none): erfc's Chebyshev fit from Numerical Recipes (§6.2),
 * absolute error below 1.2e-7 everywhere — under float32's resolution of GELU's outputs.
 */
export function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const poly = -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const erfc = t * Math.exp(poly);
  return x >= 0 ? 1 - erfc : erfc - 1;
}
