/**
 * Sets up @tensorflow/tfjs-backend-wasm (threads; Emscripten's handlers) with core's kernels
 * (kernels/wasm/, one file per kernel, registered from the WASM_KERNELS list), which make it
 * training-capable:
 * - UnsortedSegmentSum (the gather gradient) is missing: added, computed on the wasm heap.
 * - OneHot with dtype float32 writes int32 bit patterns: replaced.
 * - BatchMatMul / _FusedMatMul only reach XNNPACK for a single, untransposed 2-D product; any
 *   transpose or batch falls back to a naive triple loop (~15x slower). Here transposes are done
 *   explicitly (cheap, O(n²)) and batches are split into 2-D products on views of the heap, so
 *   every product takes the fast path.
 * - The Emscripten runtime installs process-wide uncaughtException/unhandledRejection handlers
 *   that turn any error in the host program into a wasm abort: removed after initialisation.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendInfo } from '../backend';
import { registerWasmKernels, wasmSimdKernelsRegistered } from './wasm/index';
import { simdKernels } from './wasm/simd-kernels';
import type { WasmBackendLike } from './wasm/types';

export { registerWasmKernels, WASM_KERNELS, type WasmKernelSpec } from './wasm/index';

type ProcessListener = (...args: unknown[]) => void;

const GLOBAL_EVENTS = ['uncaughtException', 'unhandledRejection'] as const;

function snapshotListeners(): Map<string, ProcessListener[]> {
  return new Map(GLOBAL_EVENTS.map((event) => [event, process.listeners(event as 'uncaughtException') as ProcessListener[]]));
}

/** Removes the process-wide handlers added since `before` (Emscripten's abort-on-any-error hooks). */
function removeAddedListeners(before: Map<string, ProcessListener[]>): number {
  let removed = 0;
  for (const event of GLOBAL_EVENTS) {
    for (const listener of process.listeners(event as 'uncaughtException') as ProcessListener[]) {
      if (!before.get(event)!.includes(listener)) {
        process.removeListener(event, listener);
        removed++;
      }
    }
  }
  return removed;
}

export interface WasmSetupOptions {
  /**
   * XNNPACK threads; 1 (the default) loads the single-threaded SIMD build. More threads help large
   * products on an idle machine but were 2–3× slower for whole training steps on a shared one
   * (docs/backends.md); results are identical either way (each output is summed by one thread).
   */
  threads?: number;
}

/** Loads the wasm backend with the kernel fixes and makes it the active backend. */
export async function setupWasmBackend(options: WasmSetupOptions = {}): Promise<Omit<BackendInfo, 'precision'>> {
  const before = snapshotListeners();
  const wasmBackend = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
  registerWasmKernels();
  const wanted = Math.max(1, Math.min(8, Math.floor(options.threads ?? defaultThreads())));
  let detail = '';
  try {
    if (wanted > 1) {
      const threaded = await tryThreaded(wasmBackend, wanted);
      if (threaded !== true) detail = `threads unavailable: ${threaded}; `;
    }
    if (tf.getBackend() !== 'wasm') {
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      if (!(await tf.setBackend('wasm'))) throw new Error('could not initialise the wasm backend');
    }
  } finally {
    removeAddedListeners(before);
  }
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  // core's C module is set up now (not at the first product) so the backend line can say what runs.
  const module = wasmSimdKernelsRegistered() ? simdKernels(tf.backend() as unknown as WasmBackendLike) : undefined;
  const kernels = module ? `core's C kernels (${module.relaxed ? 'relaxed SIMD' : 'SIMD128'}) + XNNPACK` : 'XNNPACK';
  return { name: 'wasm', threads: wasmBackend.getThreadsCount(), detail: `${detail}${simd ? 'SIMD' : 'no SIMD'}, ${kernels}` };
}

function defaultThreads(): number {
  return 1;
}

const workerFile = path.join(__dirname, 'wasm-worker.js');

// The module object itself (an `import * as` namespace would be a copy): Emscripten calls
// require('os').cpus() while initialising, and that is the call we need to reach.
const os = require('os') as typeof import('os');

/**
 * Starts the threaded SIMD build. TF.js disables it in Node and would hand Emscripten a blob: URL
 * for the worker; we enable it and give a real file (./wasm-worker.js) instead. XNNPACK sizes its
 * pool as min(requested, cores / 2) (it assumes hyper-threading), so the core count it sees is
 * doubled while it initialises. Returns true, or why threads could not be used (the caller then
 * loads the single-threaded build).
 */
async function tryThreaded(wasmBackend: typeof import('@tensorflow/tfjs-backend-wasm'), threads: number): Promise<true | string> {
  if (!fs.existsSync(workerFile)) return `worker file ${workerFile} is missing`;
  const engine = tf.engine() as unknown as { registryFactory: Record<string, { factory: () => tf.KernelBackend | Promise<tf.KernelBackend>; priority: number }> };
  const registration = engine.registryFactory.wasm;
  const createObjectURL = URL.createObjectURL;
  const cpus = os.cpus;
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  wasmBackend.setThreadsCount(threads);
  URL.createObjectURL = () => workerFile;
  os.cpus = () => {
    const real = cpus();
    return Array.from({ length: threads * 2 }, (_, i) => real[i % real.length]);
  };
  let ok = false;
  try {
    ok = await tf.setBackend('wasm');
  } catch (error) {
    return (error as Error).message;
  } finally {
    URL.createObjectURL = createObjectURL;
    os.cpus = cpus;
  }
  if (!ok) {
    // Put a fresh factory back so the single-threaded build can be tried.
    tf.removeBackend('wasm');
    if (registration) tf.registerBackend('wasm', registration.factory, registration.priority);
    return 'the threaded build failed to start';
  }
  unrefWorkers();
  return true;
}

/** Idle pthread workers must not keep the process alive after the program is done. */
function unrefWorkers(): void {
  const module = (tf.backend() as unknown as { wasm?: { PThread?: { runningWorkers: { unref(): void }[]; unusedWorkers: { unref(): void }[] } } }).wasm;
  const pool = module?.PThread;
  if (!pool) return;
  for (const worker of [...pool.runningWorkers, ...pool.unusedWorkers]) worker.unref();
}
