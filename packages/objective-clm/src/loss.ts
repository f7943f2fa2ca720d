import * as tf from '@tensorflow/tfjs-core';
import { softmaxCrossEntropy } from '@pretrain/core';

/**
 * Mean cross-entropy of [n, classes] logits against n int labels, plus accuracy: core's fused
 * kernel (one pass forward, one backward over the vocabulary-sized logits instead of ~10 TF.js ops each way).
 */
export function crossEntropyWithAccuracy(logits: tf.Tensor2D, labels: Int32Array): { loss: tf.Scalar; accuracy: tf.Scalar } {
  return softmaxCrossEntropy(logits, labels);
}

/**
 * Rows of a [rows, width] matrix at host-known indices. The gradient scatters back with a host-built
 * selection matrix where the backend lacks UnsortedSegmentSum (tf.gather's gradient kernel).
 */
export function gatherRows(x: tf.Tensor2D, indices: Int32Array): tf.Tensor2D {
  const index = tf.tensor1d(indices, 'int32');
  if (tf.getKernel('UnsortedSegmentSum', tf.getBackend())) return tf.gather(x, index) as tf.Tensor2D;
  const rows = x.shape[0];
  const gather = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const value = tf.gather(args[0] as tf.Tensor, index);
    return {
      value,
      gradFunc: (dy: tf.Tensor) => {
        const scatter = new Float32Array(rows * indices.length);
        indices.forEach((row, i) => (scatter[row * indices.length + i] = 1));
        return tf.matMul(tf.tensor2d(scatter, [rows, indices.length]), dy as tf.Tensor2D);
      },
    };
  });
  return gather(x) as tf.Tensor2D;
}
