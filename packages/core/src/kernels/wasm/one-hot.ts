/**
 * OneHot: the stock kernel writes int32 bit patterns for dtype float32; written in JS on the heap, any dtype.
 */
import * as tf from '@tensorflow/tfjs-core';
import { oneHotInto } from '../shared';
import type { KernelArgs, WasmBackendLike } from './types';

export function oneHotWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { indices } = args.inputs as { indices: tf.TensorInfo };
  const { depth, onValue, offValue, dtype } = args.attrs as { depth: number; onValue: number; offValue: number; dtype: tf.DataType };
  const out = backend.makeOutput([...indices.shape, depth], dtype);
  oneHotInto(backend.typedArrayFromHeap(out), backend.typedArrayFromHeap(indices), depth, onValue, offValue);
  return out;
}
