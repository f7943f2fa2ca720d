/**
 * _FusedMatMul: transposes taken off and the weights put under an id that is safe for XNNPACK's
 * operator cache; the stock kernel does the product, bias and activation.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { sizeOf } from '../shared';
import { planMatMul, releaseView, weightsId, withUntransposed } from './matmul';
import type { KernelFn, WasmBackendLike } from './types';

/**
 * Runs `body` with weights whose data id is safe for XNNPACK's id-keyed cache: `b` itself, or (when
 * `b` is a reshape of data created with another shape) a temporary entry pointing at a view.
 */
function withNaturalWeights<T>(backend: WasmBackendLike, b: tf.TensorInfo, body: (weights: tf.TensorInfo) => T): T {
  const data = backend.dataIdMap.get(b.dataId);
  const views: number[] = [];
  const [k, n] = b.shape.slice(-2);
  const id = b.shape.length >= 2 && sizeOf(b.shape) === k * n ? weightsId(backend, data, k, n, views) : data.id;
  if (id === data.id) return body(b);
  const dataId = {};
  backend.dataIdMap.set(dataId, { ...data, id, shape: b.shape, refCount: 1 });
  try {
    return body({ ...b, dataId });
  } finally {
    backend.dataIdMap.delete(dataId);
    for (const view of views) releaseView(backend, view);
  }
}

/** Fused (bias/activation) products: only the transposes are taken off; the stock kernel does the rest. */
export function fusedMatMulWasm(stock: KernelFn): KernelFn {
  return (args) => {
    const backend = args.backend as WasmBackendLike;
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const attrs = args.attrs as { transposeA: boolean; transposeB: boolean };
    if (!attrs.transposeA && !attrs.transposeB) return withNaturalWeights(backend, b, (weights) => stock({ ...args, inputs: { ...args.inputs, b: weights } }));
    const plan = a.dtype === 'float32' && b.dtype === 'float32' ? planMatMul(a, b, attrs.transposeA, attrs.transposeB) : undefined;
    if (!plan) return stock(args);
    return withUntransposed(backend, a, b, attrs.transposeA, attrs.transposeB, plan, (aReady, bReady) =>
      stock({
        ...args,
        inputs: { ...args.inputs, a: { ...aReady, shape: [...a.shape.slice(0, -2), plan.m, plan.k] }, b: { ...bReady, shape: [...b.shape.slice(0, -2), plan.k, plan.n] } },
        attrs: { ...args.attrs, transposeA: false, transposeB: false },
      }),
    );
  };
}
