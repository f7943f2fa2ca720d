/**
 * Kernel packs: optional packages (e.g. @pretrain/backend-native) whose kernels replace some of a
 * backend's kernels (the matmuls, LayerNorm, the fused loss) while that backend keeps its tensors and
 * runs everything else. Core never depends on a pack: a program registers one explicitly
 * (`registerKernelPack(nativeKernels)`; the pretrain CLI does), and `initBackend({ backend: 'native' })`
 * (or PRETRAIN_BACKEND=native) loads it on top of its base backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Precision } from './backend';
import { OPTIONAL_KERNELS } from './kernels/optional';
import { recordReplacement } from './kernels/stock';

export type PackKernelFn = (args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }) => tf.TensorInfo | tf.TensorInfo[];

export interface PackKernel {
  kernelName: string;
  /** What it does better than the kernel it replaces (listed by docs and `replacedKernels()`). */
  why: string;
  /** Makes the kernel from the one registered before it, which it may call for the cases it leaves alone. */
  make(previous: PackKernelFn): PackKernelFn;
}

export interface LoadedKernelPack {
  kernels: PackKernel[];
  /** Library, version, build: the backend line's detail. */
  detail: string;
  /** The pack's own thread pool (e.g. OpenBLAS). */
  setThreads(threads: number): void;
  /** The products' precisions it can run (float32 when absent) and the switch between them. */
  precisions?: readonly Precision[];
  setPrecision?(precision: Precision): void;
}

export interface KernelPack {
  /** The backend name users choose (`backend: { name: native }`, PRETRAIN_BACKEND=native). */
  name: 'native';
  /** The backend whose tensors the kernels work on. */
  base: 'wasm';
  /** Loads the pack's code, or says why it cannot (no binary for this platform, a missing library). */
  load(): LoadedKernelPack | { missing: string };
}

const packs = new Map<string, KernelPack>();
const loaded = new Map<string, LoadedKernelPack | { missing: string }>();
const installed = new Set<string>();

/** Makes a pack available to initBackend (idempotent; a second pack of the same name replaces the first before it is installed). */
export function registerKernelPack(pack: KernelPack): void {
  if (installed.has(pack.name) && packs.get(pack.name) !== pack) throw new Error(`kernel pack "${pack.name}" is already installed; register it before initBackend`);
  packs.set(pack.name, pack);
  loaded.delete(pack.name);
}

/** The registered pack's load result (cached), or undefined when none is registered under `name`. */
export function loadKernelPack(name: string): LoadedKernelPack | { missing: string } | undefined {
  const pack = packs.get(name);
  if (!pack) return undefined;
  if (!loaded.has(name)) {
    let result: LoadedKernelPack | { missing: string };
    try {
      result = pack.load();
    } catch (error) {
      result = { missing: (error as Error).message.split('\n')[0] };
    }
    loaded.set(name, result);
  }
  return loaded.get(name);
}

/** Whether a pack is registered and its code loads here. */
export function kernelPackAvailable(name: string): boolean {
  const result = loadKernelPack(name);
  return result !== undefined && !('missing' in result);
}

function noKernel(kernelName: string, backendName: string): PackKernelFn {
  return () => {
    throw new Error(`${kernelName} has no ${backendName} kernel besides the pack's`);
  };
}

/** The registered pack's loaded code; throws why not (no pack registered, or it cannot load here). */
export function requireKernelPack(name: string): LoadedKernelPack {
  const result = loadKernelPack(name);
  if (!result) throw new Error(`backend "${name}" needs @pretrain/backend-native: install it and call registerKernelPack(nativeKernels) before initBackend (the pretrain CLI does)`);
  if ('missing' in result) throw new Error(`backend "${name}" is not available here: ${result.missing}`);
  return result;
}

/** Registers the pack's kernels over its base backend's (once per process) and sizes its threads. */
export function installKernelPack(name: string, threads: number): LoadedKernelPack {
  const result = requireKernelPack(name);
  const pack = packs.get(name)!;
  if (!installed.has(name)) {
    installed.add(name);
    for (const kernel of result.kernels) {
      const previous = tf.getKernel(kernel.kernelName, pack.base);
      if (!previous && !OPTIONAL_KERNELS.includes(kernel.kernelName)) throw new Error(`kernel pack "${name}": ${kernel.kernelName} has no ${pack.base} kernel to replace`);
      if (previous) tf.unregisterKernel(kernel.kernelName, pack.base);
      const fallback = (previous?.kernelFunc as PackKernelFn | undefined) ?? noKernel(kernel.kernelName, pack.base);
      const ours: tf.KernelConfig = { kernelName: kernel.kernelName, backendName: pack.base, setupFunc: previous?.setupFunc, kernelFunc: kernel.make(fallback) as tf.KernelFunc };
      tf.registerKernel(ours);
      recordReplacement(ours, previous, name);
    }
  }
  result.setThreads(threads);
  return result;
}
