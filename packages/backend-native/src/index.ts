/**
 * @pretrain/backend-native: matrix products on OpenBLAS and core's fused LayerNorm and softmax
 * cross-entropy in C, registered over the wasm backend's kernels (they work in place on its heap, so
 * every other op keeps running on wasm). Register the pack, then choose the backend:
 *
 *   registerKernelPack(nativeKernels);
 *   await initBackend({ backend: 'native', threads: 2 });
 */
import { cKernelList, type KernelPack, type PackKernel } from '@pretrain/core';
import { loadAddon, type NativeAddon } from './addon';

export { loadAddon, addonCandidates, prebuiltPackage, localBuild, ADDON_FILE, type NativeAddon, type Precision } from './addon';

/** The pack's kernels over the addon's functions (core's C-kernel list). */
export function nativeKernelList(addon: NativeAddon): PackKernel[] {
  return cKernelList(addon);
}

/** The kernel pack for core's registerKernelPack: backend "native", on wasm's tensors. */
export const nativeKernels: KernelPack = {
  name: 'native',
  base: 'wasm',
  load() {
    const loaded = loadAddon();
    if ('missing' in loaded) return loaded;
    const { addon } = loaded;
    const blas = addon.config().split(' ').slice(0, 2).join(' ');
    return {
      kernels: nativeKernelList(addon),
      detail: `${blas} sgemm; C LayerNorm, softmax cross-entropy, GELU, AdamW, element-wise ops, sums, erf, dropout masks`,
      setThreads: (threads: number) => addon.setThreads(threads),
      precisions: addon.precisions(),
      setPrecision: (precision) => addon.setPrecision(precision),
    };
  },
};
