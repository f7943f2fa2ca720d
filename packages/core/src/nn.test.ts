/**
 * The layers with hand-written gradients against the plain op compositions they replace (autodiff),
 * on random inputs: values and gradients.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './index';
import { activate, activationFunction, columnSum, dense, dropout, expOfNonPositive, gatherRows, geluErf, geluTanh, hasPadding, layerNorm, layerNormComposed, maskedMean, paddingBias, FLOAT32_MIN } from './nn';
import { LAYER_NORM } from './kernels/layer-norm';
import { Rng } from './rng';
import { PretrainError } from './errors';

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

  it.each(['cpu', 'wasm'] as const)('the fused LayerNorm kernel on %s matches the composed ops within 1e-5 (value, dx, dγ, dβ), no tensors left', async (backend) => {
    await initBackend({ backend, log: false });
    expect(tf.getKernel(LAYER_NORM, backend)).toBeDefined();
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      for (const eps of [1e-12, 1e-5]) {
        const x = tf.add(random([64, 128], 2), 0.5) as tf.Tensor2D;
        const g = random([128]) as tf.Tensor1D;
        const b = random([128]) as tf.Tensor1D;
        const dy = random([64, 128], 0.1);
        expect(maxDiff(layerNorm(x, g, b, eps), layerNormComposed(x, g, b, eps))).toBeLessThan(1e-5);
        const fused = tf.grads((p, q, r) => tf.sum(tf.mul(layerNorm(p as tf.Tensor2D, q as tf.Tensor1D, r as tf.Tensor1D, eps), dy)))([x, g, b]);
        const composed = tf.grads((p, q, r) => tf.sum(tf.mul(layerNormComposed(p as tf.Tensor2D, q as tf.Tensor1D, r as tf.Tensor1D, eps), dy)))([x, g, b]);
        fused.forEach((grad, i) => expect(maxDiff(grad, composed[i])).toBeLessThan(1e-5));
        // Only γ trained (x a constant): the other gradients are computed and disposed by the tape.
        const onlyGamma = tf.grad((q: tf.Tensor) => tf.sum(tf.mul(layerNorm(x, q as tf.Tensor1D, b, eps), dy)))(g);
        expect(maxDiff(onlyGamma, composed[1])).toBeLessThan(1e-5);
      }
    });
    expect(tf.memory().numTensors).toBe(before);
    await initBackend({ log: false });
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
      // On wasm columnSum is core's one-pass Sum (float64 accumulators); the ones · x product is the
      // form it replaced (float32 accumulation: sums of ~17 differ by ~1e-5).
      expect(maxDiff(columnSum(x), tf.reshape(tf.matMul(tf.ones([1, 300]), x), [7]))).toBeLessThan(5e-5);
    });
  });
});

describe('helpers', () => {
  it('gatherRows picks rows and sends the gradient back to them only', () => {
    tf.tidy(() => {
      const x = random([5, 3]) as tf.Tensor2D;
      const indices = Int32Array.from([3, 0, 3]);
      const reference = tf.matMul(tf.tensor2d([0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0], [3, 5]), x);
      expect(maxDiff(gatherRows(x, indices), reference)).toBe(0);
      const dy = random([3, 3]);
      const grad = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(gatherRows(t as tf.Tensor2D, indices), dy)))(x);
      const rows = grad.arraySync() as number[][];
      const d = dy.arraySync() as number[][];
      expect(rows[3].map((v, j) => v - d[0][j] - d[2][j]).every((v) => Math.abs(v) < 1e-6)).toBe(true);
      expect(rows[0].map((v, j) => v - d[1][j]).every((v) => Math.abs(v) < 1e-6)).toBe(true);
      expect([1, 2, 4].every((r) => rows[r].every((v) => v === 0))).toBe(true);
    });
  });

  it('activate maps HF activation names; dropout keeps about 1 - rate of the values, scaled', () => {
    tf.tidy(() => {
      const x = random([16, 8], 2);
      expect(maxDiff(activate(x, 'gelu'), geluErf(x))).toBe(0);
      expect(maxDiff(activate(x, 'gelu_new'), geluTanh(x))).toBe(0);
      expect(maxDiff(activate(x, 'relu'), tf.relu(x))).toBe(0);
      const kept = dropout(tf.ones([100, 100]), 0.25, new Rng(5)).dataSync();
      const nonZero = kept.filter((v) => v !== 0);
      expect(Math.abs(nonZero.length / kept.length - 0.75)).toBeLessThan(0.02);
      expect(nonZero.every((v) => Math.abs(v - 1 / 0.75) < 1e-6)).toBe(true);
    });
  });

  it('activate covers the HF names heads meet (gelu_fast, tanh, silu); an unknown name is a PretrainError', () => {
    tf.tidy(() => {
      const x = random([16, 8], 3);
      expect(maxDiff(activate(x, 'gelu_fast'), geluTanh(x))).toBe(0);
      expect(maxDiff(activate(x, 'tanh'), tf.tanh(x))).toBe(0);
      expect(maxDiff(activate(x, 'silu'), tf.mul(x, tf.sigmoid(x)))).toBe(0);
      expect(maxDiff(activationFunction('swish')(x), tf.mul(x, tf.sigmoid(x)))).toBe(0);
      // The erf form torch uses (what objective-mlm computed with its own helper before).
      const erfForm = tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
      expect(maxDiff(activationFunction('gelu')(x), erfForm)).toBeLessThan(1e-6);
    });
    expect(() => activationFunction('mish')).toThrow(PretrainError);
    expect(() => activationFunction('mish')).toThrow('unsupported hidden activation "mish"');
  });

  it('dropout with a numeric seed (or none) is TF.js dropout with that seed, so head masks are unchanged', () => {
    tf.tidy(() => {
      const x = random([32, 8], 4);
      expect(maxDiff(dropout(x, 0.3, 17), tf.dropout(x, 0.3, undefined, 17))).toBe(0);
      expect(dropout(x, 0, 17)).toBe(x);
      expect(dropout(x, 0, new Rng(1))).toBe(x);
      const unseeded = dropout(tf.ones([50, 50]), 0.5, undefined).dataSync();
      expect(Math.abs(unseeded.filter((v) => v === 0).length / unseeded.length - 0.5)).toBeLessThan(0.05);
    });
  });

  it('paddingBias is 0 where attended and float32 min where padded; hasPadding sees any 0', () => {
    tf.tidy(() => {
      const mask = tf.tensor2d([[1, 1, 0], [1, 1, 1]], [2, 3], 'int32');
      const bias = paddingBias(mask);
      expect(bias.shape).toEqual([2, 1, 1, 3]);
      expect(Array.from(bias.dataSync(), (v) => v + 0)).toEqual([0, 0, Math.fround(FLOAT32_MIN), 0, 0, 0]);
      expect(hasPadding(mask)).toBe(true);
      expect(hasPadding(tf.ones([2, 3], 'int32'))).toBe(false);
    });
  });
});

describe('maskedMean', () => {
  it('averages each row over its unpadded positions only; an all-padding row gives zeros', () => {
    const states = tf.tensor3d([[[1, 2], [3, 4], [100, 100]], [[5, 6], [7, 8], [9, 10]], [[1, 1], [1, 1], [1, 1]]]);
    const mask = tf.tensor2d([[1, 1, 0], [1, 1, 1], [0, 0, 0]], undefined, 'int32');
    expect(maskedMean(states, mask).arraySync()).toEqual([[2, 3], [7, 8], [0, 0]]);
    tf.dispose([states, mask]);
  });
});
