/**
 * BatchMatMul and _FusedMatMul (bias, no activation) through OpenBLAS's sgemm on views of the wasm
 * heap: the transposes are flags, a batch of products is one call per batch on offsets into the same
 * arrays, and a batched input times a shared 2-D weight is a single [batch·m, k] product. Anything
 * else (int32, batch dims that broadcast both ways, fused activations) goes to the kernel registered
 * before (core's wasm kernel).
 */
import * as tf from '@tensorflow/tfjs-core';
import { isSimpleBatchBroadcast } from '../shared';
import type { PackKernel, PackKernelFn } from '../../kernel-pack';
import type { CKernelFunctions } from './functions';
import { floatsOf, type WasmHeap } from './heap';

const sizeOf = tf.util.sizeFromShape;

/** op(a)·op(b) (+ bias); undefined when the shapes need the previous kernel. */
function nativeProduct(addon: CKernelFunctions, heap: WasmHeap, a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean, bias?: tf.TensorInfo): tf.TensorInfo | undefined {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return undefined;
  const m = transposeA ? a.shape[a.shape.length - 1] : a.shape[a.shape.length - 2];
  const k = transposeA ? a.shape[a.shape.length - 2] : a.shape[a.shape.length - 1];
  const n = transposeB ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1];
  const kB = transposeB ? b.shape[b.shape.length - 1] : b.shape[b.shape.length - 2];
  if (k !== kB) return undefined;
  if (bias && (bias.dtype !== 'float32' || sizeOf(bias.shape) !== n)) return undefined;
  const batchA = sizeOf(a.shape.slice(0, -2));
  const batchB = sizeOf(b.shape.slice(0, -2));
  let outBatchShape: number[];
  try {
    outBatchShape = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  } catch {
    return undefined;
  }
  const batch = sizeOf(outBatchShape);
  // Both batched with different batch shapes ([2,1]·[1,3]): the previous kernel handles it.
  if (!isSimpleBatchBroadcast(a.shape.slice(0, -2), b.shape.slice(0, -2))) return undefined;
  const out = heap.makeOutput([...outBatchShape, m, n], 'float32');
  if (batch * m * n === 0) return out;
  // Views after the allocation: it may grow (move) the heap.
  const av = floatsOf(heap, a);
  const bv = floatsOf(heap, b);
  const cv = floatsOf(heap, out);
  const biasView = bias ? floatsOf(heap, bias) : null;
  if (batchB === 1 && batchA === batch && !transposeA && batch > 1) addon.sgemm(av, bv, cv, batch * m, n, k, false, transposeB, 1, 0, 0, biasView);
  else addon.sgemm(av, bv, cv, m, n, k, transposeA, transposeB, batch, batchA === 1 ? 0 : m * k, batchB === 1 ? 0 : k * n, biasView);
  return out;
}

export function batchMatMulKernel(addon: CKernelFunctions): PackKernel {
  return {
    kernelName: tf.BatchMatMul,
    why: 'OpenBLAS sgemm on the wasm heap: transposes as flags, batches without copies, split across the threads by rows, columns or batch items',
    make: (previous: PackKernelFn): PackKernelFn => (args) => {
      const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
      return nativeProduct(addon, args.backend as WasmHeap, a, b, transposeA, transposeB) ?? previous(args);
    },
  };
}

export function fusedMatMulKernel(addon: CKernelFunctions): PackKernel {
  return {
    kernelName: tf._FusedMatMul,
    why: 'OpenBLAS sgemm with the bias as its initial C (linear activation; others go to the previous kernel)',
    make: (previous: PackKernelFn): PackKernelFn => (args) => {
      const { a, b, bias, preluActivationWeights } = args.inputs as Record<string, tf.TensorInfo | undefined>;
      const { transposeA, transposeB, activation } = args.attrs as { transposeA: boolean; transposeB: boolean; activation?: string };
      const linear = (!activation || activation === 'linear') && !preluActivationWeights;
      return (linear ? nativeProduct(addon, args.backend as WasmHeap, a!, b!, transposeA, transposeB, bias) : undefined) ?? previous(args);
    },
  };
}
