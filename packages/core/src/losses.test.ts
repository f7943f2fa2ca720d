import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './backend';
import './gradients';
import { assertLabelsInRange, softmaxCrossEntropy } from './losses';
import { Rng } from './rng';
import { PretrainError } from './errors';

const rng = new Rng(3);
const rows = 37;
const classes = 53;
const logits = Float32Array.from({ length: rows * classes }, () => rng.normal() * 3);
const labels = Int32Array.from({ length: rows }, (_, i) => (i % 7 === 3 ? -100 : rng.int(classes)));
// Make some rows predict their label so accuracy is neither 0 nor 1.
for (let r = 0; r < rows; r += 4) if (labels[r] >= 0) logits[r * classes + labels[r]] = 50;

/** Independent reference: TF.js's own tf.losses.softmaxCrossEntropy on the counted rows (cpu). */
async function reference() {
  await initBackend({ backend: 'cpu', log: false });
  const kept = [...labels.keys()].filter((r) => labels[r] >= 0);
  return tf.tidy(() => {
    const x = tf.tensor2d(logits, [rows, classes]);
    const f = (t: tf.Tensor) => {
      const selected = tf.gather(t, tf.tensor1d(Int32Array.from(kept), 'int32'));
      return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(Int32Array.from(kept, (r) => labels[r]), 'int32'), classes), selected) as tf.Scalar;
    };
    const { value, grad } = tf.valueAndGrad(f)(x);
    const hits = kept.filter((r) => {
      const row = logits.subarray(r * classes, (r + 1) * classes);
      return row.indexOf(Math.max(...row)) === labels[r];
    }).length;
    return { loss: value.dataSync()[0], grad: Array.from(grad.dataSync()), accuracy: hits / kept.length };
  });
}

describe('softmaxCrossEntropy (fused kernels)', () => {
  it.each(['cpu', 'wasm'] as const)('matches tf.losses.softmaxCrossEntropy in value, gradient and accuracy on %s', async (backend) => {
    const expected = await reference();
    await initBackend({ backend, log: false });
    const before = tf.memory().numTensors;
    const got = tf.tidy(() => {
      const x = tf.tensor2d(logits, [rows, classes]);
      let accuracy = 0;
      const { value, grad } = tf.valueAndGrad((t: tf.Tensor) => {
        const out = softmaxCrossEntropy(t as tf.Tensor2D, labels);
        accuracy = out.accuracy.dataSync()[0];
        return out.loss;
      })(x);
      return { loss: value.dataSync()[0], grad: Array.from(grad.dataSync()), accuracy };
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(got.loss).toBeCloseTo(expected.loss, 5);
    expect(got.accuracy).toBeCloseTo(expected.accuracy, 6);
    expect(expected.accuracy).toBeGreaterThan(0);
    const worst = Math.max(...got.grad.map((g, i) => Math.abs(g - expected.grad[i])));
    expect(worst).toBeLessThan(1e-6);
    // Ignored rows get no gradient.
    expect(got.grad.slice(3 * classes, 4 * classes).every((g) => g === 0)).toBe(true);
  });

  it('wasm (exponentials through XNNPACK sigmoid) matches the cpu kernel (Math.exp) within 1e-6 over a wide logit range', async () => {
    const wide = Float32Array.from({ length: 64 * 500 }, (_, i) => (i % 97 === 0 ? -200 : rng.normal() * 25));
    const wideLabels = Int32Array.from({ length: 64 }, (_, i) => (i * 37) % 500);
    const run = async (backend: 'cpu' | 'wasm') => {
      await initBackend({ backend, log: false });
      return tf.tidy(() => {
        const { value, grad } = tf.valueAndGrad((t: tf.Tensor) => softmaxCrossEntropy(t as tf.Tensor2D, wideLabels).loss)(tf.tensor2d(wide, [64, 500]));
        return { loss: value.dataSync()[0], grad: grad.dataSync() };
      });
    };
    const cpu = await run('cpu');
    const wasm = await run('wasm');
    expect(Math.abs(wasm.loss - cpu.loss) / cpu.loss).toBeLessThan(1e-6);
    expect(Math.max(...wasm.grad.map((g, i) => Math.abs(g - cpu.grad[i])))).toBeLessThan(1e-6);
  });

  it('gives a zero loss (and gradient) when every label is ignored', async () => {
    await initBackend({ backend: 'wasm', log: false });
    const { loss, grad } = tf.tidy(() => {
      const { value, grad: g } = tf.valueAndGrad((t: tf.Tensor) => softmaxCrossEntropy(t as tf.Tensor2D, new Int32Array(rows).fill(-100)).loss)(tf.tensor2d(logits, [rows, classes]));
      return { loss: value.dataSync()[0], grad: Array.from(g.dataSync()) };
    });
    expect(loss).toBe(0);
    expect(grad.every((g) => g === 0)).toBe(true);
  });

  it.each(['wasm', 'cpu'] as const)('rejects a label id ≥ classes on %s instead of ignoring its row', async (backend) => {
    await initBackend({ backend, log: false });
    const bad = Int32Array.from([0, 1, 4]);
    expect(() => tf.tidy(() => softmaxCrossEntropy(tf.zeros([3, 4]) as tf.Tensor2D, bad).loss)).toThrow(PretrainError);
    expect(() => tf.tidy(() => softmaxCrossEntropy(tf.zeros([3, 4]) as tf.Tensor2D, bad).loss)).toThrow('label id 4 (row 2) is outside the 4 classes');
  });

  it('rejects a label count that does not match the rows', () => {
    expect(() => tf.tidy(() => softmaxCrossEntropy(tf.zeros([3, 4]) as tf.Tensor2D, new Int32Array(2)).loss)).toThrow('3 rows of logits but 2 labels');
  });

  it('with ignoreAbove, labels ≥ classes are ignored like -100 (question answering)', async () => {
    await initBackend({ backend: 'wasm', log: false });
    const x = Float32Array.from({ length: 3 * 4 }, (_, i) => Math.sin(i));
    const ignored = tf.tidy(() => softmaxCrossEntropy(tf.tensor2d(x, [3, 4]), Int32Array.from([1, 9, 2]), { ignoreAbove: true }).loss.dataSync()[0]);
    const dropped = tf.tidy(() => softmaxCrossEntropy(tf.tensor2d(x, [3, 4]), Int32Array.from([1, -100, 2])).loss.dataSync()[0]);
    expect(ignored).toBe(dropped);
  });

  it('a caller names itself and words the out-of-range error (a head names its numLabels option)', () => {
    const describe = (label: number, row: number, classes: number) => `label ${label} at ${row} exceeds ${classes}: raise head.options.numLabels`;
    expect(() => tf.tidy(() => softmaxCrossEntropy(tf.zeros([2, 3]) as tf.Tensor2D, Int32Array.from([3, 0]), { describeOutOfRange: describe }).loss)).toThrow('label 3 at 0 exceeds 3: raise head.options.numLabels');
    expect(() => tf.tidy(() => softmaxCrossEntropy(tf.zeros([2, 3]) as tf.Tensor2D, new Int32Array(1), { caller: 'nsp' }).loss)).toThrow('nsp: 2 rows of logits but 1 labels');
    expect(() => assertLabelsInRange([0, 5], 5)).toThrow(PretrainError);
    expect(() => assertLabelsInRange([0, 4, -100], 5)).not.toThrow();
  });
});
