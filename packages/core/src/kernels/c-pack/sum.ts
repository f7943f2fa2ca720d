/** Sum over leading axes (bias gradients: [tokens, width] → [width]) in one C pass with double accumulators; other sums go to the previous kernel. */
import * as tf from '@tensorflow/tfjs-core';
import type { PackKernel, PackKernelFn } from '../../kernel-pack';
import type { CKernelFunctions } from './functions';
import { floatsOf, type WasmHeap } from './heap';

const sizeOf = tf.util.sizeFromShape;

export function sumKernel(addon: CKernelFunctions): PackKernel {
  return {
    kernelName: tf.Sum,
    why: 'leading-axis float32 sums in C',
    make: (previous: PackKernelFn): PackKernelFn => (args) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
      const axes = tf.util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
      const leading = axes.length > 0 && axes.length < x.shape.length && axes.every((d, i) => d === i);
      if (!leading || x.dtype !== 'float32') return previous(args);
      const heap = args.backend as WasmHeap;
      const inner = sizeOf(x.shape.slice(axes.length));
      const outShape = keepDims ? x.shape.map((d, i) => (i < axes.length ? 1 : d)) : x.shape.slice(axes.length);
      const out = heap.makeOutput(outShape, 'float32');
      addon.columnSum(floatsOf(heap, x), inner === 0 ? 0 : sizeOf(x.shape) / inner, inner, floatsOf(heap, out));
      return out;
    },
  };
}
