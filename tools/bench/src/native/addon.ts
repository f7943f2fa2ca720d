/**
 * In-process A/B of @pretrain/backend-native's kernels against core's wasm kernels (the `native`
 * bench): installs the package's kernels over the wasm backend's and takes them off again, so both
 * run alternately in one process on the same heap. Programs use `initBackend({ backend: 'native' })`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { PackKernelFn } from '@pretrain/core';
import { loadAddon, nativeKernelList, type NativeAddon } from '@pretrain/backend-native';

export type Gemm = NativeAddon;

/** The package's addon, or why it is not available. */
export function loadGemm(): { gemm: Gemm } | { missing: string } {
  const loaded = loadAddon();
  return 'missing' in loaded ? loaded : { gemm: loaded.addon };
}

let installed: { ours: tf.KernelConfig[]; previous: (tf.KernelConfig | undefined)[] } | undefined;

/** Registers the package's kernels over the wasm backend's (the active backend must be wasm); core's optional kernels (GELU, AdamW) are added. */
export function installNativeMatMul(gemm: Gemm, threads: number): void {
  if (installed) return;
  gemm.setThreads(threads);
  const specs = nativeKernelList(gemm);
  const previous = specs.map((spec) => tf.getKernel(spec.kernelName, 'wasm'));
  const missing: PackKernelFn = () => {
    throw new Error('no previous wasm kernel');
  };
  const ours = specs.map((spec, i) => ({ kernelName: spec.kernelName, backendName: 'wasm', setupFunc: previous[i]?.setupFunc, kernelFunc: spec.make((previous[i]?.kernelFunc as PackKernelFn | undefined) ?? missing) as tf.KernelFunc }));
  swap(previous, ours);
  installed = { ours, previous };
}

/** Puts core's wasm kernels back (and removes the added ones). */
export function uninstallNativeMatMul(): void {
  if (!installed) return;
  swap(installed.ours, installed.previous);
  installed = undefined;
}

/** Entry i of `to` takes the place of entry i of `from` (same kernel name; either may be absent). */
function swap(from: (tf.KernelConfig | undefined)[], to: (tf.KernelConfig | undefined)[]): void {
  from.forEach((kernel, i) => {
    const name = (kernel ?? to[i])!.kernelName;
    if (tf.getKernel(name, 'wasm')) tf.unregisterKernel(name, 'wasm');
    if (to[i]) tf.registerKernel(to[i]!);
  });
}
