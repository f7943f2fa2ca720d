/**
 * Bookkeeping of the kernels core replaced, so benchmarks and parity checks can run the stock
 * TF.js kernel in the same process (`withStockKernels`) and print ours/stock ratios.
 */
import * as tf from '@tensorflow/tfjs-core';

interface Replacement {
  ours: tf.KernelConfig;
  stock?: tf.KernelConfig;
  /** The kernel pack that registered it (core's own have none). */
  pack?: string;
}

const replacements: Replacement[] = [];

export function recordReplacement(ours: tf.KernelConfig, stock: tf.KernelConfig | undefined, pack?: string): void {
  replacements.push({ ours, stock, pack });
}

/** Names of the kernels core (and any installed kernel pack) registered, as `Kernel@backend` (e.g. `BatchMatMul@wasm`, `BatchMatMul@wasm (native)`). */
export function replacedKernels(): string[] {
  return replacements.map((r) => `${r.ours.kernelName}@${r.ours.backendName}${r.pack ? ` (${r.pack})` : r.stock ? '' : ' (added)'}`);
}

/**
 * Runs `fn` with TF.js's stock kernels registered in place of core's replacements (kernels that
 * core added because TF.js lacks them stay). For benchmarks and reference checks only.
 */
export function withStockKernels<T>(fn: () => T): T {
  // Replacements are layers (core's, then a kernel pack's over them): take them off newest first and
  // put them back oldest first, so each kernel name ends where it started.
  const swapped = replacements.filter((r) => r.stock);
  const put = (from: tf.KernelConfig, to: tf.KernelConfig) => {
    tf.unregisterKernel(from.kernelName, from.backendName);
    tf.registerKernel(to);
  };
  for (const r of [...swapped].reverse()) put(r.ours, r.stock!);
  try {
    return fn();
  } finally {
    for (const r of swapped) put(r.stock!, r.ours);
  }
}
