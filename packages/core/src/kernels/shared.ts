/** Kernel bodies shared by the cpu and wasm backends: plain loops over typed arrays. */
type NumericArray = Float32Array | Int32Array | Uint8Array;

/**
 * out[segmentIds[r], :] += x[r, :] for every row r, in row order (so float sums match a
 * sequential reference exactly). Ids outside [0, numSegments) are dropped, as in TensorFlow.
 */
export function segmentSumInto(out: NumericArray, x: NumericArray, segmentIds: ArrayLike<number>, rowSize: number, numSegments: number): void {
  out.fill(0);
  for (let row = 0; row < segmentIds.length; row++) {
    const segment = segmentIds[row];
    if (segment < 0 || segment >= numSegments) continue;
    const from = row * rowSize;
    const to = segment * rowSize;
    for (let j = 0; j < rowSize; j++) out[to + j] += x[from + j];
  }
}

/** Fills `out` ([indices.length, depth]) with offValue and puts onValue at each valid index. */
export function oneHotInto(out: NumericArray, indices: ArrayLike<number>, depth: number, onValue: number, offValue: number): void {
  out.fill(offValue);
  for (let i = 0; i < indices.length; i++) {
    const index = indices[i];
    if (index >= 0 && index < depth) out[i * depth + index] = onValue;
  }
}

export function segmentSumOutputShape(xShape: number[], segmentIdsRank: number, numSegments: number): number[] {
  return [numSegments, ...xShape.slice(segmentIdsRank)];
}

export function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * For each flat index of the broadcast batch shape `outBatchShape`, the flat batch index into an
 * operand whose batch shape is `operandBatchShape` (right-aligned, size-1 dims broadcast).
 */
export function broadcastBatchIndices(outBatchShape: number[], operandBatchShape: number[]): Int32Array {
  const total = sizeOf(outBatchShape);
  const out = new Int32Array(total);
  const offset = outBatchShape.length - operandBatchShape.length;
  for (let flat = 0; flat < total; flat++) {
    let rest = flat;
    let index = 0;
    let stride = 1;
    for (let d = outBatchShape.length - 1; d >= 0; d--) {
      const coord = rest % outBatchShape[d];
      rest = Math.floor(rest / outBatchShape[d]);
      const operandDim = d - offset >= 0 ? operandBatchShape[d - offset] : 1;
      if (operandDim !== 1) index += coord * stride;
      stride *= operandDim;
    }
    out[flat] = index;
  }
  return out;
}

/** Batch dims that broadcast only trivially (equal, or one side has a single batch): what tfjs's stock kernels handle correctly. */
export function isSimpleBatchBroadcast(aBatchShape: number[], bBatchShape: number[]): boolean {
  const batchA = sizeOf(aBatchShape);
  const batchB = sizeOf(bBatchShape);
  if (batchA === 1 || batchB === 1) return true;
  const rank = Math.max(aBatchShape.length, bBatchShape.length);
  const pad = (s: number[]) => [...new Array(rank - s.length).fill(1), ...s];
  const [pa, pb] = [pad(aBatchShape), pad(bBatchShape)];
  return pa.every((d, i) => d === pb[i]);
}

/**
 * Reference batched product for general broadcasting (tfjs's stock kernels index batches modulo
 * the batch size, which is wrong for e.g. [2,1] × [1,3]).
 */
export function naiveBatchMatMul(a: Float32Array, b: Float32Array, aShape: number[], bShape: number[], transposeA: boolean, transposeB: boolean, outBatchShape: number[]): Float32Array {
  const aRank = aShape.length;
  const bRank = bShape.length;
  const m = transposeA ? aShape[aRank - 1] : aShape[aRank - 2];
  const k = transposeA ? aShape[aRank - 2] : aShape[aRank - 1];
  const n = transposeB ? bShape[bRank - 2] : bShape[bRank - 1];
  const aIndex = broadcastBatchIndices(outBatchShape, aShape.slice(0, -2));
  const bIndex = broadcastBatchIndices(outBatchShape, bShape.slice(0, -2));
  const out = new Float32Array(aIndex.length * m * n);
  for (let batch = 0; batch < aIndex.length; batch++) {
    const aBase = aIndex[batch] * m * k;
    const bBase = bIndex[batch] * k * n;
    const outBase = batch * m * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let p = 0; p < k; p++) {
          const av = a[aBase + (transposeA ? p * m + i : i * k + p)];
          const bv = b[bBase + (transposeB ? j * k + p : p * n + j)];
          sum += av * bv;
        }
        out[outBase + i * n + j] = sum;
      }
    }
  }
  return out;
}

export type ComparisonOp = 'Equal' | 'NotEqual' | 'Greater' | 'GreaterEqual' | 'Less' | 'LessEqual' | 'LogicalAnd' | 'LogicalOr';

