/**
 * Sum over leading axes in one pass (float64 accumulators), no transpose.
 */
import * as tf from '@tensorflow/tfjs-core';
import { sizeOf, sumLeadingAxesInto } from '../shared';
import type { KernelFn, WasmBackendLike } from './types';

/** Sums over leading axes (bias and LayerNorm gradients) without the stock kernel's transpose. */
export function sumWasm(stock: KernelFn): KernelFn {
  return (args) => {
    const backend = args.backend as WasmBackendLike;
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
    const leading = axes.length > 0 && axes.length < x.shape.length && axes.every((d, i) => d === i);
    if (!leading || (x.dtype !== 'float32' && x.dtype !== 'int32')) return stock(args);
    const inner = sizeOf(x.shape.slice(axes.length));
    const outShape = keepDims ? x.shape.map((d, i) => (i < axes.length ? 1 : d)) : x.shape.slice(axes.length);
    const out = backend.makeOutput(outShape, x.dtype);
    sumLeadingAxesInto(backend.typedArrayFromHeap(out), backend.typedArrayFromHeap(x), sizeOf(x.shape) / inner, inner);
    return out;
  };
}
