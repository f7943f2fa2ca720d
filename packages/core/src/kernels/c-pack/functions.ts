/**
 * The C functions a kernel pack's kernels call (@pretrain/backend-native's addon implements them):
 * each works in place on typed-array views of the wasm backend's heap and checks their lengths
 * against the shapes.
 */
export interface CKernelFunctions {
  sgemm(a: Float32Array, b: Float32Array, c: Float32Array, m: number, n: number, k: number, transA: boolean, transB: boolean, batch: number, aStride: number, bStride: number, bias: Float32Array | null): void;
  layerNorm(x: Float32Array, gamma: Float32Array, beta: Float32Array, rows: number, width: number, eps: number, y: Float32Array): void;
  layerNormGrad(dy: Float32Array, x: Float32Array, gamma: Float32Array, rows: number, width: number, eps: number, dx: Float32Array, dgamma: Float32Array, dbeta: Float32Array): void;
  softmaxXent(logits: Float32Array, labels: Int32Array, rows: number, classes: number, exps: Float32Array, inverses: Float32Array, loss: Float32Array, hit: Float32Array): void;
  softmaxXentGrad(exps: Float32Array, inverses: Float32Array, labels: Int32Array, rowScale: Float32Array, rows: number, classes: number, out: Float32Array): void;
  columnSum(x: Float32Array, outer: number, inner: number, out: Float32Array): void;
  erf(x: Float32Array, y: Float32Array): void;
  adamw(param: Float32Array, grad: Float32Array, expAvg: Float32Array, expAvgSq: Float32Array, paramOut: Float32Array, expAvgOut: Float32Array, expAvgSqOut: Float32Array, decay: number, beta1: number, oneMinusBeta1: number, beta2: number, oneMinusBeta2: number, biasCorrection2Sqrt: number, eps: number, stepSize: number): void;
  gelu(x: Float32Array, dy: Float32Array | null, out: Float32Array, approximate: boolean): void;
  /** logits = hidden · weightᵀ and softmaxXent in chunks of rows: loss and hit per row; with dHidden / dWeight also the gradients of scale · Σ loss. */
  linearXent(hidden: Float32Array, weight: Float32Array, labels: Int32Array, rows: number, width: number, classes: number, scale: number, loss: Float32Array, hit: Float32Array, dHidden: Float32Array | null, dWeight: Float32Array | null): void;
  /** out = full op small (op 0–5: add, sub, mul, div, small − full, small / full); small repeats every `period` elements, or (block) holds one value per `period`. */
  binary(op: number, full: Float32Array, small: Float32Array, out: Float32Array, period: number, block: boolean): void;
  /** @pretrain/core's Rng.fillDropoutMask; `state` (xoshiro128**'s four words) is advanced in place. */
  dropoutMask(state: Int32Array, mask: Float32Array, threshold: number, scale: number): void;
}
