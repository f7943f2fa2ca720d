/**
 * Pretrain's own wasm kernels (packages/core/wasm/*.c, prebuilt into simd-modules.generated.ts): one
 * WebAssembly module instantiated on tfjs-backend-wasm's own memory, so it reads and writes tensors
 * where they lie. With the threaded build (shared memory) a call runs on the main thread plus one
 * worker_thread per extra thread, each with the same module on the same memory; they meet through a
 * control block on the heap (Atomics). Each C function takes its arguments as an array of doubles;
 * the threads of a call take chunks of its work from a shared counter (wasm/work.h), and no result
 * depends on the thread count.
 *
 * The products (sgemm): TF.js 4.22's XNNPACK GEMM reaches 25–31 GFLOP/s per core here and runs
 * only untransposed 2-D products (core transposes and splits batches around it). gemm.c takes
 * transposes as strides and batches as offsets, and its 4×8 register tile — the largest V8 compiles
 * without spills — reaches ~40 GFLOP/s with SIMD128 and ~52 with relaxed-SIMD fused multiply-add
 * (Node ≥ 22, and Node 20 with V8's relaxed-SIMD flag, which core sets: see relaxedSimdAvailable).
 *
 * PRETRAIN_WASM_KERNELS=off turns the module off (core's JS kernels and XNNPACK then run, as before).
 */
import { Worker } from 'worker_threads';
import { KERNEL_MODULES } from './simd-modules.generated';
import type { WasmBackendLike } from './types';

/** The C functions (each `fn(args: double*, part, parts)`), in the order the workers know them by. */
export const KERNEL_FUNCTIONS = ['sgemm', 'sgemmPackB', 'layerNorm', 'layerNormGrad', 'layerNormGradReduce', 'columnSum', 'softmaxXent', 'softmaxXentGrad', 'gelu', 'adamw', 'binary', 'dropoutMask'] as const;
export type KernelFunction = (typeof KERNEL_FUNCTIONS)[number];

export interface SimdKernels {
  /** Relaxed-SIMD fused multiply-add in the products (else SIMD128 mul + add). */
  relaxed: boolean;
  /** Threads a large call is split across (1 without shared memory). */
  threads: number;
  /** Scratch for the products: `threads` blocks of the size gemm.c asks for (heap offset). */
  gemmScratch: number;
  /**
   * Runs a C function on `args` (heap byte offsets, sizes, scalars); split across the threads when
   * `split` (callers pass whether the call is large enough to pay for waking a worker).
   */
  run(name: KernelFunction, args: readonly number[], split: boolean): void;
  /** The heap's current buffer (views passed in must be views of it). */
  heap(): ArrayBufferLike;
  /** Floats sgemmPackB writes for a [k, n] B. */
  packedBFloats(k: number, n: number): number;
  /** Blocks of partial sums layerNormGrad writes for `rows` rows (2 · width doubles each). */
  layerNormGradBlocks(rows: number): number;
  /** A reusable heap buffer of at least `bytes` (16-byte aligned; valid until the next call of this). */
  scratch(bytes: number): number;
  /** Heap memory for a call's temporaries (TF.js's allocator). */
  malloc(bytes: number): number;
  free(offset: number): void;
}

type KernelExports = Record<KernelFunction, (args: number, part: number, parts: number) => void> & { scratchFloats(): number; packedBFloats(k: number, n: number): number; layerNormGradBlocks(rows: number): number };

/** The parts of the WebAssembly API used here (core compiles without the DOM library's types). */
interface WasmMemory {
  buffer: ArrayBuffer | SharedArrayBuffer;
}
type WasmCompiled = object;
interface WasmApi {
  Memory: abstract new (...args: never[]) => WasmMemory;
  Module: new (bytes: Uint8Array) => WasmCompiled;
  Instance: new (module: WasmCompiled, imports: object) => { exports: unknown };
  validate(bytes: Uint8Array): boolean;
}
const WebAssembly = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface TfjsWasmModule {
  asm?: { memory?: WasmMemory };
  wasmMemory?: WasmMemory;
  _malloc(bytes: number): number;
  _free(offset: number): void;
}

/**
 * The control block: int32 slots [job number, function index, parts, one "done" slot per
 * worker, the last job a worker failed, …, the chunk counter (wasm/work.h: the int32 8 bytes before the arguments)], then the
 * arguments as doubles (8-byte aligned).
 */
const CTL_SEQ = 0;
const CTL_FUNCTION = 1;
const CTL_PARTS = 2;
const CTL_DONE = 3;
const MAX_WORKERS = 7;
const CTL_FAILED = CTL_DONE + MAX_WORKERS;
const ARGS_BYTE_OFFSET = 64;
const CTL_CHUNK_COUNTER = (ARGS_BYTE_OFFSET - 8) / 4;
const MAX_ARGS = 16;
const CONTROL_BYTES = ARGS_BYTE_OFFSET + MAX_ARGS * 8;
/** A worker that has not finished its part in this long is taken to be gone. */
const WORKER_TIMEOUT_MS = 60_000;
/** How long an idle worker polls before it sleeps: waking a sleeping one took ~60 µs on this VM, and the gaps between the split calls of a training step are mostly shorter than this. */
const WORKER_SPIN_MS = 1;

