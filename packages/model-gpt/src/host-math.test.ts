/** The host-side vector math of a decoding step against core's layer functions (tf kernels) and erf's tabulated values. */
import * as tf from '@tensorflow/tfjs-core';
import { geluErf, geluTanh, initBackend, layerNorm } from '@pretrain/core';
import { activateInPlace, addToRows, erf, layerNormRows } from './host-math';
import { KVCache } from './kv-cache';

beforeAll(async () => {
  await initBackend({ log: false });
});

function values(n: number, seed: number, spread = 3): Float32Array {
  // A fixed, irregular spread of values in [-spread, spread].
  return Float32Array.from({ length: n }, (_, i) => spread * Math.sin(seed * 12.9898 + i * 78.233));
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

describe('host math', () => {
  it('erf matches tabulated values (Abramowitz & Stegun, table 7.1)', () => {
    const table: [number, number][] = [[0, 0], [0.1, 0.1124629160], [0.5, 0.5204998778], [1, 0.8427007929], [1.5, 0.9661051465], [2, 0.9953222650], [3, 0.9999779095]];
    for (const [x, expected] of table) {
      expect(Math.abs(erf(x) - expected)).toBeLessThan(2e-7);
      expect(Math.abs(erf(-x) + expected)).toBeLessThan(2e-7);
    }
  });

  it("activations equal core's GELUs and relu", () => {
    const x = values(512, 1, 6);
    tf.tidy(() => {
      const t = tf.tensor1d(x);
      expect(maxDiff(activateInPlace(Float32Array.from(x), 'gelu'), geluErf(t).dataSync())).toBeLessThan(1e-6);
      expect(maxDiff(activateInPlace(Float32Array.from(x), 'gelu_new'), geluTanh(t).dataSync())).toBeLessThan(1e-6);
      expect(maxDiff(activateInPlace(Float32Array.from(x), 'relu'), tf.relu(t).dataSync())).toBe(0);
    });
  });

  it("layerNormRows equals core's layerNorm; addToRows adds a row to each row", () => {
    const x = values(3 * 40, 2);
    const gamma = values(40, 3);
    const beta = values(40, 4);
    tf.tidy(() => {
      const expected = layerNorm(tf.tensor2d(x, [3, 40]), tf.tensor1d(gamma), tf.tensor1d(beta), 1e-5).dataSync();
      expect(maxDiff(layerNormRows(x, 40, gamma, beta, 1e-5), expected)).toBeLessThan(1e-5);
    });
    const rows = new Float32Array([1, 2, 3, 4, 5, 6]);
    addToRows(rows, [10, 20, 30]);
    expect(Array.from(rows)).toEqual([11, 22, 33, 14, 25, 36]);
  });
});

describe('KVCache', () => {
  const [batch, heads, headSize, positions] = [2, 3, 6, 7];
  const width = heads * headSize;
  const keys = values(batch * positions * width, 5);
  const vals = values(batch * positions * width, 6);
  const queries = values(batch * width, 7);

  /** softmax(q kᵀ · scale) v per row and head with tf ops, keys/values given as [batch, positions, width]. */
  function reference(scale: number): Float32Array {
    return tf.tidy(() => {
      const split = (t: Float32Array, length: number) => tf.transpose(tf.tensor4d(t, [batch, length, heads, headSize]), [0, 2, 1, 3]);
      const probs = tf.softmax(tf.mul(tf.matMul(split(queries, 1), split(keys, positions), false, true), scale));
      return tf.transpose(tf.matMul(probs, split(vals, positions)), [0, 2, 1, 3]).dataSync() as Float32Array;
    });
  }

  /** Rows [batch, seq] of positions [from, from + seq) out of the [batch, positions, width] arrays. */
  function slice(t: Float32Array, from: number, seq: number): Float32Array {
    return Float32Array.from({ length: batch * seq * width }, (_, i) => {
      const b = Math.floor(i / (seq * width));
      return t[(b * positions + from) * width + (i % (seq * width))];
    });
  }

  it('attends like softmax(q·kᵀ·scale)·v, written in chunks and grown from capacity 2', () => {
    const cache = new KVCache({ layers: 1, batch, heads, headSize }, 2);
    for (const [from, seq] of [[0, 3], [3, 1], [4, 1], [5, 2]]) {
      cache.write(0, { data: slice(keys, from, seq), stride: width, offset: 0 }, { data: slice(vals, from, seq), stride: width, offset: 0 }, seq);
      cache.advance(seq);
    }
    expect(cache.length).toBe(positions);
    expect(cache.capacity).toBe(8);
    expect(maxDiff(cache.attend(0, { data: queries, stride: width, offset: 0 }, 0.4), reference(0.4))).toBeLessThan(1e-5);
    cache.clear();
    expect(cache.length).toBe(0);
    cache.write(0, { data: slice(keys, 0, positions), stride: width, offset: 0 }, { data: slice(vals, 0, positions), stride: width, offset: 0 }, positions);
    cache.advance(positions);
    expect(maxDiff(cache.attend(0, { data: queries, stride: width, offset: 0 }, 1), reference(1))).toBeLessThan(1e-5);
  });

  it('rejects attention past what it holds', () => {
    const cache = new KVCache({ layers: 1, batch: 1, heads: 1, headSize: 4 }, 2);
    expect(() => cache.attend(0, { data: new Float32Array(4), stride: 4, offset: 0 }, 1, 3)).toThrow(/3 positions requested but the cache holds 2/);
    expect(() => new KVCache({ layers: 1, batch: 1, heads: 1, headSize: 4 }, 0)).toThrow(/capacity must be a positive integer/);
  });
});
