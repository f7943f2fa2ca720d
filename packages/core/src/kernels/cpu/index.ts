/**
 * core's cpu kernels, one per file, and the one list they are registered from (when core is loaded:
 * the cpu backend is the reference every other backend is tested against).
 */
import * as tf from '@tensorflow/tfjs-core';
import { recordReplacement } from '../stock';
import { batchMatMulCpu } from './batch-mat-mul';
import type { KernelFn } from './types';
import { unsortedSegmentSumCpu } from './unsorted-segment-sum';

export interface CpuKernelSpec {
  kernelName: string;
  why: string;
  /** Makes the kernel from the stock one (undefined when TF.js has none). */
  make(stock: KernelFn | undefined): KernelFn;
}

export const CPU_KERNELS: CpuKernelSpec[] = [
  { kernelName: tf.UnsortedSegmentSum, why: 'one pass over the rows', make: () => unsortedSegmentSumCpu as KernelFn },
  { kernelName: tf.BatchMatMul, why: 'batch dims that broadcast both ways computed correctly', make: (stock) => batchMatMulCpu(stock!) },
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
