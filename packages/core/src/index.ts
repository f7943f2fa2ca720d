// tfjs-core's CommonJS build registers no gradients by itself; every user of core gets them.
import './gradients';

// Contract types, errors, atomic writes, growable id buffers (also `@pretrain/core/lite`).
export * from './lite';
export * from './rng';
export * from './registry';
export * from './config';
export * from './backend';
export { withStockKernels, replacedKernels } from './kernels/stock';
export { registerKernelPack, kernelPackAvailable, type KernelPack, type LoadedKernelPack, type PackKernel, type PackKernelFn } from './kernel-pack';
export { cKernelList } from './kernels/c-pack/index';
export type { CKernelFunctions } from './kernels/c-pack/functions';
export { LAYER_NORM, LAYER_NORM_GRAD } from './kernels/layer-norm';
export { isSimpleBatchBroadcast } from './kernels/shared';
export { ADAMW_UPDATE, DROPOUT_MASK, GELU, GELU_GRAD, LINEAR_CROSS_ENTROPY, OPTIONAL_KERNELS, backendHasKernel, type DropoutMaskAttrs } from './kernels/optional';
export * from './batch';
export * from './safetensors';
export * from './parameters';
export * from './pooled-classifier';
export * from './tied-lm-head';
export * from './plugin-classes';
export * from './hf-config';
export * from './checkpoint';
export * from './architecture';
export * from './limits';
/** Layer functions (dense, layerNorm, GELUs, dropout, attention masks) shared by the model packages and heads. */
export * from './nn';
export { documentTokens, framedExample, FullSentenceBuilder, framingTokens, windowFraming, wordIdsFor, type FullSentenceOptions } from './full-sentence-builder';
export { softmaxCrossEntropy, linearSoftmaxCrossEntropy, type LinearSoftmaxCrossEntropyOptions, assertLabelsInRange, IGNORE_LABEL, SOFTMAX_CROSS_ENTROPY, SOFTMAX_CROSS_ENTROPY_GRAD, type SoftmaxCrossEntropyOptions, type SoftmaxCrossEntropyResult } from './losses';
/** Plugins define their option schemas with core's zod, so every package validates the same way. */
export { z } from 'zod';
