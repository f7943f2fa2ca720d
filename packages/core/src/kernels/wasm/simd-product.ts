/**
 * BatchMatMul / _FusedMatMul (bias, linear) on core's own wasm GEMM (simd-gemm.ts): transposes as
 * strides, batches as offsets, a batched input times a shared 2-D weight as one [batch·m, k]
 * product. Undefined (the caller then takes the XNNPACK path) for int32, empty products, batch
 * shapes that broadcast both ways, or where the GEMM is unavailable.
 */
import * as tf from '@tensorflow/tfjs-core';
import { isSimpleBatchBroadcast, sizeOf } from '../shared';
import { simdKernels } from './simd-kernels';
import type { WasmBackendLike } from './types';

/** Products smaller than this (multiply-adds) run on one thread: waking a worker costs ~60 µs here. */
const SPLIT_MIN_MACS = 2 ** 20;

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
  const kernels = simdKernels(backend);
  if (!kernels) return undefined;
  const batchA = sizeOf(aBatchShape);
  const batchB = sizeOf(bBatchShape);
  const batch = sizeOf(outBatchShape);
  const out = backend.makeOutput([...outBatchShape, m, n], 'float32');
  // Offsets after the allocation (it may grow the heap; offsets stay valid, views would not).
  const offset = (info: tf.TensorInfo) => backend.dataIdMap.get(info.dataId).memoryOffset;
  const split = batch * m * n * k >= SPLIT_MIN_MACS;
  const [aAt, bAt, cAt, biasAt] = [offset(a), offset(b), offset(out), bias ? offset(bias) : 0];
  const tA = transposeA ? 1 : 0;
  const tB = transposeB ? 1 : 0;
  // args: a, b, c, bias, m, n, k, transA, transB, batch, strideA, strideB, scratch (gemm.c)
  if (batchB === 1 && batchA === batch && !transposeA) kernels.run('sgemm', [aAt, bAt, cAt, biasAt, batch * m, n, k, tA, tB, 1, 0, 0, kernels.gemmScratch], split);
  else kernels.run('sgemm', [aAt, bAt, cAt, biasAt, m, n, k, tA, tB, batch, batchA === 1 ? 0 : m * k, batchB === 1 ? 0 : k * n, kernels.gemmScratch], split);
  return out;
}
