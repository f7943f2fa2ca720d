/** core's optional PretrainGelu / PretrainGeluGrad kernels: GELU (erf or GPT-2's tanh form) and its gradient in one C pass each. */
import * as tf from '@tensorflow/tfjs-core';
import { GELU, GELU_GRAD } from '../optional';
import type { PackKernel, PackKernelFn } from '../../kernel-pack';
import type { CKernelFunctions } from './functions';
import { floatsOf, type WasmHeap } from './heap';

export function geluKernel(addon: CKernelFunctions): PackKernel {
  return {
    kernelName: GELU,
    why: 'x Φ(x) in one pass (composed: 4–7 element-wise kernels)',
    make: (): PackKernelFn => ({ inputs, backend, attrs }) => {
      const { x } = inputs as { x: tf.TensorInfo };
      const heap = backend as WasmHeap;
      const y = heap.makeOutput(x.shape, 'float32');
      addon.gelu(floatsOf(heap, x), null, floatsOf(heap, y), Boolean((attrs as { approximate: boolean }).approximate));
      return y;
    },
  };
}

export function geluGradKernel(addon: CKernelFunctions): PackKernel {
  return {
    kernelName: GELU_GRAD,
    why: 'dy · GELU′(x) in one pass (composed: ~9 element-wise kernels)',
    make: (): PackKernelFn => ({ inputs, backend, attrs }) => {
      const { dy, x } = inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
      const heap = backend as WasmHeap;
      const dx = heap.makeOutput(x.shape, 'float32');
      addon.gelu(floatsOf(heap, x), floatsOf(heap, dy), floatsOf(heap, dx), Boolean((attrs as { approximate: boolean }).approximate));
      return dx;
    },
  };
}
