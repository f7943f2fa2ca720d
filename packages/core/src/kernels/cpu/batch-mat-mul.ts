/** BatchMatMul: the stock kernel, plus a correct path for batch dims that broadcast both ways. */
import * as tf from '@tensorflow/tfjs-core';
import { isSimpleBatchBroadcast, naiveBatchMatMul } from '../shared';
import type { CpuBackendLike, KernelFn } from './types';

/** Stock BatchMatMul, except for batch dims that broadcast both ways ([2,1] × [1,3]), which it gets wrong. */
export function batchMatMulCpu(stock: KernelFn): KernelFn {
  return (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    if (isSimpleBatchBroadcast(a.shape.slice(0, -2), b.shape.slice(0, -2))) return stock(args);
    const backend = args.backend as CpuBackendLike;
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    const outBatchShape = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
    const m = transposeA ? a.shape[a.shape.length - 1] : a.shape[a.shape.length - 2];
    const n = transposeB ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1];
    const values = naiveBatchMatMul(backend.data.get(a.dataId).values as Float32Array, backend.data.get(b.dataId).values as Float32Array, a.shape, b.shape, transposeA, transposeB, outBatchShape);
    return backend.makeTensorInfo([...outBatchShape, m, n], 'float32', values);
  };
}
