/** core's optional PretrainAdamW kernel: one parameter's AdamW update in one C pass, rounded as @pretrain/trainer's composed ops. */
import * as tf from '@tensorflow/tfjs-core';
import { ADAMW_UPDATE } from '../optional';
import type { PackKernel, PackKernelFn } from '../../kernel-pack';
import type { CKernelFunctions } from './functions';
import { floatsOf, type WasmHeap } from './heap';

interface AdamWAttrs {
  decay: number;
  beta1: number;
  beta2: number;
  biasCorrection2Sqrt: number;
  eps: number;
  stepSize: number;
}

export function adamwKernel(addon: CKernelFunctions): PackKernel {
  return {
    kernelName: ADAMW_UPDATE,
    why: 'the ~12 element-wise ops of an AdamW update in one pass',
    make: (): PackKernelFn => ({ inputs, backend, attrs }) => {
      const { param, grad, expAvg, expAvgSq } = inputs as Record<string, tf.TensorInfo>;
      const a = attrs as unknown as AdamWAttrs;
      const heap = backend as WasmHeap;
      const outs = [heap.makeOutput(param.shape, 'float32'), heap.makeOutput(param.shape, 'float32'), heap.makeOutput(param.shape, 'float32')];
      const [p, m, v] = outs.map((o) => floatsOf(heap, o));
      // 1 − β as JS computes it before tf.scalar rounds it (the composed update's scalars).
      addon.adamw(floatsOf(heap, param), floatsOf(heap, grad), floatsOf(heap, expAvg), floatsOf(heap, expAvgSq), p, m, v, a.decay, a.beta1, 1 - a.beta1, a.beta2, 1 - a.beta2, a.biasCorrection2Sqrt, a.eps, a.stepSize);
      return outs;
    },
  };
}
