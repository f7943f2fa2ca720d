/**
 * A small deterministic workload (transposed/batched matmuls, a gather gradient, softmax CE)
 * whose outputs tests compare across backends and thread counts.
 */
import * as tf from '@tensorflow/tfjs-core';
import { softmaxCrossEntropy } from '../../losses';
import { geluErf, geluTanh, layerNorm } from '../../nn';
import { ADAMW_UPDATE } from '../optional';
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
    // Large enough to be split across threads by core's wasm C module: products by columns and by
    // batch items, row-wise and element-wise kernels by rows / elements / columns.
    const x = random([600, 256]);
    const y = random([256, 320]);
    results.push(['large A·B', tf.matMul(x, y)], ['large A·Aᵀ', tf.matMul(x, x, false, true)], ['large Aᵀ·A', tf.matMul(x, x, true, false)]);
    results.push(['large batched', tf.matMul(random([8, 96, 128]), random([8, 128, 96]))]);
    const gamma = random([256]);
    const beta = random([256]);
    const norm = (t: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => layerNorm(t as tf.Tensor2D, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5);
    results.push(['large LayerNorm', norm(x, gamma, beta)]);
    const [dx, dgamma, dbeta] = tf.grads(norm)([x, gamma, beta], random([600, 256]));
    results.push(['large LayerNorm dx', dx], ['large LayerNorm dγ', dgamma], ['large LayerNorm dβ', dbeta]);
    results.push(['large GELU (erf) and gradient', tf.grad((t: tf.Tensor) => geluErf(t))(x, random([600, 256]))], ['large GELU (tanh)', geluTanh(x)]);
    results.push(['large column sums', tf.sum(x, 0)], ['large element-wise', tf.div(tf.add(tf.mul(x, gamma), x), tf.add(tf.abs(beta), 1))]);
    const rowLabels = Int32Array.from({ length: 600 }, () => rng.int(256));
    results.push(['large loss gradient', tf.grad((t: tf.Tensor) => softmaxCrossEntropy(t as tf.Tensor2D, rowLabels).loss)(x)]);
    const adamw = tf.engine().runKernel(ADAMW_UPDATE, { param: x, grad: random([600, 256]), expAvg: random([600, 256]), expAvgSq: tf.abs(random([600, 256])) }, { decay: 0.99, beta1: 0.9, beta2: 0.999, biasCorrection2Sqrt: 0.05, eps: 1e-8, stepSize: 0.01 }) as tf.Tensor[];
    results.push(['large AdamW parameter', adamw[0]]);
    return results.map(([name, t]) => ({ name, shape: t.shape, values: Array.from(t.dataSync()) }));
  });
}
