/**
 * The key/value cache of GPT-2 generation, kept on the host, and attention of one new position
 * over it (see Gpt2Model.decodeStep for why a decoding step's vector math runs on the host).
 */
import { PretrainError } from '@pretrain/core';

export interface KVCacheShape {
  layers: number;
  batch: number;
  heads: number;
  headSize: number;
}

/** Rows of a projection on the host: row r's vector starts at `offset + r * stride`. */
export interface HostRows {
  data: ArrayLike<number>;
  stride: number;
  offset: number;
}

/**
 * Keys and values of the positions seen so far, per layer, as host buffers laid out
 * [batch, heads, capacity, headSize] and filled up to `length`. Preallocated (generate sizes it
 * for prompt + new tokens) and doubled when a write would run past the capacity, so a decoding
 * step writes one position instead of copying the cache.
 */
export class KVCache {
  readonly shape: KVCacheShape;
  // ES private fields: not enumerable, so tf.tidy's walk over a returned cache skips the buffers.
  #length = 0;
  #positions: number;
  #keys: Float32Array[];
  #values: Float32Array[];

  constructor(shape: KVCacheShape, capacity: number) {
    if (!(Number.isInteger(capacity) && capacity > 0)) throw new PretrainError(`KVCache: capacity must be a positive integer, got ${capacity}`);
    this.shape = { ...shape };
    this.#positions = capacity;
    this.#keys = Array.from({ length: shape.layers }, () => this.allocate(capacity));
    this.#values = Array.from({ length: shape.layers }, () => this.allocate(capacity));
  }

  /** Positions stored (the next position to write). */
  get length(): number {
    return this.#length;
  }

  /** Positions the buffers hold before they must grow. */
  get capacity(): number {
    return this.#positions;
  }

  /** Grows the buffers (at least doubling) so that `positions` positions fit. */
  reserve(positions: number): void {
    if (positions <= this.#positions) return;
    const capacity = Math.max(positions, 2 * this.#positions);
    this.#keys = this.#keys.map((buffer) => this.copyInto(buffer, capacity));
    this.#values = this.#values.map((buffer) => this.copyInto(buffer, capacity));
    this.#positions = capacity;
  }

  /**
   * Stores the keys and values of `seq` new positions per batch row at positions [length,
   * length + seq) of `layer`; source rows are ordered [batch, seq], each [heads * headSize].
   * `length` advances separately (advance), once every layer is written.
   */
  write(layer: number, keys: HostRows, values: HostRows, seq: number): void {
    this.reserve(this.#length + seq);
    const { batch, heads, headSize } = this.shape;
    for (const [source, target] of [[keys, this.#keys[layer]], [values, this.#values[layer]]] as const) {
      for (let b = 0; b < batch; b++) {
        for (let s = 0; s < seq; s++) {
          const row = source.offset + (b * seq + s) * source.stride;
          for (let h = 0; h < heads; h++) {
            const at = this.rowOffset(b, h, this.#length + s);
            for (let j = 0; j < headSize; j++) target[at + j] = source.data[row + h * headSize + j];
          }
        }
      }
    }
  }

  advance(seq: number): void {
    this.#length += seq;
  }

  /**
   * Attention of one query per batch row (rows [batch, heads * headSize]) over the cached
   * positions [0, positions) of `layer` (by default those stored; a step attends to the one it
   * just wrote, too): softmax(q · kᵀ · scale) · v per head, heads concatenated.
   */
  attend(layer: number, queries: HostRows, scale: number, positions = this.#length): Float32Array {
    if (positions > this.#positions) throw new PretrainError(`KVCache.attend: ${positions} positions requested but the cache holds ${this.#positions}`);
    const { batch, heads, headSize } = this.shape;
    const context = new Float32Array(batch * heads * headSize);
    const weights = new Float64Array(positions);
    for (let b = 0; b < batch; b++) {
      for (let h = 0; h < heads; h++) {
        const query = queries.offset + b * queries.stride + h * headSize;
        const start = this.rowOffset(b, h, 0);
        scores(weights, queries.data, query, this.#keys[layer], start, headSize, scale);
        softmaxInPlace(weights);
        weightedSum(context, (b * heads + h) * headSize, weights, this.#values[layer], start, headSize);
      }
    }
    return context;
  }

  /** Empties the cache and frees its buffers (plain host memory); a later write allocates again. */
  clear(): void {
    this.#length = 0;
    this.#positions = 0;
    this.#keys = this.#keys.map(() => this.allocate(0));
    this.#values = this.#values.map(() => this.allocate(0));
  }

  private rowOffset(b: number, h: number, position: number): number {
    return ((b * this.shape.heads + h) * this.#positions + position) * this.shape.headSize;
  }

  private allocate(capacity: number): Float32Array {
    const { batch, heads, headSize } = this.shape;
    return new Float32Array(batch * heads * capacity * headSize);
  }

  private copyInto(buffer: Float32Array, capacity: number): Float32Array {
    const grown = this.allocate(capacity);
    const block = this.#positions * this.shape.headSize;
    for (let i = 0; i < this.shape.batch * this.shape.heads; i++) {
      grown.set(buffer.subarray(i * block, i * block + this.#length * this.shape.headSize), i * capacity * this.shape.headSize);
    }
    return grown;
  }
}

// The two loops below keep four running sums (unrolled by hand): V8 does not vectorise, and
// independent sums halve the time of a decoding step's attention.

/** weights[t] = scale · q · keys[t] for the rows of `keys` from `start` (headSize floats each). */
function scores(weights: Float64Array, q: ArrayLike<number>, qAt: number, keys: Float32Array, start: number, headSize: number, scale: number): void {
  const unrolled = headSize - (headSize % 4);
  for (let t = 0; t < weights.length; t++) {
    const k = start + t * headSize;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let j = 0;
    for (; j < unrolled; j += 4) {
      s0 += q[qAt + j] * keys[k + j];
      s1 += q[qAt + j + 1] * keys[k + j + 1];
      s2 += q[qAt + j + 2] * keys[k + j + 2];
      s3 += q[qAt + j + 3] * keys[k + j + 3];
    }
    for (; j < headSize; j++) s0 += q[qAt + j] * keys[k + j];
    weights[t] = (s0 + s1 + s2 + s3) * scale;
  }
}

function softmaxInPlace(weights: Float64Array): void {
  let max = -Infinity;
  for (let t = 0; t < weights.length; t++) if (weights[t] > max) max = weights[t];
  let total = 0;
  for (let t = 0; t < weights.length; t++) total += weights[t] = Math.exp(weights[t] - max);
  for (let t = 0; t < weights.length; t++) weights[t] /= total;
}

/** out[at + j] = Σ_t weights[t] · values[start + t·headSize + j], four columns per pass over t. */
function weightedSum(out: Float32Array, at: number, weights: Float64Array, values: Float32Array, start: number, headSize: number): void {
  let j = 0;
  for (; j + 4 <= headSize; j += 4) {
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let t = 0, v = start + j; t < weights.length; t++, v += headSize) {
      const p = weights[t];
      s0 += p * values[v];
      s1 += p * values[v + 1];
      s2 += p * values[v + 2];
      s3 += p * values[v + 3];
    }
    out[at + j] = s0;
    out[at + j + 1] = s1;
    out[at + j + 2] = s2;
    out[at + j + 3] = s3;
  }
  for (; j < headSize; j++) {
    let sum = 0;
    for (let t = 0, v = start + j; t < weights.length; t++, v += headSize) sum += weights[t] * values[v];
    out[at + j] = sum;
  }
}
