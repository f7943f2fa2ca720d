/**
 * BatchMatMul / _FusedMatMul (bias, linear) on core's own wasm GEMM (simd-gemm.ts): transposes as
 * strides, batches as offsets, a batched input times a shared 2-D weight as one [batch·m, k]
 * product. Undefined (the caller then takes the XNNPACK path) for int32, empty products, batch
 * shapes that broadcast both ways, or where the GEMM is unavailable.
 */
import * as tf from '@tensorflow/tfjs-core';
import { isSimpleBatchBroadcast, sizeOf } from '../shared';
import { simdGemm } from './simd-gemm';
import type { WasmBackendLike } from './types';

function wasmThreads(): number {
  return (require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm')).getThreadsCount();
}

export function simdProduct(backend: WasmBackendLike, a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean, bias?: tf.TensorInfo): tf.TensorInfo | undefined {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return undefined;
  const m = transposeA ? a.shape[a.shape.length - 1] : a.shape[a.shape.length - 2];
  const k = transposeA ? a.shape[a.shape.length - 2] : a.shape[a.shape.length - 1];
  const n = transposeB ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1];
  const kB = transposeB ? b.shape[b.shape.length - 1] : b.shape[b.shape.length - 2];
  if (k !== kB || m * n * k === 0) return undefined;
  if (bias && (bias.dtype !== 'float32' || sizeOf(bias.shape) !== n)) return undefined;
  const aBatchShape = a.shape.slice(0, -2);
  const bBatchShape = b.shape.slice(0, -2);
  if (!isSimpleBatchBroadcast(aBatchShape, bBatchShape)) return undefined;
  let outBatchShape: number[];
  try {
    outBatchShape = tf.broadcast_util.assertAndGetBroadcastShape(aBatchShape, bBatchShape);
  } catch {
    return undefined;
  }
  const gemm = simdGemm(backend, wasmThreads());
  if (!gemm) return undefined;
  const batchA = sizeOf(aBatchShape);
  const batchB = sizeOf(bBatchShape);
  const batch = sizeOf(outBatchShape);
  const out = backend.makeOutput([...outBatchShape, m, n], 'float32');
  // Offsets after the allocation (it may grow the heap; offsets stay valid, views would not).
  const offset = (info: tf.TensorInfo) => backend.dataIdMap.get(info.dataId).memoryOffset;
  const common = { a: offset(a), b: offset(b), c: offset(out), bias: bias ? offset(bias) : 0, n, k, transposeB };
  if (batchB === 1 && batchA === batch && !transposeA) gemm.sgemm({ ...common, m: batch * m, transposeA, batch: 1, strideA: 0, strideB: 0 });
  else gemm.sgemm({ ...common, m, transposeA, batch, strideA: batchA === 1 ? 0 : m * k, strideB: batchB === 1 ? 0 : k * n });
  return out;
}
