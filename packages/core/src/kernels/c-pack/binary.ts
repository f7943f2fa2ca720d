/**
 * Add, Sub, Multiply and RealDiv on float32 in C, split across the threads: same shapes, a scalar, an
 * operand repeated along the leading axes (a bias [width] on [rows, width]) or one value per row (a
 * [..., 1] operand). Each output is one IEEE float operation, so the bits are the wasm kernel's.
 * Other broadcasts and dtypes go to the previous kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { PackKernel, PackKernelFn } from '../../kernel-pack';
import type { CKernelFunctions } from './functions';
import { floatsOf, type WasmHeap } from './heap';

const sizeOf = tf.util.sizeFromShape;

/** The addon's op codes (pretrain_native.c): the reversed forms compute small op full. */
const OPS = { [tf.Add]: [0, 0], [tf.Sub]: [1, 4], [tf.Multiply]: [2, 2], [tf.RealDiv]: [3, 5] } as const;

export type BinaryKernelName = keyof typeof OPS;

/** How `small` lines up with the output `shape`: repeated every `period` elements, or one value per `period`. */
export interface BinaryLayout {
  period: number;
  block: boolean;
}

/** The layout of `small` against `shape` (the output's, which `full` has), or undefined when the C loop does not cover it. */
export function binaryLayout(shape: number[], small: number[]): BinaryLayout | undefined {
  const size = sizeOf(shape);
  if (size === 0) return undefined;
  if (sizeOf(small) === 1) return { period: 1, block: false };
  const padded = [...Array(Math.max(0, shape.length - small.length)).fill(1), ...small];
  if (padded.length !== shape.length) return undefined;
  // Repeat: small is 1 on the leading axes and equal to shape on the rest.
  for (let k = 0; k < shape.length; k++) {
    if (padded.slice(k).every((d, i) => d === shape[k + i])) return { period: sizeOf(shape.slice(k)), block: false };
    if (padded[k] !== 1) break;
  }
  // Block: small equals shape except a trailing 1 where shape is wider.
  const last = shape.length - 1;
  if (padded[last] === 1 && padded.slice(0, last).every((d, i) => d === shape[i])) return { period: shape[last], block: true };
  return undefined;
}

export function binaryKernel(addon: CKernelFunctions, kernelName: BinaryKernelName): PackKernel {
  const [op, reversed] = OPS[kernelName];
  return {
    kernelName,
    why: 'float32 with same shapes, a scalar, a row or a column broadcast, in C across the threads',
    make: (previous: PackKernelFn): PackKernelFn => (args) => {
      const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      if (a.dtype !== 'float32' || b.dtype !== 'float32') return previous(args);
      const shape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
      const size = sizeOf(shape);
      // The full operand has the output's shape; the other is laid out against it.
      const aFull = sizeOf(a.shape) === size && a.shape.length === shape.length;
      const full = aFull ? a : b;
      const small = aFull ? b : a;
      if (sizeOf(full.shape) !== size || full.shape.length !== shape.length) return previous(args);
      const layout = binaryLayout(shape, small.shape);
      if (!layout) return previous(args);
      const heap = args.backend as WasmHeap;
      const out = heap.makeOutput(shape, 'float32');
      addon.binary(aFull ? op : reversed, floatsOf(heap, full), floatsOf(heap, small), floatsOf(heap, out), layout.period, layout.block);
      return out;
    },
  };
}
