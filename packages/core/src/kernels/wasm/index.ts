/**
 * core's wasm kernels, one per file, and the one list they are registered from. Each entry makes the
 * kernel from the stock one (which it may call for the cases it leaves alone); entries with no stock
 * kernel are additions (the fused LayerNorm and softmax cross-entropy, shared with cpu: kernels/layer-norm.ts,
 * losses.ts). registerWasmKernels() runs when the wasm backend is set up (initBackend).
 */
import * as tf from '@tensorflow/tfjs-core';
import { recordReplacement } from '../stock';
import { batchMatMulWasm } from './batch-mat-mul';
import { comparisonWasm, COMPARISONS } from './comparisons';
import { fusedMatMulWasm } from './fused-mat-mul';
import { gatherWasm } from './gather-v2';
import { identityWasm } from './identity';
import { oneHotWasm } from './one-hot';
import { sumWasm } from './sum';
import type { KernelFn } from './types';
import { unsortedSegmentSumWasm } from './unsorted-segment-sum';
import { LAYER_NORM, LAYER_NORM_GRAD, layerNormGradKernel, layerNormKernel } from '../layer-norm';
import { cKernelList } from '../c-pack/index';
import type { PackKernel } from '../../kernel-pack';
import { simdKernelsSupported } from './simd-kernels';
import { WASM_SIMD_FUNCTIONS, wasmSimdFunctions } from './simd-functions';
import { SOFTMAX_CROSS_ENTROPY, SOFTMAX_CROSS_ENTROPY_GRAD, softmaxCrossEntropyGradKernel, softmaxCrossEntropyKernel } from '../../losses';

export interface WasmKernelSpec {
  kernelName: string;
  /** What it fixes or speeds up (docs/backends.md). */
  why: string;
  make(stock: KernelFn): KernelFn;
}

export const WASM_KERNELS: WasmKernelSpec[] = [
  { kernelName: tf.BatchMatMul, why: 'transposed and batched products on XNNPACK\'s fast 2-D path', make: (stock) => batchMatMulWasm(stock) },
  { kernelName: tf._FusedMatMul, why: 'transposes taken off before the stock fused kernel', make: (stock) => fusedMatMulWasm(stock) },
  { kernelName: tf.OneHot, why: 'float32 output is correct', make: () => oneHotWasm },
  { kernelName: tf.UnsortedSegmentSum, why: 'missing in stock (the gather gradient)', make: () => unsortedSegmentSumWasm },
  ...COMPARISONS.map((op) => ({ kernelName: op, why: 'row loops instead of a per-element broadcast path', make: () => comparisonWasm(op) })),
  { kernelName: tf.Sum, why: 'leading-axis sums in one pass, no transpose', make: (stock) => sumWasm(stock) },
  { kernelName: tf.Identity, why: 'shares the input buffer instead of copying', make: (stock) => identityWasm(stock) },
  { kernelName: tf.GatherV2, why: 'axis-0 gathers as row copies', make: (stock) => gatherWasm(stock) },
  { kernelName: LAYER_NORM, why: 'fused LayerNorm, row statistics in double, on heap views', make: () => layerNormKernel('wasm') as unknown as KernelFn },
  { kernelName: LAYER_NORM_GRAD, why: 'its dx, dγ, dβ in one pass', make: () => layerNormGradKernel('wasm') as unknown as KernelFn },
  { kernelName: SOFTMAX_CROSS_ENTROPY, why: 'fused softmax cross-entropy, exponentials through XNNPACK\'s sigmoid', make: () => softmaxCrossEntropyKernel('wasm') as unknown as KernelFn },
  { kernelName: SOFTMAX_CROSS_ENTROPY_GRAD, why: 'its gradient in one pass', make: () => softmaxCrossEntropyGradKernel('wasm') as unknown as KernelFn },
];

/**
 * The kernels over core's wasm C module (packages/core/wasm/*.c; kernels/wasm/simd-kernels.ts):
 * the products, LayerNorm, the fused loss, leading-axis sums, GELU, AdamW, Add/Sub/Mul/Div and dropout
 * masks — the same kernels that drive the native addon (kernels/c-pack/). Registered over WASM_KERNELS,
 * each falling back to the kernel below it for the cases it leaves alone, where WebAssembly SIMD is
 * available and PRETRAIN_WASM_KERNELS is not "off".
 */
export const WASM_SIMD_KERNELS: PackKernel[] = cKernelList(wasmSimdFunctions, WASM_SIMD_FUNCTIONS);

let registered = false;
let simdRegistered = false;

/** Replaces / adds the wasm kernels of WASM_KERNELS, then WASM_SIMD_KERNELS (idempotent). Call after loading tfjs-backend-wasm, before setBackend. */
export function registerWasmKernels(): void {
  if (registered) return;
  registered = true;
  for (const spec of WASM_KERNELS) replaceKernel(spec.kernelName, spec.make);
  simdRegistered = simdKernelsSupported();
  if (simdRegistered) for (const kernel of WASM_SIMD_KERNELS) replaceKernel(kernel.kernelName, kernel.make as unknown as (stock: KernelFn) => KernelFn, 'C');
}

/** Whether WASM_SIMD_KERNELS are registered (this process's wasm backend runs core's C module). */
export function wasmSimdKernelsRegistered(): boolean {
  return simdRegistered;
}

/**
 * Registers `make(stock)` for the wasm backend, keeping the stock setupFunc (it wires the C exports);
 * `layer` labels a second layer in replacedKernels() (`BatchMatMul@wasm (C)`).
 */
function replaceKernel(kernelName: string, make: (stock: KernelFn) => KernelFn, layer?: string): void {
  const stock = tf.getKernel(kernelName, 'wasm');
  const stockFn = (stock?.kernelFunc as KernelFn | undefined) ?? missingKernel(kernelName);
  if (stock) tf.unregisterKernel(kernelName, 'wasm');
  const ours: tf.KernelConfig = { kernelName, backendName: 'wasm', setupFunc: stock?.setupFunc, kernelFunc: make(stockFn) as tf.KernelFunc };
  tf.registerKernel(ours);
  recordReplacement(ours, stock, layer);
}

function missingKernel(kernelName: string): KernelFn {
  return () => {
    throw new Error(`Kernel '${kernelName}' has no stock wasm implementation`);
  };
}
