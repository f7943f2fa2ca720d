/**
 * UnsortedSegmentSum (the gather gradient) in one pass over the rows: the stock kernel runs an
 * equal/cast/multiply/sum chain per segment, O(vocab × tokens × hidden) for an embedding gradient.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { segmentSumInto, segmentSumOutputShape, sizeOf } from '../shared';
import type { CpuBackendLike } from './types';

export function unsortedSegmentSumCpu(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
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
