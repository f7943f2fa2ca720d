/** The KV cache's attention against the same softmax(q·kᵀ·scale)·v with tf ops. */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@pretrain/core';
import { KVCache } from './kv-cache';
import { maxDiff, values } from './test-utils/host-values';

beforeAll(async () => {
  await initBackend({ log: false });
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
