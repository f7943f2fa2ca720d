/** core's fused LayerNorm kernels (PretrainLayerNorm / PretrainLayerNormGrad) as C loops: the same math (core's layer-norm.ts). */
import * as tf from '@tensorflow/tfjs-core';
import { LAYER_NORM, LAYER_NORM_GRAD } from '../layer-norm';
import type { PackKernel, PackKernelFn } from '../../kernel-pack';
import type { CKernelFunctions } from './functions';
import { floatsOf, type WasmHeap } from './heap';

const sizeOf = tf.util.sizeFromShape;

function rowsOf(x: tf.TensorInfo): { rows: number; width: number } {
  const width = x.shape[x.shape.length - 1] ?? 1;
  return { rows: width === 0 ? 0 : sizeOf(x.shape) / width, width };
}

export function layerNormKernel(addon: CKernelFunctions): PackKernel {
  return {
    kernelName: LAYER_NORM,
    why: 'the row loop in C',
    make: (): PackKernelFn => ({ inputs, backend, attrs }) => {
      const { x, gamma, beta } = inputs as Record<string, tf.TensorInfo>;
      const heap = backend as WasmHeap;
      const { rows, width } = rowsOf(x);
      const y = heap.makeOutput(x.shape, 'float32');
      addon.layerNorm(floatsOf(heap, x), floatsOf(heap, gamma), floatsOf(heap, beta), rows, width, (attrs as { eps: number }).eps, floatsOf(heap, y));
      return y;
    },
  };
}

export function layerNormGradKernel(addon: CKernelFunctions): PackKernel {
  return {
    kernelName: LAYER_NORM_GRAD,
    why: 'dx, dγ, dβ in one C pass per row',
    make: (): PackKernelFn => ({ inputs, backend, attrs }) => {
      const { dy, x, gamma } = inputs as Record<string, tf.TensorInfo>;
      const heap = backend as WasmHeap;
      const { rows, width } = rowsOf(x);
      const dx = heap.makeOutput(x.shape, 'float32');
      const dgamma = heap.makeOutput([width], 'float32');
      const dbeta = heap.makeOutput([width], 'float32');
      // Views after every allocation (an allocation may move the heap).
      addon.layerNormGrad(floatsOf(heap, dy), floatsOf(heap, x), floatsOf(heap, gamma), rows, width, (attrs as { eps: number }).eps, floatsOf(heap, dx), floatsOf(heap, dgamma), floatsOf(heap, dbeta));
      return [dx, dgamma, dbeta];
    },
  };
}
