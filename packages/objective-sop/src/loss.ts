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
