/**
 * core's wasm kernel module (simd-kernels.ts) as C kernel functions (c-pack/functions.ts), so the
 * same kernels that drive the native addon drive it: each function takes views of the wasm heap,
 * checks their lengths against the shapes, and calls the module with the views' heap offsets.
 * Only the functions in WASM_SIMD_FUNCTIONS exist; the rest of the wasm backend's kernels stay.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { CKernelFunctions } from '../c-pack/functions';
import { simdKernels, type SimdKernels } from './simd-kernels';
import type { WasmBackendLike } from './types';

export const WASM_SIMD_FUNCTIONS = ['sgemm', 'layerNorm', 'layerNormGrad', 'softmaxXent', 'softmaxXentGrad', 'columnSum', 'gelu', 'adamw', 'binary', 'dropoutMask'] as const satisfies readonly (keyof CKernelFunctions)[];

/** Products smaller than this (multiply-adds) run on one thread: waking a worker costs ~60 µs here. */
const SPLIT_MIN_MACS = 2 ** 20;
/** Row-wise and element-wise calls over fewer elements than this run on one thread. */
const SPLIT_MIN_ELEMENTS = 2 ** 16;

function need(condition: boolean, message: string): void {
  if (!condition) throw new RangeError(`wasm kernels: ${message}`);
}

function kernels(): SimdKernels {
  const found = simdKernels(tf.findBackend('wasm') as unknown as WasmBackendLike);
  if (!found) throw new Error('wasm kernels: the kernel module is not available on this wasm backend');
  return found;
}

/** A view's heap offset; the view must lie on the wasm heap. */
function at(module: SimdKernels, view: Float32Array | Int32Array | null): number {
  if (view === null) return 0;
  need(view.buffer === module.heap(), 'an array is not a view of the wasm heap');
  return view.byteOffset;
}

function notProvided(name: string): () => never {
  return () => {
    throw new Error(`wasm kernels: ${name} is not among core's wasm C functions`);
  };
}