const instances = new WeakMap<object, SimdKernels | null>();

function decode(base64: string): Uint8Array {
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

function memoryOf(module: TfjsWasmModule): WasmMemory | undefined {
  const memory = module.wasmMemory ?? module.asm?.memory;
  return memory?.buffer ? memory : undefined;
}

/** Whether the module can run here (WebAssembly SIMD) and is wanted (PRETRAIN_WASM_KERNELS is not "off"); needs no backend. */
export function simdKernelsSupported(): boolean {
  return wantedByEnv() && WebAssembly.validate(decode(KERNEL_MODULES.plain));
}

/**
 * Whether the relaxed-SIMD module compiles here. Relaxed SIMD is a finished WebAssembly standard and
 * on by default from Node 22 (V8 11.4); Node 20's V8 implements the standard opcodes behind
 * --experimental-wasm-relaxed-simd, which core turns on (v8.setFlagsFromString: the flag only lets
 * the decoder accept those opcodes, so modules compiled before are unaffected). It made BERT-mini's
 * wasm step ~15% faster (fused multiply-add in the products). PRETRAIN_WASM_RELAXED_SIMD=0 leaves
 * the flag alone (plain SIMD128 then).
 */
function relaxedSimdAvailable(bytes: Uint8Array): boolean {
  if (WebAssembly.validate(bytes)) return true;
  if (process.env.PRETRAIN_WASM_RELAXED_SIMD === '0') return false;
  try {
    (require('v8') as typeof import('v8')).setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    return false;
  }
  return WebAssembly.validate(bytes);
}

function wantedByEnv(): boolean {
  const value = process.env.PRETRAIN_WASM_KERNELS;
  if (value === undefined || value === '' || value === 'on') return true;
  if (value === 'off') return false;
  throw new Error(`PRETRAIN_WASM_KERNELS must be "on" or "off"; got "${value}"`);
}

/**
 * The kernels for this wasm backend instance, set up on first use; undefined where they cannot run
 * (no WebAssembly SIMD, an unknown memory layout, or PRETRAIN_WASM_KERNELS=off).
 */
export function simdKernels(backend: WasmBackendLike): SimdKernels | undefined {
  const key = backend.wasm as object;
  let kernels = instances.get(key);
  if (kernels === undefined) {
    kernels = wantedByEnv() ? createKernels(backend.wasm as unknown as TfjsWasmModule, wasmThreads()) : null;
    instances.set(key, kernels);
  }
  return kernels ?? undefined;
}

function wasmThreads(): number {
  return (require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm')).getThreadsCount();
}

function createKernels(module: TfjsWasmModule, threads: number): SimdKernels | null {
  const memory = memoryOf(module);
  if (!memory) return null;
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  const relaxedBytes = decode(shared ? KERNEL_MODULES.sharedRelaxed : KERNEL_MODULES.relaxed);
  const plainBytes = decode(shared ? KERNEL_MODULES.sharedPlain : KERNEL_MODULES.plain);
  const relaxed = relaxedSimdAvailable(relaxedBytes);
  if (!relaxed && !WebAssembly.validate(plainBytes)) return null;
  const compiled = new WebAssembly.Module(relaxed ? relaxedBytes : plainBytes);
  const imports = { env: { memory, log: Math.log } };
  const wasmExports = new WebAssembly.Instance(compiled, imports).exports as KernelExports;
  const parts = shared ? Math.max(1, Math.min(MAX_WORKERS + 1, Math.floor(threads))) : 1;
  const controlAllocation = module._malloc(CONTROL_BYTES + 8);
  const scratchAllocation = module._malloc(wasmExports.scratchFloats() * 4 * parts + 16);
  if (!controlAllocation || !scratchAllocation) return null; // no heap left: its kernels then say so (simd-functions.ts)
  const control = align(controlAllocation, 8);
  const gemmScratch = align(scratchAllocation, 16);
  const workers = parts > 1 ? startWorkers(compiled, memory, control, parts - 1) : [];
  let ints = new Int32Array(memory.buffer, control, ARGS_BYTE_OFFSET / 4);
  let doubles = new Float64Array(memory.buffer, control + ARGS_BYTE_OFFSET, MAX_ARGS);
  let seq = 0;
  const reusable = { allocated: 0, bytes: 0 };
  return {
    relaxed,
    threads: parts,
    gemmScratch,
    heap: () => memory.buffer,
    packedBFloats: (k, n) => wasmExports.packedBFloats(k, n),
    layerNormGradBlocks: (rows) => wasmExports.layerNormGradBlocks(rows),
    scratch(bytes) {
      if (bytes > reusable.bytes) {
        if (reusable.allocated) module._free(reusable.allocated);
        reusable.bytes = Math.max(bytes, reusable.bytes * 2);
        reusable.allocated = module._malloc(reusable.bytes + 16);
        if (!reusable.allocated) throw new Error(`pretrain wasm kernels: could not allocate ${reusable.bytes} bytes of scratch`);
      }
      return align(reusable.allocated, 16);
    },
    malloc: (bytes) => module._malloc(bytes),
    free: (offset) => module._free(offset),
    run(name, args, split) {
      if (args.length > MAX_ARGS) throw new Error(`pretrain wasm kernels: ${name} has ${args.length} arguments; at most ${MAX_ARGS}`);
      // An unshared heap that grew has a new buffer (the old views are detached).
      if (doubles.buffer !== memory.buffer) {
        ints = new Int32Array(memory.buffer, control, ARGS_BYTE_OFFSET / 4);
        doubles = new Float64Array(memory.buffer, control + ARGS_BYTE_OFFSET, MAX_ARGS);
      }
      doubles.set(args);
      ints[CTL_CHUNK_COUNTER] = 0;
      const argsOffset = control + ARGS_BYTE_OFFSET;
      const used = split ? parts : 1;
      if (used === 1) {
        wasmExports[name](argsOffset, 0, 1);
        return;
      }
      ints[CTL_FUNCTION] = KERNEL_FUNCTIONS.indexOf(name);
      ints[CTL_PARTS] = used;
      seq = (seq + 1) | 0 || 1;
      Atomics.store(ints, CTL_SEQ, seq);
      Atomics.notify(ints, CTL_SEQ);
      try {
        wasmExports[name](argsOffset, 0, used);
      } finally {
        // Even when this thread's part failed: the next call must not overwrite arguments a worker still reads.
        for (let w = 0; w < workers.length; w++) waitForWorker(ints, w, seq, name);
      }
      if (Atomics.load(ints, CTL_FAILED) === seq) throw new Error(`pretrain wasm kernels: a worker's part of ${name} failed (a trap in the module)`);
    },
  };
}

/** Main-thread polls of a worker's "done" slot before it sleeps on it (a busy machine may have descheduled the worker). */
const MAIN_SPINS = 20_000;

/** Returns when worker `w` has finished job `seq`: polls, then sleeps on the slot (the worker notifies it). */
function waitForWorker(ints: Int32Array, w: number, seq: number, name: string): void {
  for (let spins = 0; spins < MAIN_SPINS; spins++) if (Atomics.load(ints, CTL_DONE + w) === seq) return;
  const deadline = performance.now() + WORKER_TIMEOUT_MS;
  for (let seen = Atomics.load(ints, CTL_DONE + w); seen !== seq; seen = Atomics.load(ints, CTL_DONE + w)) {
    if (performance.now() > deadline) throw new Error(`pretrain wasm kernels: worker ${w + 1} did not finish its part of ${name} in ${WORKER_TIMEOUT_MS / 1000} s`);
    Atomics.wait(ints, CTL_DONE + w, seen, 5);
  }
}

function align(offset: number, to: number): number {
  return Math.ceil(offset / to) * to;
}

/** The worker: the same module on the same memory, waiting on the control block for its part. */
const WORKER_SOURCE = `
const { workerData } = require('worker_threads');
const { module, memory, control, index, spinMs, functions } = workerData;
const wasmExports = new WebAssembly.Instance(module, { env: { memory, log: Math.log } }).exports;
const calls = functions.map((name) => wasmExports[name]);
const ints = new Int32Array(memory.buffer, control, ${ARGS_BYTE_OFFSET / 4});
let seen = 0;
for (;;) {
  const spinUntil = performance.now() + spinMs;
  while (Atomics.load(ints, ${CTL_SEQ}) === seen) {
    if (performance.now() > spinUntil) Atomics.wait(ints, ${CTL_SEQ}, seen);
  }
  seen = Atomics.load(ints, ${CTL_SEQ});
  try {
    calls[ints[${CTL_FUNCTION}]](control + ${ARGS_BYTE_OFFSET}, index + 1, ints[${CTL_PARTS}]);
  } catch {
    Atomics.store(ints, ${CTL_FAILED}, seen);
  }
  Atomics.store(ints, ${CTL_DONE} + index, seen);
  Atomics.notify(ints, ${CTL_DONE} + index);
}
`;

function startWorkers(module: WasmCompiled, memory: WasmMemory, control: number, count: number): Worker[] {
  new Int32Array(memory.buffer, control, ARGS_BYTE_OFFSET / 4).fill(0);
  return Array.from({ length: count }, (_, index) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, memory, control, index, spinMs: WORKER_SPIN_MS, functions: KERNEL_FUNCTIONS } });
    worker.unref();
    return worker;
  });
}
