/**
 * core's optional PretrainLinearCrossEntropy: logits = hidden · weightᵀ and softmax cross-entropy a chunk
 * of rows at a time in C, with the gradients from the same pass; the [rows × classes] logits never exist.
 */
import * as tf from '@tensorflow/tfjs-core';
import { LINEAR_CROSS_ENTROPY } from '../optional';
import type { PackKernel, PackKernelFn } from '../../kernel-pack';
import type { CKernelFunctions } from './functions';
import { floatsOf, intsOf, type WasmHeap } from './heap';

export function linearCrossEntropyKernel(addon: CKernelFunctions): PackKernel {
  return {
    kernelName: LINEAR_CROSS_ENTROPY,
    why: 'output projection and loss in chunks of rows, gradients in the same pass: no [rows × classes] logits',
    make: (): PackKernelFn => ({ inputs, backend, attrs }) => {
      const { hidden, weight, labels } = inputs as Record<string, tf.TensorInfo>;
      const { scale, gradients } = attrs as { scale: number; gradients: boolean };
      const [rows, width] = hidden.shape;
      const classes = weight.shape[0];
      const heap = backend as WasmHeap;
      const loss = heap.makeOutput([rows], 'float32');
      const hit = heap.makeOutput([rows], 'float32');
      const dHidden = heap.makeOutput(gradients ? [rows, width] : [0], 'float32');
      const dWeight = heap.makeOutput(gradients ? [classes, width] : [0], 'float32');
      // Views after every allocation (an allocation may move the wasm heap).
      addon.linearXent(floatsOf(heap, hidden), floatsOf(heap, weight), intsOf(heap, labels), rows, width, classes, scale, floatsOf(heap, loss), floatsOf(heap, hit), gradients ? floatsOf(heap, dHidden) : null, gradients ? floatsOf(heap, dWeight) : null);
      return [loss, hit, dHidden, dWeight];
    },
  };
}
