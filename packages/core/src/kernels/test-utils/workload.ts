/**
 * A small deterministic workload (transposed/batched matmuls, a gather gradient, softmax CE)
 * whose outputs tests compare across backends and thread counts.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../rng';

export interface WorkloadResult {
  name: string;
  shape: number[];
  values: number[];
}

export function runWorkload(seed = 11): WorkloadResult[] {
  const rng = new Rng(seed);
  const random = (shape: number[]) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), shape);
  return tf.tidy(() => {
    const results: [string, tf.Tensor][] = [];
    const a = random([64, 96]);
    const b = random([80, 96]);
    results.push(['A·Bᵀ', tf.matMul(a, b, false, true)]);
    results.push(['Aᵀ·A', tf.matMul(a, a, true, false)]);
    const q = random([4, 32, 16]);
    const k = random([4, 32, 16]);
    results.push(['batched Q·Kᵀ', tf.matMul(q, k, false, true)]);
    const table = random([50, 24]);
    const w = random([24, 24]);
    const ids = tf.tensor2d(Int32Array.from({ length: 3 * 10 }, () => rng.int(50)), [3, 10], 'int32');
    const labels = tf.tensor1d(Int32Array.from({ length: 30 }, () => rng.int(50)), 'int32');
    const loss = (t: tf.Tensor, wt: tf.Tensor) => {
      const h = tf.tanh(tf.matMul(tf.gather(t, ids), wt));
      const logits = tf.matMul(tf.reshape(h, [30, 24]), t, false, true);
      return tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 50), logits) as tf.Scalar;
    };
    const { value, grads } = tf.valueAndGrads(loss)([table, w]);
    results.push(['loss', value], ['d table', grads[0]], ['d w', grads[1]]);
    return results.map(([name, t]) => ({ name, shape: t.shape, values: Array.from(t.dataSync()) }));
  });
}
