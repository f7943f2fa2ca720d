/**
 * Makes @tensorflow/tfjs-backend-wasm training-capable:
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
import { recordReplacement } from './stock';
import { broadcastBatchIndices, broadcastCompareInto, oneHotInto, segmentSumInto, segmentSumOutputShape, sizeOf, sumLeadingAxesInto, transposeLastTwoInto, type ComparisonOp } from './shared';

type HeapArray = Float32Array | Int32Array | Uint8Array;

interface WasmModule {
  cwrap(name: string, returnType: null | string, argTypes: string[]): (...args: unknown[]) => unknown;
  tfjs: { registerTensor(id: number, size: number, memoryOffset: number): void; disposeData(id: number): void };
}

interface WasmTensorData {
  id: number;
  memoryOffset: number;
  /** The shape the data was created with (reshapes share the data under other shapes). */
  shape: number[];
  dtype: tf.DataType;
  refCount: number;
}

/** The parts of tfjs-backend-wasm's BackendWasm these kernels use. */
interface WasmBackendLike {
  wasm: WasmModule;
  dataIdMap: { get(dataId: object): WasmTensorData; set(dataId: object, data: WasmTensorData): void; delete(dataId: object): boolean };
  dataIdNextNumber: number;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
  incRef(dataId: object): void;
  typedArrayFromHeap(info: tf.TensorInfo): HeapArray;
}

interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

type KernelFn = (args: KernelArgs) => tf.TensorInfo;

// ---------------------------------------------------------------------------------------------
// UnsortedSegmentSum and OneHot: plain loops over heap views

function unsortedSegmentSumWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { x, segmentIds } = args.inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const numSegments = (args.attrs as { numSegments: number }).numSegments;
  const outShape = segmentSumOutputShape(x.shape, segmentIds.shape.length, numSegments);
  const out = backend.makeOutput(outShape, x.dtype === 'int32' ? 'int32' : 'float32');
  // Views are taken after makeOutput: an allocation can grow (and detach) the heap.
  const rowSize = sizeOf(x.shape.slice(segmentIds.shape.length));
  segmentSumInto(backend.typedArrayFromHeap(out), backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(segmentIds), rowSize, numSegments);
  return out;
}

function oneHotWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { indices } = args.inputs as { indices: tf.TensorInfo };
  const { depth, onValue, offValue, dtype } = args.attrs as { depth: number; onValue: number; offValue: number; dtype: tf.DataType };
  const out = backend.makeOutput([...indices.shape, depth], dtype);
  oneHotInto(backend.typedArrayFromHeap(out), backend.typedArrayFromHeap(indices), depth, onValue, offValue);
  return out;
}

/**
 * Comparisons: the stock C++ kernels index every element through a generic broadcast path
 * (~250 ns/element with a broadcast operand, e.g. the Equal mask in tf.max's gradient).
 */
function comparisonWasm(op: ComparisonOp): KernelFn {
  return (args) => {
    const backend = args.backend as WasmBackendLike;
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const out = backend.makeOutput(outShape, 'bool');
    if (sizeOf(outShape) === 0) return out;
    broadcastCompareInto(op, backend.typedArrayFromHeap(out) as Uint8Array, backend.typedArrayFromHeap(a), a.shape, backend.typedArrayFromHeap(b), b.shape, outShape);
    return out;
  };
}

/**
 * Identity shares the input's heap buffer (as the cpu backend and wasm's own Reshape do) instead of
 * copying it: gradients pass through Identity for every op, ~130 copies per training step.
 */