/** out[o..o+n) = a[ai + i·as] op b[bi + i·bs] as 0/1: one row of a broadcast comparison. */
function compareRow(op: ComparisonOp, out: Uint8Array, o: number, a: NumericArray, ai: number, as: number, b: NumericArray, bi: number, bs: number, n: number): void {
  switch (op) {
    case 'Equal':
      for (let i = 0; i < n; i++) out[o + i] = a[ai + i * as] === b[bi + i * bs] ? 1 : 0;
      break;
    case 'NotEqual':
      for (let i = 0; i < n; i++) out[o + i] = a[ai + i * as] !== b[bi + i * bs] ? 1 : 0;
      break;
    case 'Greater':
      for (let i = 0; i < n; i++) out[o + i] = a[ai + i * as] > b[bi + i * bs] ? 1 : 0;
      break;
    case 'GreaterEqual':
      for (let i = 0; i < n; i++) out[o + i] = a[ai + i * as] >= b[bi + i * bs] ? 1 : 0;
      break;
    case 'Less':
      for (let i = 0; i < n; i++) out[o + i] = a[ai + i * as] < b[bi + i * bs] ? 1 : 0;
      break;
    case 'LessEqual':
      for (let i = 0; i < n; i++) out[o + i] = a[ai + i * as] <= b[bi + i * bs] ? 1 : 0;
      break;
    case 'LogicalAnd':
      for (let i = 0; i < n; i++) out[o + i] = a[ai + i * as] && b[bi + i * bs] ? 1 : 0;
      break;
    case 'LogicalOr':
      for (let i = 0; i < n; i++) out[o + i] = a[ai + i * as] || b[bi + i * bs] ? 1 : 0;
      break;
  }
}

/** Element strides of `shape` broadcast to `outShape` (0 along broadcast dims), right-aligned. */
function broadcastStrides(shape: number[], outShape: number[]): number[] {
  const strides = new Array(outShape.length).fill(0);
  let stride = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    const outDim = d + outShape.length - shape.length;
    strides[outDim] = shape[d] === 1 ? 0 : stride;
    stride *= shape[d];
  }
  return strides;
}

/** Broadcast comparison into a 0/1 array of outShape, row by row over the last dimension. */
export function broadcastCompareInto(op: ComparisonOp, out: Uint8Array, a: NumericArray, aShape: number[], b: NumericArray, bShape: number[], outShape: number[]): void {
  if (outShape.length === 0) {
    compareRow(op, out, 0, a, 0, 0, b, 0, 0, 1);
    return;
  }
  const rank = outShape.length;
  const aStrides = broadcastStrides(aShape, outShape);
  const bStrides = broadcastStrides(bShape, outShape);
  const rowLength = outShape[rank - 1];
  const rows = out.length / rowLength;
  const index = new Array(rank - 1).fill(0);
  let aOffset = 0;
  let bOffset = 0;
  for (let row = 0; row < rows; row++) {
    compareRow(op, out, row * rowLength, a, aOffset, aStrides[rank - 1], b, bOffset, bStrides[rank - 1], rowLength);
    // Advance the multi-index over the leading dims (odometer), keeping the offsets in step.
    for (let d = rank - 2; d >= 0; d--) {
      index[d]++;
      aOffset += aStrides[d];
      bOffset += bStrides[d];
      if (index[d] < outShape[d]) break;
      aOffset -= aStrides[d] * outShape[d];
      bOffset -= bStrides[d] * outShape[d];
      index[d] = 0;
    }
  }
}

/** out[j] = Σ_i x[i·inner + j]: a sum over the leading axes, accumulated in float64. */
export function sumLeadingAxesInto(out: NumericArray, x: NumericArray, outer: number, inner: number): void {
  const acc = new Float64Array(inner);
  for (let i = 0; i < outer; i++) {
    const base = i * inner;
    for (let j = 0; j < inner; j++) acc[j] += x[base + j];
  }
  for (let j = 0; j < inner; j++) out[j] = acc[j];
}

/** [batch, rows, cols] → [batch, cols, rows], in cache-sized tiles (≈2× a naive loop). */
export function transposeLastTwoInto(out: NumericArray, x: NumericArray, batch: number, rows: number, cols: number, outOffset = 0, xOffset = 0): void {
  // 8×8 tiles were fastest up to [2048, 512]; a [2032, 8000] matrix (the LM head's logit gradient) took
  // 71 ms with them and 38 ms with 64×64 tiles (Node 20, AMD EPYC).
  const tile = rows >= 1024 && cols >= 1024 ? 64 : 8;
  for (let b = 0; b < batch; b++) {
    const from = xOffset + b * rows * cols;
    const to = outOffset + b * rows * cols;
    for (let i0 = 0; i0 < rows; i0 += tile) {
      const iEnd = Math.min(i0 + tile, rows);
      for (let j0 = 0; j0 < cols; j0 += tile) {
        const jEnd = Math.min(j0 + tile, cols);
        for (let i = i0; i < iEnd; i++) {
          const rowStart = from + i * cols;
          for (let j = j0; j < jEnd; j++) out[to + j * rows + i] = x[rowStart + j];
        }
      }
    }
  }
}
