/**
 * Pretrain's own f32 GEMM for the wasm backend (packages/core/wasm/gemm.c, prebuilt into
 * simd-modules.generated.ts): a WebAssembly module instantiated on tfjs-backend-wasm's own memory, so
 * it reads and writes tensors where they lie. With the threaded build (shared memory) it runs on the
 * main thread plus one worker_thread per extra thread, each instantiating the same module on the
 * same memory; they meet through a control block on the heap (Atomics).
 *
 * Why not XNNPACK: TF.js 4.22's XNNPACK GEMM reaches 25–31 GFLOP/s per core here, and runs only
 * untransposed 2-D products (core transposes and splits batches around it). This module takes
 * transposes as strides and batches as offsets, and its 4×8 register tile — the largest V8 compiles
 * without spills — reaches ~40 GFLOP/s with SIMD128 and ~52 with relaxed-SIMD fused multiply-add
 * (used where the runtime validates it: Node ≥ 22, or Node 20 with --experimental-wasm-relaxed-simd).
 *
 * PRETRAIN_WASM_GEMM=xnnpack turns it off (the products then go to XNNPACK as before).
 */
import { Worker } from 'worker_threads';
import { GEMM_MODULES } from './simd-modules.generated';
import type { WasmBackendLike } from './types';

/** Byte offsets on the heap; 0 = none (bias). */
export interface SgemmArgs {
  a: number;
  b: number;
  c: number;
  bias: number;
  m: number;
  n: number;
  k: number;
  transposeA: boolean;
  transposeB: boolean;
  batch: number;
  /** Floats between batch items (0 = shared). */
  strideA: number;
  strideB: number;
}

export interface SimdGemm {
  /** Relaxed-SIMD fused multiply-add (else SIMD128 mul + add). */
  relaxed: boolean;
  /** Threads a large product is split across (1 without shared memory). */
  threads: number;
  sgemm(args: SgemmArgs): void;
}

interface GemmExports {
  sgemm(a: number, b: number, c: number, bias: number, m: number, n: number, k: number, transA: number, transB: number, batch: number, strideA: number, strideB: number, scratch: number, part: number, parts: number): void;
  scratchFloats(): number;
}

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
}

/** Products smaller than this (multiply-adds) run on one thread: waking a worker costs ~60 µs here. */
const SPLIT_MIN_MACS = 2 ** 20;
/** Control block (int32 slots): job number, quit flag, the sgemm arguments, one "done" slot per worker. */
const CTL_SEQ = 0;
const CTL_QUIT = 1;
const CTL_ARGS = 2;
const ARG_COUNT = 14;
const CTL_DONE = CTL_ARGS + ARG_COUNT;
const MAX_WORKERS = 7;
const CTL_SLOTS = CTL_DONE + MAX_WORKERS;
/** A worker that has not finished its part in this long is taken to be gone. */
const WORKER_TIMEOUT_MS = 60_000;

const instances = new WeakMap<object, SimdGemm | null>();

function decode(base64: string): Uint8Array {
  return new Uint8Array(Buffer.from(base64, 'base64'));
}

function memoryOf(module: TfjsWasmModule): WasmMemory | undefined {
  const memory = module.wasmMemory ?? module.asm?.memory;
  return memory instanceof WebAssembly.Memory ? memory : undefined;
}

function wantedByEnv(): boolean {
  const value = process.env.PRETRAIN_WASM_GEMM;
  if (value === undefined || value === '' || value === 'simd') return true;
  if (value === 'xnnpack') return false;
  throw new Error(`PRETRAIN_WASM_GEMM must be "simd" or "xnnpack"; got "${value}"`);
}

/**
 * The GEMM for this wasm backend instance, set up on first use; undefined where it cannot run
 * (no WebAssembly SIMD, an unknown memory layout, or PRETRAIN_WASM_GEMM=xnnpack).
 */
export function simdGemm(backend: WasmBackendLike, threads: number): SimdGemm | undefined {
  const key = backend.wasm as object;
  let gemm = instances.get(key);
  if (gemm === undefined) {
    gemm = wantedByEnv() ? createGemm(backend.wasm as unknown as TfjsWasmModule, threads) : null;
    instances.set(key, gemm);
  }
  return gemm ?? undefined;
}

