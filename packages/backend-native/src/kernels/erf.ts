/** Erf (exact GELU) with TF.js's own formula, vectorised in C: wasm runs it as a scalar libm loop. */
import * as tf from '@tensorflow/tfjs-core';
import type { PackKernel, PackKernelFn } from '@pretrain/core';
import type { NativeAddon } from '../addon';
import { floatsOf, type WasmHeap } from './heap';

export function erfKernel(addon: NativeAddon): PackKernel {
  return {
    kernelName: tf.Erf,
    why: 'vectorised in C (wasm: a scalar loop)',
    make: (previous: PackKernelFn): PackKernelFn => (args) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      if (x.dtype !== 'float32') return previous(args);
      const heap = args.backend as WasmHeap;
      const y = heap.makeOutput(x.shape, 'float32');
      addon.erf(floatsOf(heap, x), floatsOf(heap, y));
      return y;
    },
  };
}
