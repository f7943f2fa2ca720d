/** core's fused softmax cross-entropy kernels as C loops: the same outputs (core's losses.ts), exponentials vectorised. */
import * as tf from '@tensorflow/tfjs-core';
import { SOFTMAX_CROSS_ENTROPY, SOFTMAX_CROSS_ENTROPY_GRAD } from '../../losses';
import type { PackKernel, PackKernelFn } from '../../kernel-pack';
import type { CKernelFunctions } from './functions';
import { floatsOf, intsOf, type WasmHeap } from './heap';

export function softmaxCrossEntropyKernel(addon: CKernelFunctions): PackKernel {
  return {
    kernelName: SOFTMAX_CROSS_ENTROPY,
    why: 'max, exponentials, sums, loss and hit per row in C',
    make: (): PackKernelFn => ({ inputs, backend }) => {
      const { logits, labels } = inputs as { logits: tf.TensorInfo; labels: tf.TensorInfo };
      const heap = backend as WasmHeap;
      const [rows, classes] = logits.shape;
      const exps = heap.makeOutput([rows, classes], 'float32');
      const loss = heap.makeOutput([rows], 'float32');
      const hit = heap.makeOutput([rows], 'float32');
      const inverses = heap.makeOutput([rows], 'float32');
      if (rows * classes > 0) addon.softmaxXent(floatsOf(heap, logits), intsOf(heap, labels), rows, classes, floatsOf(heap, exps), floatsOf(heap, inverses), floatsOf(heap, loss), floatsOf(heap, hit));
      return [exps, loss, hit, inverses];
    },
  };
}

export function softmaxCrossEntropyGradKernel(addon: CKernelFunctions): PackKernel {
  return {
    kernelName: SOFTMAX_CROSS_ENTROPY_GRAD,
    why: '(softmax − one-hot) · row scale in C',
    make: (): PackKernelFn => ({ inputs, backend }) => {
      const { exps, inverses, labels, rowScale } = inputs as Record<string, tf.TensorInfo>;
      const heap = backend as WasmHeap;
      const [rows, classes] = exps.shape;
      const out = heap.makeOutput([rows, classes], 'float32');
      if (rows * classes > 0) addon.softmaxXentGrad(floatsOf(heap, exps), floatsOf(heap, inverses), intsOf(heap, labels), floatsOf(heap, rowScale), rows, classes, floatsOf(heap, out));
      return out;
    },
  };
}