function createGemm(module: TfjsWasmModule, threads: number): SimdGemm | null {
  const memory = memoryOf(module);
  if (!memory) return null;
  const shared = memory.buffer instanceof SharedArrayBuffer;
  const relaxedBytes = decode(shared ? GEMM_MODULES.sharedRelaxed : GEMM_MODULES.relaxed);
  const plainBytes = decode(shared ? GEMM_MODULES.sharedPlain : GEMM_MODULES.plain);
  const relaxed = WebAssembly.validate(relaxedBytes);
  if (!relaxed && !WebAssembly.validate(plainBytes)) return null;
  const compiled = new WebAssembly.Module(relaxed ? relaxedBytes : plainBytes);
  const exports = new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as GemmExports;
  const parts = shared ? Math.max(1, Math.min(MAX_WORKERS + 1, Math.floor(threads))) : 1;
  const scratchBytes = exports.scratchFloats() * 4;
  const scratch = module._malloc(scratchBytes * parts + 16);
  const alignedScratch = (scratch + 15) & ~15;
  const pool = parts > 1 ? startWorkers(compiled, memory, module._malloc(CTL_SLOTS * 4), parts - 1) : undefined;
  return {
    relaxed,
    threads: parts,
    sgemm(args: SgemmArgs): void {
      const macs = args.batch * args.m * args.n * args.k;
      const used = pool && macs >= SPLIT_MIN_MACS ? parts : 1;
      const { a, b, c, bias, m, n, k, batch, strideA, strideB } = args;
      const [transA, transB] = [args.transposeA ? 1 : 0, args.transposeB ? 1 : 0];
      const part = (index: number) => exports.sgemm(a, b, c, bias, m, n, k, transA, transB, batch, strideA, strideB, alignedScratch, index, used);
      if (used === 1) part(0);
      else pool!.run([a, b, c, bias, m, n, k, transA, transB, batch, strideA, strideB, alignedScratch, used], () => part(0));
    },
  };
}

interface WorkerPool {
  /** Posts the call to the workers (parts 1…), runs part 0 here, and waits for the workers. */
  run(call: readonly number[], own: () => void): void;
}

/** The worker: the same module on the same memory, waiting on the control block for its part. */
const WORKER_SOURCE = `
const { workerData } = require('worker_threads');
const { module, memory, control, index, spinMs } = workerData;
const { sgemm } = new WebAssembly.Instance(module, { env: { memory } }).exports;
const view = new Int32Array(memory.buffer, control, ${CTL_SLOTS});
let seen = 0;
for (;;) {
  const spinUntil = performance.now() + spinMs;
  while (Atomics.load(view, ${CTL_SEQ}) === seen) {
    if (performance.now() > spinUntil) Atomics.wait(view, ${CTL_SEQ}, seen);
  }
  seen = Atomics.load(view, ${CTL_SEQ});
  if (Atomics.load(view, ${CTL_QUIT})) break;
  const a = view.slice(${CTL_ARGS}, ${CTL_ARGS + ARG_COUNT});
  sgemm(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], index + 1, a[13]);
  Atomics.store(view, ${CTL_DONE} + index, seen);
  Atomics.notify(view, ${CTL_DONE} + index);
}
`;

/** How long an idle worker polls before it sleeps (waking a sleeping one took ~60 µs on this VM). */
const WORKER_SPIN_MS = 0.1;

function startWorkers(module: WasmCompiled, memory: WasmMemory, control: number, count: number): WorkerPool {
  const view = new Int32Array(memory.buffer, control, CTL_SLOTS);
  view.fill(0);
  const workers = Array.from({ length: count }, (_, index) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, memory, control, index, spinMs: WORKER_SPIN_MS } });
    worker.unref();
    return worker;
  });
  let seq = 0;
  return {
    run(call, own) {
      for (let i = 0; i < ARG_COUNT; i++) view[CTL_ARGS + i] = call[i];
      seq = (seq + 1) | 0 || 1;
      Atomics.store(view, CTL_SEQ, seq);
      Atomics.notify(view, CTL_SEQ);
      own();
      const deadline = performance.now() + WORKER_TIMEOUT_MS;
      for (let w = 0; w < workers.length; w++) {
        while (Atomics.load(view, CTL_DONE + w) !== seq) {
          if (performance.now() > deadline) throw new Error(`pretrain wasm GEMM: worker ${w + 1} did not finish its part in ${WORKER_TIMEOUT_MS / 1000} s`);
        }
      }
    },
  };
}
