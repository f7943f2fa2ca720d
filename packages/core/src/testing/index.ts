/**
 * Test doubles and fixture helpers for Pretrain's own package tests (`@pretrain/core/testing`).
 * Plugin packages may not depend on each other, so their tests share these instead.
 */
export * from './tiny-backbone';
export * from './piece-tokenizer';
export * from './sample-text';
export * from './train-step';
export * from './hf-fixture';
export * from './forbid-heavy-modules';
export * from './temp-dir';
export * from './matmul-cases';
export { generatedBlock, kernelTable, withGeneratedBlock, type DocumentedKernel } from '../kernels/docs';
export { binaryLayout } from '../kernels/c-pack/binary';
export { cKernelParityCases, C_MATMUL_CASES, outputsOn, worstRelativeDifference, type HostTensor, type KernelParityCase } from './c-kernel-parity';
