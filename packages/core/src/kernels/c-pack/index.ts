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

export function cKernelList(addon: CKernelFunctions): PackKernel[] {
  return [
    batchMatMulKernel(addon),
    fusedMatMulKernel(addon),
    layerNormKernel(addon),
    layerNormGradKernel(addon),
    softmaxCrossEntropyKernel(addon),
    softmaxCrossEntropyGradKernel(addon),
    linearCrossEntropyKernel(addon),
    sumKernel(addon),
    erfKernel(addon),
    geluKernel(addon),
    geluGradKernel(addon),
    adamwKernel(addon),
    binaryKernel(addon, tf.Add),
    binaryKernel(addon, tf.Sub),
    binaryKernel(addon, tf.Multiply),
    binaryKernel(addon, tf.RealDiv),
    dropoutMaskKernel(addon),
  ];
}
