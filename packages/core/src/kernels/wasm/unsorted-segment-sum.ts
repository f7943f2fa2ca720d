/**
 * UnsortedSegmentSum (the gather gradient; stock TF.js wasm has none): one pass over the rows on the heap.
 */
import * as tf from '@tensorflow/tfjs-core';
import { segmentSumInto, segmentSumOutputShape, sizeOf } from '../shared';
import type { KernelArgs, WasmBackendLike } from './types';

export function unsortedSegmentSumWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { x, segmentIds } = args.inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const numSegments = (args.attrs as { numSegments: number }).numSegments;
  const outShape = segmentSumOutputShape(x.shape, segmentIds.shape.length, numSegments);
  const out = backend.makeOutput(outShape, x.dtype === 'int32' ? 'int32' : 'float32');
  // Views are taken after makeOutput: an allocation can grow (and detach) the heap.
  const rowSize = sizeOf(x.shape.slice(segmentIds.shape.length));
  segmentSumInto(backend.typedArrayFromHeap(out), backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(segmentIds), rowSize, numSegments);
  return out;
}