export const wasmSimdFunctions: CKernelFunctions = {
  sgemm(a, b, c, m, n, k, transA, transB, batch, aStride, bStride, bias) {
    need(m >= 0 && n >= 0 && k >= 0 && batch >= 1 && aStride >= 0 && bStride >= 0, 'sgemm: negative size or stride');
    need(m * n * batch <= c.length && (!bias || bias.length >= n) && aStride * (batch - 1) + m * k <= a.length && bStride * (batch - 1) + k * n <= b.length, 'sgemm: operands too short for the shapes');
    const module = kernels();
    const split = batch * m * n * k >= SPLIT_MIN_MACS && module.threads > 1;
    const offsets = [at(module, a), at(module, b), at(module, c), at(module, bias)];
    // A tall product split by rows: B packed once, for every chunk (each would otherwise pack all of it).
    let prepacked = 0;
    if (split && batch === 1 && n <= m && k > 0) {
      // Offsets first: the allocation may grow (and, unshared, move) the heap.
      prepacked = module.scratch(module.packedBFloats(k, n) * 4);
      module.run('sgemmPackB', [offsets[1], k, n, transB ? 1 : 0, prepacked], true);
    }
    // args: a, b, c, bias, m, n, k, transA, transB, batch, strideA, strideB, scratch, prepacked (gemm.c)
    module.run('sgemm', [...offsets, m, n, k, transA ? 1 : 0, transB ? 1 : 0, batch, aStride, bStride, module.gemmScratch, prepacked], split);
  },
  layerNorm(x, gamma, beta, rows, width, eps, y) {
    need(rows >= 0 && width >= 0 && x.length >= rows * width && y.length >= rows * width && gamma.length >= width && beta.length >= width, 'layerNorm: arrays too short for the shapes');
    const module = kernels();
    module.run('layerNorm', [at(module, x), at(module, gamma), at(module, beta), at(module, y), rows, width, eps], rows * width >= SPLIT_MIN_ELEMENTS);
  },
  layerNormGrad(dy, x, gamma, rows, width, eps, dx, dgamma, dbeta) {
    const total = rows * width;
    need(rows >= 0 && width >= 0 && dy.length >= total && x.length >= total && dx.length >= total && gamma.length >= width && dgamma.length >= width && dbeta.length >= width, 'layerNormGrad: arrays too short for the shapes');
    const module = kernels();
    const offsets = [at(module, dy), at(module, x), at(module, gamma), at(module, dx)];
    const [dgammaAt, dbetaAt] = [at(module, dgamma), at(module, dbeta)];
    const blocks = module.layerNormGradBlocks(rows);
    // Offsets, not views, from here on: the allocation may grow (and, unshared, move) the heap.
    const allocated = module.malloc(blocks * 2 * width * 8 + 8);
    need(allocated !== 0, `layerNormGrad: could not allocate ${blocks * 2 * width * 8} bytes of partial sums`);
    const partials = Math.ceil(allocated / 8) * 8;
    try {
      module.run('layerNormGrad', [...offsets, rows, width, eps, partials], total >= SPLIT_MIN_ELEMENTS);
      module.run('layerNormGradReduce', [partials, blocks, width, dgammaAt, dbetaAt], false);
    } finally {
      module.free(allocated);
    }
  },
  softmaxXent(logits, labels, rows, classes, exps, inverses, loss, hit) {
    const total = rows * classes;
    need(rows >= 0 && classes >= 1 && logits.length >= total && exps.length >= total && labels.length >= rows && inverses.length >= rows && loss.length >= rows && hit.length >= rows, 'softmaxXent: arrays too short for the shapes');
    const module = kernels();
    module.run('softmaxXent', [at(module, logits), at(module, labels), rows, classes, at(module, exps), at(module, inverses), at(module, loss), at(module, hit)], total >= SPLIT_MIN_ELEMENTS);
  },
  softmaxXentGrad(exps, inverses, labels, rowScale, rows, classes, out) {
    const total = rows * classes;
    need(rows >= 0 && classes >= 1 && exps.length >= total && out.length >= total && inverses.length >= rows && labels.length >= rows && rowScale.length >= rows, 'softmaxXentGrad: arrays too short for the shapes');
    const module = kernels();
    module.run('softmaxXentGrad', [at(module, exps), at(module, inverses), at(module, labels), at(module, rowScale), rows, classes, at(module, out)], total >= SPLIT_MIN_ELEMENTS);
  },
  columnSum(x, outer, inner, out) {
    need(outer >= 0 && inner >= 0 && x.length >= outer * inner && out.length >= inner, 'columnSum: arrays too short for the shapes');
    const module = kernels();
    module.run('columnSum', [at(module, x), outer, inner, at(module, out)], outer * inner >= SPLIT_MIN_ELEMENTS);
  },
  gelu(x, dy, out, approximate) {
    need(out.length >= x.length && (!dy || dy.length >= x.length), 'gelu: dy and out must be as long as x');
    const module = kernels();
    module.run('gelu', [at(module, x), at(module, dy), at(module, out), x.length, approximate ? 1 : 0], x.length >= SPLIT_MIN_ELEMENTS);
  },
  adamw(param, grad, expAvg, expAvgSq, paramOut, expAvgOut, expAvgSqOut, decay, beta1, oneMinusBeta1, beta2, oneMinusBeta2, biasCorrection2Sqrt, eps, stepSize) {
    const arrays = [param, grad, expAvg, expAvgSq, paramOut, expAvgOut, expAvgSqOut];
    need(arrays.every((array) => array.length === param.length), 'adamw: the arrays differ in length');
    const module = kernels();
    const scalars = [decay, beta1, oneMinusBeta1, beta2, oneMinusBeta2, biasCorrection2Sqrt, eps, stepSize];
    module.run('adamw', [...arrays.map((array) => at(module, array)), param.length, ...scalars], param.length >= SPLIT_MIN_ELEMENTS);
  },
  binary(op, full, small, out, period, block) {
    need(op >= 0 && op <= 5, 'binary: unknown op');
    need(period >= 1 && out.length >= full.length && full.length % period === 0, 'binary: the output length must be a multiple of period');
    const rows = full.length / period;
    need(block ? small.length >= rows : small.length >= period, 'binary: small too short for the shapes');
    const module = kernels();
    module.run('binary', [op, at(module, full), at(module, small), at(module, out), full.length, period, block ? 1 : 0], full.length >= SPLIT_MIN_ELEMENTS);
  },
  dropoutMask(state, mask, threshold, scale) {
    need(state.length === 4, 'dropoutMask: state must be an Int32Array of 4');
    need(threshold >= 0 && threshold <= 65536, 'dropoutMask: threshold must be in [0, 65536]');
    const module = kernels();
    module.run('dropoutMask', [at(module, state), at(module, mask), mask.length, threshold, scale], false);
  },
  erf: notProvided('erf'),
  linearXent: notProvided('linearXent'),
};
