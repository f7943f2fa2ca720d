/** The native kernels, one per file, and the one list they are registered from (by core's initBackend, backend "native"). */
import type { PackKernel } from '@pretrain/core';
import type { NativeAddon } from '../addon';
import { layerNormGradKernel, layerNormKernel } from './layer-norm';
import { batchMatMulKernel, fusedMatMulKernel } from './mat-mul';
import { adamwKernel } from './adamw';
import { erfKernel } from './erf';
import { geluGradKernel, geluKernel } from './gelu';
import { softmaxCrossEntropyGradKernel, softmaxCrossEntropyKernel } from './softmax-cross-entropy';
import { sumKernel } from './sum';

export function nativeKernelList(addon: NativeAddon): PackKernel[] {
  return [
    batchMatMulKernel(addon),
    fusedMatMulKernel(addon),
    layerNormKernel(addon),
    layerNormGradKernel(addon),
    softmaxCrossEntropyKernel(addon),
    softmaxCrossEntropyGradKernel(addon),
    sumKernel(addon),
    erfKernel(addon),
    geluKernel(addon),
    geluGradKernel(addon),
    adamwKernel(addon),
  ];
}
