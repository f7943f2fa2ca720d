import * as tf from '@tensorflow/tfjs-core';
import { softmaxCrossEntropy } from '@pretrain/core';

/** HF activation names (ACT2FN) the BERT-family heads reuse from the backbone config. */
export function activation(name: string): (x: tf.Tensor) => tf.Tensor {
  switch (name) {
    case 'gelu':
      // Exact erf form, as torch.nn.functional.gelu.
      return (x) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
    case 'gelu_fast':
      return (x) => {
        const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
        return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(inner)));
      };
    case 'relu':
      return (x) => tf.relu(x);
    case 'tanh':
      return (x) => tf.tanh(x);
    case 'silu':
    case 'swish':
      return (x) => tf.mul(x, tf.sigmoid(x));
    default:
      throw new Error(`unsupported hidden activation "${name}" (supported: gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, relu, tanh, silu)`);
  }
}

/** x·W + b with W stored [in, out]. */
export function dense(x: tf.Tensor2D, weight: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  return tf.add(tf.matMul(x, weight), bias);
}

export function layerNorm(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor2D {
  const { mean, variance } = tf.moments(x, -1, true);
  const normalized = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps)));
  return tf.add(tf.mul(normalized, gamma), beta);
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

/**
 * Mean cross-entropy of [n, classes] logits against n int labels, plus accuracy: core's fused
 * kernel (one pass forward, one backward over the vocabulary-sized logits instead of ~10 TF.js ops each way).
 */
export function crossEntropyWithAccuracy(logits: tf.Tensor2D, labels: Int32Array): { loss: tf.Scalar; accuracy: tf.Scalar } {
  return softmaxCrossEntropy(logits, labels);
}
