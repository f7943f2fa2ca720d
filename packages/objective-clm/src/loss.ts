import * as tf from '@tensorflow/tfjs-core';

/** log-softmax over the last axis from primitive ops (tf.logSoftmax trips tfjs's kernel leak check on wasm). */
export function logSoftmax(logits: tf.Tensor2D): tf.Tensor2D {
  const shifted = tf.sub(logits, tf.max(logits, -1, true));
  return tf.sub(shifted, tf.log(tf.sum(tf.exp(shifted), -1, true)));
}

/** Mean cross-entropy of [n, classes] logits against n int labels, plus accuracy. */
export function crossEntropyWithAccuracy(logits: tf.Tensor2D, labels: Int32Array): { loss: tf.Scalar; accuracy: tf.Scalar } {
  const labelTensor = tf.tensor1d(labels, 'int32');
  // One-hot in int32 then cast: float32 OneHot is unreliable on the wasm backend.
  const target = tf.cast(tf.oneHot(labelTensor, logits.shape[1]), 'float32');
  const loss = tf.neg(tf.mean(tf.sum(tf.mul(target, logSoftmax(logits)), -1))) as tf.Scalar;
  const accuracy = tf.mean(tf.cast(tf.equal(tf.argMax(logits, -1), labelTensor), 'float32')) as tf.Scalar;
  return { loss, accuracy };
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
