/** Erf (exact GELU) with TF.js's own formula, vectorised in C: wasm runs it as a scalar libm loop. */
import * as tf from '@tensorflow/tfjs-core';
import type { PackKernel, PackKernelFn } from '../../kernel-pack';
import type { CKernelFunctions } from './functions';
import { floatsOf, type WasmHeap } from './heap';

export function erfKernel(addon: CKernelFunctions): PackKernel {
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
