/**
 * What BatchMatMul and _FusedMatMul share: the C BatchMatMul export on tensor ids (XNNPACK's
 * fully-connected op for an untransposed 2-D product), heap views registered as ids, product plans
 * and explicit transposes.
 */
import * as tf from '@tensorflow/tfjs-core';
import { broadcastBatchIndices, sizeOf, transposeLastTwoInto } from '../shared';
import type { WasmBackendLike, WasmModule, WasmTensorData } from './types';

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
export function matMul2d(backend: WasmBackendLike, aId: number, bId: number, outId: number, m: number, k: number, n: number): void {
  rawMatMul(backend)(aId, shapeBytes([1, m, k]), 3, bId, shapeBytes([1, k, n]), 3, false, false, outId);
}

/**
 * Registers `size` floats at a heap offset as a tensor id (no allocation), so the C kernels can
 * address one batch slice. Release with releaseView: it unregisters without freeing, and drops
 * the XNNPACK operator cached on the id.
 */
export function registerView(backend: WasmBackendLike, memoryOffset: number, size: number): number {
  const id = backend.dataIdNextNumber++;
  backend.wasm.tfjs.registerTensor(id, size, memoryOffset);
  return id;
}

export function releaseView(backend: WasmBackendLike, id: number): void {
  backend.wasm.tfjs.disposeData(id);
}

/**
 * XNNPACK caches packed weights on the weights' tensor id and ignores the shape, so the same data
 * used as [k, n] weights under another reshape would silently reuse the wrong operator (a stock
 * TF.js bug). The data's own id is used only when [k, n] is the shape it was created with;
 * otherwise a one-off view id (added to `views`, released by the caller).
 */
export function weightsId(backend: WasmBackendLike, data: WasmTensorData, k: number, n: number, views: number[]): number {
  const stored = data.shape;
  const natural = stored.length >= 2 && stored[stored.length - 2] === k && stored[stored.length - 1] === n && sizeOf(stored) === k * n;
  if (natural) return data.id;
  const id = registerView(backend, data.memoryOffset, k * n);
  views.push(id);
  return id;
}

export interface MatMulPlan {
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
export function planMatMul(a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean): MatMulPlan | undefined {
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
export function transposeLastTwo(backend: WasmBackendLike, x: tf.TensorInfo, batch: number, rows: number, cols: number): tf.TensorInfo {
  const out = backend.makeOutput([batch, cols, rows], x.dtype);
  transposeLastTwoInto(backend.typedArrayFromHeap(out), backend.typedArrayFromHeap({ ...x, shape: [batch, rows, cols] }), batch, rows, cols);
  return out;
}

/** Runs `body` with a and b laid out untransposed ([batch, m, k] and [batch, k, n]). */
export function withUntransposed<T>(backend: WasmBackendLike, a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean, plan: MatMulPlan, body: (a: tf.TensorInfo, b: tf.TensorInfo) => T): T {
  const temps: tf.TensorInfo[] = [];
  try {
    const aReady = transposeA ? temps[temps.push(transposeLastTwo(backend, a, plan.batchA, plan.k, plan.m)) - 1] : a;
    const bReady = transposeB ? temps[temps.push(transposeLastTwo(backend, b, plan.batchB, plan.n, plan.k)) - 1] : b;
    return body(aReady, bReady);
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}
