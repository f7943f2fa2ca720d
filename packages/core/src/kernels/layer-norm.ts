/**
 * Fused LayerNorm over the last axis (biased variance, eps inside the square root, as torch):
 * one kernel forward and one backward instead of the ~9 + ~12 element-wise and reduction kernels
 * the composed ops run (each a pass over the activations and a trip through the engine).
 * Registered through TF.js's kernel registry for the cpu and wasm backends, with its gradient:
 *   PretrainLayerNorm      {x [..., width], gamma [width], beta [width]}, {eps} → y
 *   PretrainLayerNormGrad  {dy, x, gamma}, {eps} → [dx, dγ, dβ]
 * The backward recomputes each row's mean and 1/std from x (one pass) rather than saving them, so
 * the forward kernel has a single output and the tape keeps only x and γ.
 *   dx = rstd · (ĝ − mean(ĝ) − x̂ · mean(ĝ · x̂)),  ĝ = dy · γ;  dγ = Σ dy · x̂;  dβ = Σ dy
 */
import * as tf from '@tensorflow/tfjs-core';
import { ioFor } from './io';

export const LAYER_NORM = 'PretrainLayerNorm';
export const LAYER_NORM_GRAD = 'PretrainLayerNormGrad';

type Floats = Float32Array;

/**
 * Mean and 1/std of one row, in one pass (float64 sums: E[x²] − mean² loses nothing at the
 * magnitudes activations have; a negative rounding residue is clamped to 0).
 */
function rowStats(x: Floats, base: number, width: number, eps: number, out: Float64Array): void {
  let sum = 0;
  let squares = 0;
  for (let c = 0; c < width; c++) {
    const v = x[base + c];
    sum += v;
    squares += v * v;
  }
  const mean = sum / width;
  const variance = Math.max(0, squares / width - mean * mean);
  out[0] = mean;
  out[1] = 1 / Math.sqrt(variance + eps);
}

/** y = (x − mean) · rstd · γ + β per row of `width` values. */
export function layerNormRows(x: Floats, gamma: Floats, beta: Floats, rows: number, width: number, eps: number, y: Floats): void {
  const stats = new Float64Array(2);
  for (let r = 0; r < rows; r++) {
    const base = r * width;
    rowStats(x, base, width, eps, stats);
    const mean = stats[0];
    const rstd = stats[1];
    for (let c = 0; c < width; c++) y[base + c] = (x[base + c] - mean) * rstd * gamma[c] + beta[c];
  }
}

/** dx, dγ and dβ of layerNormRows (dγ, dβ summed over rows in float64). */
export function layerNormGradRows(dy: Floats, x: Floats, gamma: Floats, rows: number, width: number, eps: number, dx: Floats, dgamma: Floats, dbeta: Floats): void {
  const accGamma = new Float64Array(width);
  const accBeta = new Float64Array(width);
  const stats = new Float64Array(2);
  for (let r = 0; r < rows; r++) {
    const base = r * width;
    rowStats(x, base, width, eps, stats);
    const mean = stats[0];
    const rstd = stats[1];
    let sumG = 0;
    let sumGX = 0;
    for (let c = 0; c < width; c++) {
      const d = dy[base + c];
      const h = (x[base + c] - mean) * rstd;
      const g = d * gamma[c];
      sumG += g;
      sumGX += g * h;
      accGamma[c] += d * h;
      accBeta[c] += d;
    }
    const meanG = sumG / width;
    const meanGX = sumGX / width;
    for (let c = 0; c < width; c++) dx[base + c] = rstd * (dy[base + c] * gamma[c] - meanG - (x[base + c] - mean) * rstd * meanGX);
  }
  for (let c = 0; c < width; c++) {
    dgamma[c] = accGamma[c];
    dbeta[c] = accBeta[c];
  }
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

/** The fused forward kernel for `backendName` (cpu or wasm): rows in double, as core's JS loop. */
export function layerNormKernel(backendName: string) {
  return ({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo => {
    const { x, gamma, beta } = inputs as Record<string, tf.TensorInfo>;
    const width = x.shape[x.shape.length - 1];
    const rows = width === 0 ? 0 : tf.util.sizeFromShape(x.shape) / width;
    const io = ioFor(backendName, backend);
    const y = io.output(x.shape, () => undefined);
    // Views after the allocation (it may move the wasm heap).
    layerNormRows(io.read(x) as Floats, io.read(gamma) as Floats, io.read(beta) as Floats, rows, width, (attrs as { eps: number }).eps, io.read(y) as Floats);
    return y;
  };
}

/** The fused backward kernel for `backendName` (cpu or wasm): dx, dγ, dβ in one pass. */
export function layerNormGradKernel(backendName: string) {
  return ({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] => {
    const { dy, x, gamma } = inputs as Record<string, tf.TensorInfo>;
    const width = x.shape[x.shape.length - 1];
    const rows = width === 0 ? 0 : tf.util.sizeFromShape(x.shape) / width;
    const io = ioFor(backendName, backend);
    const dx = io.output(x.shape, () => undefined);
    const dgamma = io.output([width], () => undefined);
    const dbeta = io.output([width], () => undefined);
    layerNormGradRows(io.read(dy) as Floats, io.read(x) as Floats, io.read(gamma) as Floats, rows, width, (attrs as { eps: number }).eps, io.read(dx) as Floats, io.read(dgamma) as Floats, io.read(dbeta) as Floats);
    return [dx, dgamma, dbeta];
  };
}

// The gradient is backend-independent and registered on import, as TF.js registers its own; the
// kernels are registered per backend by initBackend (kernels/cpu/index.ts, kernels/wasm/index.ts).
tf.registerGradient({
  kernelName: LAYER_NORM,
  inputsToSave: ['x', 'gamma'],
  gradFunc: (dy, saved, attrs) => {
    const [x, gamma] = saved;
    // One backward kernel gives all three. It runs here, in the backward pass's own scope, not
    // lazily in the first getter: the tape runs each getter in a tidy of its own, which would
    // dispose the two gradients that getter does not return. Unused ones go with the backward scope.
    const [dx, dgamma, dbeta] = tf.engine().runKernel(LAYER_NORM_GRAD, { dy: dy as tf.Tensor, x, gamma }, attrs) as tf.Tensor[];
    return { x: () => dx, gamma: () => dgamma, beta: () => dbeta };
  },
});

/** Whether the active backend has the fused kernel (else callers compose the same math from ops). */
export function hasLayerNormKernel(): boolean {
  return tf.getKernel(LAYER_NORM, tf.getBackend()) !== undefined;
}

/** LayerNorm of x [..., width] through the fused kernel (the active backend must have it). */
export function fusedLayerNorm<T extends tf.Tensor>(x: T, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): T {
  return tf.engine().runKernel(LAYER_NORM, { x, gamma, beta }, { eps }) as T;
}
