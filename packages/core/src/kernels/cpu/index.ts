/**
 * core's cpu kernels, one per file (the fused LayerNorm and softmax cross-entropy are shared with wasm:
 * kernels/layer-norm.ts, losses.ts), and the one list they are registered from, by initBackend when it
 * sets up the cpu backend (the reference every other backend is tested against).
 */
import * as tf from '@tensorflow/tfjs-core';
import { recordReplacement } from '../stock';
import { batchMatMulCpu } from './batch-mat-mul';
import type { KernelFn } from './types';
import { unsortedSegmentSumCpu } from './unsorted-segment-sum';
import { LAYER_NORM, LAYER_NORM_GRAD, layerNormGradKernel, layerNormKernel } from '../layer-norm';
import { SOFTMAX_CROSS_ENTROPY, SOFTMAX_CROSS_ENTROPY_GRAD, softmaxCrossEntropyGradKernel, softmaxCrossEntropyKernel } from '../../losses';

export interface CpuKernelSpec {
  kernelName: string;
  why: string;
  /** Makes the kernel from the stock one (undefined when TF.js has none). */
  make(stock: KernelFn | undefined): KernelFn;
}

export const CPU_KERNELS: CpuKernelSpec[] = [
  { kernelName: tf.UnsortedSegmentSum, why: 'one pass over the rows', make: () => unsortedSegmentSumCpu as KernelFn },
  { kernelName: tf.BatchMatMul, why: 'batch dims that broadcast both ways computed correctly', make: (stock) => batchMatMulCpu(stock!) },
  { kernelName: LAYER_NORM, why: 'fused LayerNorm, row statistics in double', make: () => layerNormKernel('cpu') as unknown as KernelFn },
  { kernelName: LAYER_NORM_GRAD, why: 'its dx, dγ, dβ in one pass', make: () => layerNormGradKernel('cpu') as unknown as KernelFn },
  { kernelName: SOFTMAX_CROSS_ENTROPY, why: 'fused softmax cross-entropy: loss, accuracy and the exponentials its gradient reuses', make: () => softmaxCrossEntropyKernel('cpu') as unknown as KernelFn },
  { kernelName: SOFTMAX_CROSS_ENTROPY_GRAD, why: 'its gradient in one pass', make: () => softmaxCrossEntropyGradKernel('cpu') as unknown as KernelFn },
];

let registered = false;

/** Replaces the cpu backend's slow or wrong kernels (idempotent). Requires @tensorflow/tfjs-backend-cpu loaded. */
export function registerCpuKernels(): void {
  if (registered) return;
  registered = true;
  for (const spec of CPU_KERNELS) {
    const stock = tf.getKernel(spec.kernelName, 'cpu');
    if (!stock && spec.kernelName === tf.BatchMatMul) continue;
    if (stock) tf.unregisterKernel(spec.kernelName, 'cpu');
    const ours: tf.KernelConfig = { ...(stock ?? {}), kernelName: spec.kernelName, backendName: 'cpu', kernelFunc: spec.make(stock?.kernelFunc as KernelFn | undefined) as tf.KernelFunc };
    tf.registerKernel(ours);
    recordReplacement(ours, stock);
  }
}
