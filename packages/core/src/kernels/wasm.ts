import * as tf from '@tensorflow/tfjs-core';
import type { BackendInfo } from '../backend';

/**
 * Loads the wasm backend and registers the kernels it lacks or gets wrong. Placeholder: the
 * backend work adds UnsortedSegmentSum, float32 OneHot, fast transposed/batched MatMul,
 * removal of the global exception handlers, and threads.
 */
export async function setupWasmBackend(): Promise<BackendInfo> {
  require('@tensorflow/tfjs-backend-wasm');
  if (!(await tf.setBackend('wasm'))) throw new Error('could not initialise the wasm backend');
  return { name: 'wasm', threads: 1, detail: 'simd' };
}
