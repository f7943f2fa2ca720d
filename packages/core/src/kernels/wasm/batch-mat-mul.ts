/**
 * BatchMatMul: transposes done explicitly, batches split into 2-D products on heap views, a batched
 * input times a 2-D weight folded into one product: every product on XNNPACK's fast path.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { matMul2d, planMatMul, registerView, releaseView, transposeLastTwo, weightsId, withUntransposed, type MatMulPlan } from './matmul';
import type { KernelFn, WasmBackendLike, WasmTensorData } from './types';

export function batchMatMulWasm(stock: KernelFn): KernelFn {
  return (args) => {
    const backend = args.backend as WasmBackendLike;
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    const plan = a.dtype === 'float32' && b.dtype === 'float32' ? planMatMul(a, b, transposeA, transposeB) : undefined;
    if (!plan) return stock(args);
    if (plan.batch === 1 && swappedIsCheaper(plan, transposeA, transposeB)) return { ...swappedMatMul(backend, a, b, transposeA, transposeB, plan), shape: plan.outShape };
    const out = backend.makeOutput([plan.batch, plan.m, plan.n], 'float32');
    withUntransposed(backend, a, b, transposeA, transposeB, plan, (aReady, bReady) => runBatches(backend, aReady, bReady, out, plan));
    return { ...out, shape: plan.outShape };
  };
}

/**
 * Elements moved by transposes: computing C = op(A)·op(B) directly needs A and/or B untransposed;
 * computing Cᵀ = op(B)ᵀ·op(A)ᵀ needs the other operand layouts plus a transpose of C. Weight
 * gradients (Aᵀ·B with many rows) move far less the second way.
 */
function swappedIsCheaper(plan: MatMulPlan, transposeA: boolean, transposeB: boolean): boolean {
  const { m, k, n } = plan;
  // The swapped product takes op(A)ᵀ as XNNPACK's weights, packed anew and streamed once per tile of
  // rows: past the last-level cache that costs more than the transpose it saves (the tied LM head's
  // [2032,8000]ᵀ·[2032,128]: 218 ms direct vs 270 swapped; [301,8000]ᵀ·[301,128]: 34 vs 26).
  if (k * m > SWAPPED_WEIGHTS_LIMIT && k * m > k * n) return false;
  const direct = (transposeA ? m * k : 0) + (transposeB ? k * n : 0);
  const swapped = (transposeA ? 0 : m * k) + (transposeB ? 0 : k * n) + m * n;
  return swapped < direct;
}

/** Elements (4M floats = 16 MB) above which a swapped product's weights fall out of cache. */
const SWAPPED_WEIGHTS_LIMIT = 4 * 2 ** 20;

/** C = op(A)·op(B) for one batch as (op(B)ᵀ·op(A)ᵀ)ᵀ; the returned tensor is [1, m, n]. */
function swappedMatMul(backend: WasmBackendLike, a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean, plan: MatMulPlan): tf.TensorInfo {
  const { m, k, n } = plan;
  const temps: tf.TensorInfo[] = [];
  const keep = (t: tf.TensorInfo) => (temps.push(t), t);
  try {
    // op(B)ᵀ as rows [n, k]: B itself when it is stored transposed.
    const left = transposeB ? b : keep(transposeLastTwo(backend, b, 1, k, n));
    // op(A)ᵀ as [k, m]: A itself when it is stored transposed.
    const right = transposeA ? a : keep(transposeLastTwo(backend, a, 1, m, k));
    const product = keep(backend.makeOutput([1, n, m], 'float32'));
    const views: number[] = [];
    try {
      matMul2d(backend, backend.dataIdMap.get(left.dataId).id, weightsId(backend, backend.dataIdMap.get(right.dataId), k, m, views), backend.dataIdMap.get(product.dataId).id, n, k, m);
    } finally {
      for (const id of views) releaseView(backend, id);
    }
    return transposeLastTwo(backend, product, 1, n, m);
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

function runBatches(backend: WasmBackendLike, a: tf.TensorInfo, b: tf.TensorInfo, out: tf.TensorInfo, plan: MatMulPlan): void {
  const { batchA, batchB, batch, aIndex, bIndex, m, k, n } = plan;
  const aData = backend.dataIdMap.get(a.dataId);
  const bData = backend.dataIdMap.get(b.dataId);
  const outData = backend.dataIdMap.get(out.dataId);
  if (batchB === 1 && batchA === batch) {
    // Every batch of a meets the same b: fold a's batches into rows, one product.
    const views: number[] = [];
    try {
      matMul2d(backend, aData.id, weightsId(backend, bData, k, n, views), outData.id, batchA * m, k, n);
    } finally {
      for (const id of views) releaseView(backend, id);
    }
    return;
  }
  for (let i = 0; i < batch; i++) {
    const views: number[] = [];
    const view = (data: WasmTensorData, count: number, index: number, size: number): number => {
      if (count === 1) return data.id;
      const id = registerView(backend, data.memoryOffset + index * size * 4, size);
      views.push(id);
      return id;
    };
    try {
      matMul2d(backend, view(aData, batchA, aIndex[i], m * k), view(bData, batchB, bIndex[i], k * n), view(outData, batch, i, m * n), m, k, n);
    } finally {
      for (const id of views) releaseView(backend, id);
    }
  }
}
