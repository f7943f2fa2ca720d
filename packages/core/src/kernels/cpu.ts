/**
 * Kernel replacements for the cpu backend. The stock UnsortedSegmentSum (the gather gradient)
 * runs an equal/cast/multiply/sum chain per segment: O(vocab × tokens × hidden) for an embedding
 * gradient. This one is a single pass over the rows. BatchMatMul gets a correct path for batch
 * dims that broadcast both ways.
 */
import * as tf from '@tensorflow/tfjs-core';
import { recordReplacement } from './stock';
import { isSimpleBatchBroadcast, naiveBatchMatMul, segmentSumInto, segmentSumOutputShape, sizeOf } from './shared';

interface CpuBackendLike {
  data: { get(dataId: object): { values: Float32Array | Int32Array | Uint8Array } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: Float32Array | Int32Array | Uint8Array): tf.TensorInfo;
}

function unsortedSegmentSumCpu(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const backend = args.backend as CpuBackendLike;
  const { x, segmentIds } = args.inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const numSegments = (args.attrs as { numSegments: number }).numSegments;
  const outShape = segmentSumOutputShape(x.shape, segmentIds.shape.length, numSegments);
  const dtype = x.dtype === 'int32' ? 'int32' : 'float32';
  const out = dtype === 'int32' ? new Int32Array(sizeOf(outShape)) : new Float32Array(sizeOf(outShape));
  const rowSize = sizeOf(x.shape.slice(segmentIds.shape.length));
  segmentSumInto(out, backend.data.get(x.dataId).values, backend.data.get(segmentIds.dataId).values, rowSize, numSegments);
  return backend.makeTensorInfo(outShape, dtype, out);
}

type KernelFn = (args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }) => tf.TensorInfo;

/** Stock BatchMatMul, except for batch dims that broadcast both ways ([2,1] × [1,3]), which it gets wrong. */
function batchMatMulCpu(stock: KernelFn): KernelFn {
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

let registered = false;

/** Replaces the cpu backend's slow kernels (idempotent). Requires @tensorflow/tfjs-backend-cpu loaded. */
export function registerCpuKernels(): void {
  if (registered) return;
  registered = true;
  const stockSegmentSum = tf.getKernel(tf.UnsortedSegmentSum, 'cpu');
  if (stockSegmentSum) tf.unregisterKernel(tf.UnsortedSegmentSum, 'cpu');
  const segmentSum: tf.KernelConfig = { kernelName: tf.UnsortedSegmentSum, backendName: 'cpu', kernelFunc: unsortedSegmentSumCpu as tf.KernelFunc };
  tf.registerKernel(segmentSum);
  recordReplacement(segmentSum, stockSegmentSum);
  const stockMatMul = tf.getKernel(tf.BatchMatMul, 'cpu');
  if (stockMatMul) {
    tf.unregisterKernel(tf.BatchMatMul, 'cpu');
    const matMul: tf.KernelConfig = { ...stockMatMul, kernelFunc: batchMatMulCpu(stockMatMul.kernelFunc as KernelFn) as tf.KernelFunc };
    tf.registerKernel(matMul);
    recordReplacement(matMul, stockMatMul);
  }
}
