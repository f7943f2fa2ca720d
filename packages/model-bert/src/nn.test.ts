/**
 * The layers with hand-written gradients against the plain op compositions they replace (autodiff),
 * on random inputs: values and gradients.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng, initBackend } from '@pretrain/core';
import { columnSum, dense, expOfNonPositive, geluErf, geluTanh, layerNorm } from './nn';

beforeAll(async () => {
  await initBackend({ log: false });
});

const rng = new Rng(17);
const random = (shape: number[], scale = 1) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal() * scale), shape);

function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

const reference = {
  layerNorm: (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, eps: number) => {
    const mean = tf.mean(x, -1, true);
    const variance = tf.mean(tf.square(tf.sub(x, mean)), -1, true);
    return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), g), b);
  },
  geluErf: (x: tf.Tensor) => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.div(x, Math.SQRT2)), 1)),
  geluTanh: (x: tf.Tensor) => tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI))), 1)),
};

describe('hand-written gradients match autodiff of the reference ops', () => {
  it('layerNorm (value, dx, dγ, dβ)', () => {
    tf.tidy(() => {
      for (const eps of [1e-12, 1e-5]) {
        const x = tf.add(random([37, 24], 3), 1.5);
        const g = random([24]);
        const b = random([24]);
        const dy = random([37, 24]);
        expect(maxDiff(layerNorm(x as tf.Tensor2D, g as tf.Tensor1D, b as tf.Tensor1D, eps), reference.layerNorm(x, g, b, eps))).toBeLessThan(1e-5);
        const ours = tf.grads((a, c, d) => tf.sum(tf.mul(layerNorm(a as tf.Tensor2D, c as tf.Tensor1D, d as tf.Tensor1D, eps), dy)))([x, g, b]);
        const theirs = tf.grads((a, c, d) => tf.sum(tf.mul(reference.layerNorm(a, c, d, eps), dy)))([x, g, b]);
        ours.forEach((grad, i) => expect(maxDiff(grad, theirs[i])).toBeLessThan(1e-4));
      }
    });
  });

  it.each([
    ['geluErf', geluErf, reference.geluErf],
    ['geluTanh', geluTanh, reference.geluTanh],
  ] as const)('%s (value and gradient)', (_, ours, theirs) => {
    tf.tidy(() => {
      const x = random([64, 48], 3);
      const dy = random([64, 48]);
      expect(maxDiff(ours(x), theirs(x))).toBeLessThan(2e-6);
      const a = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(ours(t), dy)))(x);
      const b = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(theirs(t), dy)))(x);
      expect(maxDiff(a, b)).toBeLessThan(1e-5);
    });
  });

  it('dense = x·W + b, with gradients for x, W and b', () => {
    tf.tidy(() => {
      const x = random([33, 16]) as tf.Tensor2D;
      const w = random([16, 8]) as tf.Tensor2D;
      const b = random([8]) as tf.Tensor1D;
      const dy = random([33, 8]);
      expect(maxDiff(dense(x, w, b), tf.add(tf.matMul(x, w), b))).toBeLessThan(1e-5);
      const ours = tf.grads((p, q, r) => tf.sum(tf.mul(dense(p as tf.Tensor2D, q as tf.Tensor2D, r as tf.Tensor1D), dy)))([x, w, b]);
      const theirs = tf.grads((p, q, r) => tf.sum(tf.mul(tf.add(tf.matMul(p as tf.Tensor2D, q as tf.Tensor2D), r), dy)))([x, w, b]);
      ours.forEach((grad, i) => expect(maxDiff(grad, theirs[i])).toBeLessThan(1e-4));
    });
  });

  it('expOfNonPositive matches Math.exp to 4e-6 relative on [-80, 0]', () => {
    const z = Array.from({ length: 2001 }, (_, i) => -i * 0.04);
    const ours = tf.tidy(() => expOfNonPositive(tf.tensor1d(z)).dataSync());
    const worst = Math.max(...z.map((v, i) => Math.abs(ours[i] - Math.exp(v)) / Math.exp(v)));
    expect(worst).toBeLessThan(4e-6);
  });

  it('columnSum equals tf.sum over axis 0', () => {
    tf.tidy(() => {
      const x = random([300, 7]) as tf.Tensor2D;
      expect(maxDiff(columnSum(x), tf.sum(x, 0))).toBeLessThan(1e-5);
    });
  });
});
