// Load order matters: the CommonJS tfjs-core creates the global engine first, then the bundled
// gradient registrations (see tools/scripts/bundle-tf-gradients.js) attach to it.
import * as tf from '@tensorflow/tfjs-core';
require('./generated/tf-gradients');

/**
 * tfjs-core's BatchMatMul gradient ignores broadcasting: for x[b, s, h] · w[h, o] it returns a
 * [b, h, o] gradient for w and the tape rejects it. This one sums broadcast batch dims away and
 * computes the common "dense layer" case (batched input, 2-D weight) as one 2-D product.
 */
function reduceToShape(gradient: tf.Tensor, shape: number[]): tf.Tensor {
  if (gradient.shape.length === shape.length && gradient.shape.every((d, i) => d === shape[i])) return gradient;
  const axes = tf.backend_util.getReductionAxes(shape, gradient.shape);
  return tf.reshape(axes.length ? tf.sum(gradient, axes) : gradient, shape);
}

function flattenRows(x: tf.Tensor): tf.Tensor2D {
  return tf.reshape(x, [-1, x.shape[x.shape.length - 1]]);
}

tf.registerGradient({
  kernelName: tf.BatchMatMul,
  inputsToSave: ['a', 'b'],
  gradFunc: (dy, saved, attrs) => {
    const [a, b] = saved;
    const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
    const g = dy as tf.Tensor;
    const denseWeight = b.shape.length === 2 && a.shape.length > 2 && !transposeA;
    const gradA = (): tf.Tensor => {
      const grad = transposeA ? (transposeB ? tf.matMul(b, g, true, true) : tf.matMul(b, g, false, true)) : transposeB ? tf.matMul(g, b) : tf.matMul(g, b, false, true);
      return reduceToShape(grad, a.shape);
    };
    const gradB = (): tf.Tensor => {
      if (denseWeight) return transposeB ? tf.matMul(flattenRows(g), flattenRows(a), true, false) : tf.matMul(flattenRows(a), flattenRows(g), true, false);
      const grad = transposeA ? (transposeB ? tf.matMul(g, a, true, true) : tf.matMul(a, g)) : transposeB ? tf.matMul(g, a, true, false) : tf.matMul(a, g, true, false);
      return reduceToShape(grad, b.shape);
    };
    return { a: gradA, b: gradB };
  },
});
