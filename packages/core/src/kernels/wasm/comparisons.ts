/**
 * Broadcast comparisons (Equal, Less, LogicalAnd, …) as row loops on the heap.
 */
import * as tf from '@tensorflow/tfjs-core';
import { broadcastCompareInto, sizeOf, type ComparisonOp } from '../shared';
import type { KernelFn, WasmBackendLike } from './types';

export const COMPARISONS: ComparisonOp[] = ['Equal', 'NotEqual', 'Greater', 'GreaterEqual', 'Less', 'LessEqual', 'LogicalAnd', 'LogicalOr'];

/**
 * Comparisons: the stock C++ kernels index every element through a generic broadcast path
 * (~250 ns/element with a broadcast operand, e.g. the Equal mask in tf.max's gradient).
 */
export function comparisonWasm(op: ComparisonOp): KernelFn {
  return (args) => {
    const backend = args.backend as WasmBackendLike;
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const out = backend.makeOutput(outShape, 'bool');
    if (sizeOf(outShape) === 0) return out;
    broadcastCompareInto(op, backend.typedArrayFromHeap(out) as Uint8Array, backend.typedArrayFromHeap(a), a.shape, backend.typedArrayFromHeap(b), b.shape, outShape);
    return out;
  };
}