function identityWasm(stock: KernelFn): KernelFn {
  return (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (x.dtype === 'string') return stock(args);
    (args.backend as WasmBackendLike).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
}

/**
 * Row gather along axis 0 (embedding lookups, MLM/CLM position selection) as one heap copy per row:
 * the stock kernel's generic strided loop took 8.6 ms CPU for 2048 rows of 128 (here ~0.3 ms).
 */
function gatherWasm(stock: KernelFn): KernelFn {
  return (args) => {
    const backend = args.backend as WasmBackendLike;
    const { x, indices } = args.inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
    const { axis, batchDims } = args.attrs as { axis: number | number[]; batchDims: number };
    const parsedAxis = tf.util.parseAxisParam(axis, x.shape)[0];
    if (parsedAxis !== 0 || batchDims !== 0 || x.dtype === 'string' || x.dtype === 'complex64' || indices.dtype !== 'int32' || x.shape.length === 0) return stock(args);
    const rows = x.shape[0];
    const rowSize = sizeOf(x.shape.slice(1));
    const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
    // Views after the allocation (it may move the heap).
    const index = backend.typedArrayFromHeap(indices) as Int32Array;
    const source = backend.typedArrayFromHeap(x);
    const target = backend.typedArrayFromHeap(out);
    for (let i = 0; i < index.length; i++) {
      const row = index[i];
      if (!(row >= 0 && row < rows)) {
        backend.disposeData(out.dataId);
        throw new Error(`GatherV2: the index value ${row} is not in [0, ${rows - 1}]`);
      }
      target.set(source.subarray(row * rowSize, (row + 1) * rowSize), i * rowSize);
    }
    return out;
  };
}

/** Sums over leading axes (bias and LayerNorm gradients) without the stock kernel's transpose. */
function sumWasm(stock: KernelFn): KernelFn {
  return (args) => {
    const backend = args.backend as WasmBackendLike;
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
    const leading = axes.length > 0 && axes.length < x.shape.length && axes.every((d, i) => d === i);
    if (!leading || (x.dtype !== 'float32' && x.dtype !== 'int32')) return stock(args);
    const inner = sizeOf(x.shape.slice(axes.length));
    const outShape = keepDims ? x.shape.map((d, i) => (i < axes.length ? 1 : d)) : x.shape.slice(axes.length);
    const out = backend.makeOutput(outShape, x.dtype);
    sumLeadingAxesInto(backend.typedArrayFromHeap(out), backend.typedArrayFromHeap(x), sizeOf(x.shape) / inner, inner);
    return out;
  };
}

// ---------------------------------------------------------------------------------------------
// MatMul through the XNNPACK path

type RawMatMul = (aId: number, aShape: Uint8Array, aRank: number, bId: number, bShape: Uint8Array, bRank: number, transposeA: boolean, transposeB: boolean, outId: number) => void;

const rawMatMuls = new WeakMap<WasmModule, RawMatMul>();

/** The exported C BatchMatMul; with batch 1 and no transposes it runs XNNPACK's fully-connected op. */
function rawMatMul(backend: WasmBackendLike): RawMatMul {
  let fn = rawMatMuls.get(backend.wasm);
  if (!fn) {
    fn = backend.wasm.cwrap('BatchMatMul', null, ['number', 'array', 'number', 'number', 'array', 'number', 'number', 'number', 'number']) as RawMatMul;
    rawMatMuls.set(backend.wasm, fn);
  }
  return fn;
}

function shapeBytes(shape: number[]): Uint8Array {
  return new Uint8Array(new Int32Array(shape).buffer);
}

/** out[m, n] = a[m, k] · b[k, n] for tensors registered under these ids. */
function matMul2d(backend: WasmBackendLike, aId: number, bId: number, outId: number, m: number, k: number, n: number): void {
  rawMatMul(backend)(aId, shapeBytes([1, m, k]), 3, bId, shapeBytes([1, k, n]), 3, false, false, outId);
}

/**
 * Registers `size` floats at a heap offset as a tensor id (no allocation), so the C kernels can
 * address one batch slice. Release with releaseView: it unregisters without freeing, and drops
 * the XNNPACK operator cached on the id.
 */
function registerView(backend: WasmBackendLike, memoryOffset: number, size: number): number {
  const id = backend.dataIdNextNumber++;
  backend.wasm.tfjs.registerTensor(id, size, memoryOffset);
  return id;
}

function releaseView(backend: WasmBackendLike, id: number): void {
  backend.wasm.tfjs.disposeData(id);
}

/**
 * XNNPACK caches packed weights on the weights' tensor id and ignores the shape, so the same data
 * used as [k, n] weights under another reshape would silently reuse the wrong operator (a stock
 * TF.js bug). The data's own id is used only when [k, n] is the shape it was created with;
 * otherwise a one-off view id (added to `views`, released by the caller).
 */
function weightsId(backend: WasmBackendLike, data: WasmTensorData, k: number, n: number, views: number[]): number {
  const stored = data.shape;
  const natural = stored.length >= 2 && stored[stored.length - 2] === k && stored[stored.length - 1] === n && sizeOf(stored) === k * n;
  if (natural) return data.id;
  const id = registerView(backend, data.memoryOffset, k * n);
  views.push(id);
  return id;
}

interface MatMulPlan {
  batchA: number;
  batchB: number;
  batch: number;
  /** Per output batch: the batch of a and of b it multiplies (broadcasting). */
  aIndex: Int32Array;
  bIndex: Int32Array;
  m: number;
  k: number;
  n: number;
  outShape: number[];
}

/** Shapes of a (batched) product; undefined for empty products (the stock kernel handles them). */
function planMatMul(a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean): MatMulPlan | undefined {
  const aRank = a.shape.length;
  const bRank = b.shape.length;
  const m = transposeA ? a.shape[aRank - 1] : a.shape[aRank - 2];
  const k = transposeA ? a.shape[aRank - 2] : a.shape[aRank - 1];
  const kB = transposeB ? b.shape[bRank - 1] : b.shape[bRank - 2];
  const n = transposeB ? b.shape[bRank - 2] : b.shape[bRank - 1];
  if (k !== kB || m * n * k === 0) return undefined;
  const batchA = sizeOf(a.shape.slice(0, -2));
  const batchB = sizeOf(b.shape.slice(0, -2));
  const outBatchShape = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batch = sizeOf(outBatchShape);
  const aIndex = broadcastBatchIndices(outBatchShape, a.shape.slice(0, -2));
  const bIndex = broadcastBatchIndices(outBatchShape, b.shape.slice(0, -2));
  return { batchA, batchB, batch, aIndex, bIndex, m, k, n, outShape: [...outBatchShape, m, n] };
}

/** [batch, rows, cols] → [batch, cols, rows] into a new heap tensor (tiled JS: ~2× the stock kernel). */
function transposeLastTwo(backend: WasmBackendLike, x: tf.TensorInfo, batch: number, rows: number, cols: number): tf.TensorInfo {
  const out = backend.makeOutput([batch, cols, rows], x.dtype);
  transposeLastTwoInto(backend.typedArrayFromHeap(out), backend.typedArrayFromHeap({ ...x, shape: [batch, rows, cols] }), batch, rows, cols);
  return out;
}

/** Runs `body` with a and b laid out untransposed ([batch, m, k] and [batch, k, n]). */
function withUntransposed<T>(backend: WasmBackendLike, a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean, plan: MatMulPlan, body: (a: tf.TensorInfo, b: tf.TensorInfo) => T): T {
  const temps: tf.TensorInfo[] = [];
  try {
    const aReady = transposeA ? temps[temps.push(transposeLastTwo(backend, a, plan.batchA, plan.k, plan.m)) - 1] : a;
    const bReady = transposeB ? temps[temps.push(transposeLastTwo(backend, b, plan.batchB, plan.n, plan.k)) - 1] : b;
    return body(aReady, bReady);
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

function batchMatMulWasm(stock: KernelFn): KernelFn {
  return (args) => {
    const backend = args.backend as WasmBackendLike;
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    const plan = a.dtype === 'float32' && b.dtype === 'float32' ? planMatMul(a, b, transposeA, transposeB) : undefined;
    if (!plan) return stock(args);
    if (plan.batch === 1 && swappedIsCheaper(plan, transposeA, transposeB)) return { ...swappedMatMul(backend, a, b, transposeA, transposeB, plan), shape: plan.outShape };
    const out = backend.makeOutput([plan.batch, plan.m, plan.n], 'float32');
    withUntransposed(backend, a, b, transposeA, transposeB, plan, (aReady, bReady) => runBatches(backend, aReady, bReady, out, plan));
    return { ...out, shape: plan.outShape };
  };
}

/**
 * Elements moved by transposes: computing C = op(A)·op(B) directly needs A and/or B untransposed;
 * computing Cᵀ = op(B)ᵀ·op(A)ᵀ needs the other operand layouts plus a transpose of C. Weight
 * gradients (Aᵀ·B with many rows) move far less the second way.
 */
function swappedIsCheaper(plan: MatMulPlan, transposeA: boolean, transposeB: boolean): boolean {
  const { m, k, n } = plan;
  // The swapped product takes op(A)ᵀ as XNNPACK's weights, packed anew and streamed once per tile of
  // rows: past the last-level cache that costs more than the transpose it saves (the tied LM head's
  // [2032,8000]ᵀ·[2032,128]: 218 ms direct vs 270 swapped; [301,8000]ᵀ·[301,128]: 34 vs 26).
  if (k * m > SWAPPED_WEIGHTS_LIMIT && k * m > k * n) return false;
  const direct = (transposeA ? m * k : 0) + (transposeB ? k * n : 0);
  const swapped = (transposeA ? 0 : m * k) + (transposeB ? 0 : k * n) + m * n;
  return swapped < direct;
}

/** Elements (4M floats = 16 MB) above which a swapped product's weights fall out of cache. */
const SWAPPED_WEIGHTS_LIMIT = 4 * 2 ** 20;

/** C = op(A)·op(B) for one batch as (op(B)ᵀ·op(A)ᵀ)ᵀ; the returned tensor is [1, m, n]. */
function swappedMatMul(backend: WasmBackendLike, a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean, plan: MatMulPlan): tf.TensorInfo {
  const { m, k, n } = plan;
  const temps: tf.TensorInfo[] = [];
  const keep = (t: tf.TensorInfo) => (temps.push(t), t);
  try {
    // op(B)ᵀ as rows [n, k]: B itself when it is stored transposed.
    const left = transposeB ? b : keep(transposeLastTwo(backend, b, 1, k, n));
    // op(A)ᵀ as [k, m]: A itself when it is stored transposed.
    const right = transposeA ? a : keep(transposeLastTwo(backend, a, 1, m, k));
    const product = keep(backend.makeOutput([1, n, m], 'float32'));
    const views: number[] = [];
    try {
      matMul2d(backend, backend.dataIdMap.get(left.dataId).id, weightsId(backend, backend.dataIdMap.get(right.dataId), k, m, views), backend.dataIdMap.get(product.dataId).id, n, k, m);
    } finally {
      for (const id of views) releaseView(backend, id);
    }
    return transposeLastTwo(backend, product, 1, n, m);
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

function runBatches(backend: WasmBackendLike, a: tf.TensorInfo, b: tf.TensorInfo, out: tf.TensorInfo, plan: MatMulPlan): void {
  const { batchA, batchB, batch, aIndex, bIndex, m, k, n } = plan;
  const aData = backend.dataIdMap.get(a.dataId);
  const bData = backend.dataIdMap.get(b.dataId);
  const outData = backend.dataIdMap.get(out.dataId);
  if (batchB === 1 && batchA === batch) {
    // Every batch of a meets the same b: fold a's batches into rows, one product.
    const views: number[] = [];
    try {
      matMul2d(backend, aData.id, weightsId(backend, bData, k, n, views), outData.id, batchA * m, k, n);
    } finally {
      for (const id of views) releaseView(backend, id);
    }
    return;
  }
  for (let i = 0; i < batch; i++) {
    const views: number[] = [];
    const view = (data: WasmTensorData, count: number, index: number, size: number): number => {
      if (count === 1) return data.id;
      const id = registerView(backend, data.memoryOffset + index * size * 4, size);
      views.push(id);
      return id;
    };
    try {
      matMul2d(backend, view(aData, batchA, aIndex[i], m * k), view(bData, batchB, bIndex[i], k * n), view(outData, batch, i, m * n), m, k, n);
    } finally {
      for (const id of views) releaseView(backend, id);
    }
  }
}

/**
 * Runs `body` with weights whose data id is safe for XNNPACK's id-keyed cache: `b` itself, or (when
 * `b` is a reshape of data created with another shape) a temporary entry pointing at a view.
 */
function withNaturalWeights<T>(backend: WasmBackendLike, b: tf.TensorInfo, body: (weights: tf.TensorInfo) => T): T {
  const data = backend.dataIdMap.get(b.dataId);
  const views: number[] = [];
  const [k, n] = b.shape.slice(-2);
  const id = b.shape.length >= 2 && sizeOf(b.shape) === k * n ? weightsId(backend, data, k, n, views) : data.id;
  if (id === data.id) return body(b);
  const dataId = {};
  backend.dataIdMap.set(dataId, { ...data, id, shape: b.shape, refCount: 1 });
  try {
    return body({ ...b, dataId });
  } finally {
    backend.dataIdMap.delete(dataId);
    for (const view of views) releaseView(backend, view);
  }
}

/** Fused (bias/activation) products: only the transposes are taken off; the stock kernel does the rest. */
function fusedMatMulWasm(stock: KernelFn): KernelFn {
  return (args) => {
    const backend = args.backend as WasmBackendLike;
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const attrs = args.attrs as { transposeA: boolean; transposeB: boolean };
    if (!attrs.transposeA && !attrs.transposeB) return withNaturalWeights(backend, b, (weights) => stock({ ...args, inputs: { ...args.inputs, b: weights } }));
    const plan = a.dtype === 'float32' && b.dtype === 'float32' ? planMatMul(a, b, attrs.transposeA, attrs.transposeB) : undefined;
    if (!plan) return stock(args);
    return withUntransposed(backend, a, b, attrs.transposeA, attrs.transposeB, plan, (aReady, bReady) =>
      stock({
        ...args,
        inputs: { ...args.inputs, a: { ...aReady, shape: [...a.shape.slice(0, -2), plan.m, plan.k] }, b: { ...bReady, shape: [...b.shape.slice(0, -2), plan.k, plan.n] } },
        attrs: { ...args.attrs, transposeA: false, transposeB: false },
      }),
    );
  };
}

// ---------------------------------------------------------------------------------------------
// Registration and initialisation

let registered = false;

/** Replaces / adds the wasm kernels (idempotent). Call after loading tfjs-backend-wasm, before setBackend. */
export function registerWasmKernels(): void {
  if (registered) return;
  registered = true;
  replaceKernel(tf.BatchMatMul, (stock) => batchMatMulWasm(stock));
  replaceKernel(tf._FusedMatMul, (stock) => fusedMatMulWasm(stock));
  replaceKernel(tf.OneHot, () => oneHotWasm);
  replaceKernel(tf.UnsortedSegmentSum, () => unsortedSegmentSumWasm);
  for (const op of COMPARISONS) replaceKernel(op, () => comparisonWasm(op));
  replaceKernel(tf.Sum, (stock) => sumWasm(stock));
  replaceKernel(tf.Identity, (stock) => identityWasm(stock));
  replaceKernel(tf.GatherV2, (stock) => gatherWasm(stock));
}

const COMPARISONS: ComparisonOp[] = ['Equal', 'NotEqual', 'Greater', 'GreaterEqual', 'Less', 'LessEqual', 'LogicalAnd', 'LogicalOr'];

/** Registers `make(stock)` for the wasm backend, keeping the stock setupFunc (it wires the C exports). */
function replaceKernel(kernelName: string, make: (stock: KernelFn) => KernelFn): void {
  const stock = tf.getKernel(kernelName, 'wasm');
  const stockFn = (stock?.kernelFunc as KernelFn | undefined) ?? missingKernel(kernelName);
  if (stock) tf.unregisterKernel(kernelName, 'wasm');
  const ours: tf.KernelConfig = { kernelName, backendName: 'wasm', setupFunc: stock?.setupFunc, kernelFunc: make(stockFn) as tf.KernelFunc };
  tf.registerKernel(ours);
  recordReplacement(ours, stock);
}

function missingKernel(kernelName: string): KernelFn {
  return () => {
    throw new Error(`Kernel '${kernelName}' has no stock wasm implementation`);
  };
}

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
export async function setupWasmBackend(options: WasmSetupOptions = {}): Promise<BackendInfo> {
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
  return { name: 'wasm', threads: wasmBackend.getThreadsCount(), detail: `${detail}${simd ? 'SIMD' : 'no SIMD'}, XNNPACK` };
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
