/**
 * Kernels over C functions working on the wasm heap (a kernel pack's: @pretrain/backend-native's addon
 * supplies the functions), one per file, and the one list they are registered from.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { PackKernel } from '../../kernel-pack';
import type { CKernelFunctions } from './functions';
import { layerNormGradKernel, layerNormKernel } from './layer-norm';
import { batchMatMulKernel, fusedMatMulKernel } from './mat-mul';
import { adamwKernel } from './adamw';
import { binaryKernel } from './binary';
import { dropoutMaskKernel } from './dropout-mask';
import { linearCrossEntropyKernel } from './linear-cross-entropy';
import { erfKernel } from './erf';
import { geluGradKernel, geluKernel } from './gelu';
import { softmaxCrossEntropyGradKernel, softmaxCrossEntropyKernel } from './softmax-cross-entropy';
import { sumKernel } from './sum';

/** Each kernel and the C functions it calls. */
function entries(addon: CKernelFunctions): { needs: (keyof CKernelFunctions)[]; kernel: PackKernel }[] {
  return [
    { needs: ['sgemm'], kernel: batchMatMulKernel(addon) },
    { needs: ['sgemm'], kernel: fusedMatMulKernel(addon) },
    { needs: ['layerNorm'], kernel: layerNormKernel(addon) },
    { needs: ['layerNormGrad'], kernel: layerNormGradKernel(addon) },
    { needs: ['softmaxXent'], kernel: softmaxCrossEntropyKernel(addon) },
    { needs: ['softmaxXentGrad'], kernel: softmaxCrossEntropyGradKernel(addon) },
    { needs: ['linearXent'], kernel: linearCrossEntropyKernel(addon) },
    { needs: ['columnSum'], kernel: sumKernel(addon) },
    { needs: ['erf'], kernel: erfKernel(addon) },
    { needs: ['gelu'], kernel: geluKernel(addon) },
    { needs: ['gelu'], kernel: geluGradKernel(addon) },
    { needs: ['adamw'], kernel: adamwKernel(addon) },
    { needs: ['binary'], kernel: binaryKernel(addon, tf.Add) },
    { needs: ['binary'], kernel: binaryKernel(addon, tf.Sub) },
    { needs: ['binary'], kernel: binaryKernel(addon, tf.Multiply) },
    { needs: ['binary'], kernel: binaryKernel(addon, tf.RealDiv) },
    { needs: ['dropoutMask'], kernel: dropoutMaskKernel(addon) },
  ];
}

/**
 * The kernels over `addon`'s functions: all of them, or (with `provides`) those whose functions are
 * all among `provides` (a set of C functions that implements only some).
 */
export function cKernelList(addon: CKernelFunctions, provides?: readonly (keyof CKernelFunctions)[]): PackKernel[] {
  return entries(addon)
    .filter(({ needs }) => !provides || needs.every((name) => provides.includes(name)))
    .map(({ kernel }) => kernel);
}
