import * as tf from '@tensorflow/tfjs-core';

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
