/** The host-side vector math of a decoding step against core's layer functions (tf kernels) and erf's tabulated values. */
import * as tf from '@tensorflow/tfjs-core';
import { geluErf, geluTanh, initBackend, layerNorm } from '@pretrain/core';
import { activateInPlace, addToRows, erf, layerNormRows } from './host-math';
import { maxDiff, values } from './test-utils/host-values';

beforeAll(async () => {
  await initBackend({ log: false });
});

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
