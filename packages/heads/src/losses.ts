import * as tf from '@tensorflow/tfjs-core';
import { type BatchTensors, headPath, PretrainError, softmaxCrossEntropy } from '@pretrain/core';

/**
 * Mean cross-entropy over rows of `logits` [n, classes] whose label is a valid class, like
 * torch's CrossEntropyLoss(ignore_index): core's softmaxCrossEntropy (fused kernels) with the heads'
 * error message. Negative labels (-100) are ignored; a label ≥ classes is an error (a silently ignored
 * row hides a label the head has no output for), unless `ignoreAbove` is set (question answering: HF
 * ignores answer positions clamped past the sequence).
 */
export function crossEntropy(logits: tf.Tensor2D, labels: Int32Array, options: { ignoreAbove?: boolean } = {}): tf.Scalar {
  return tf.tidy(() => softmaxCrossEntropy(logits, labels, { ignoreAbove: options.ignoreAbove, describeOutOfRange, caller: 'cross-entropy', path: headPath('numLabels') }).loss);
}

function describeOutOfRange(label: number, row: number, classes: number): string {
  return `label id ${label} (row ${row} of the batch) is outside the head's ${classes} labels (ids 0..${classes - 1}): the data has more labels than head.options.numLabels`;
}

/** Mean squared error between predictions [n] and float targets. */
export function meanSquaredError(predictions: tf.Tensor1D, targets: Float32Array): tf.Scalar {
  if (targets.length !== predictions.shape[0]) throw new PretrainError(`MSE: ${targets.length} targets for ${predictions.shape[0]} predictions`, { path: headPath() });
  return tf.tidy(() => tf.mean(tf.square(tf.sub(predictions, tf.tensor1d(targets, 'float32')))));
}

/** A named label field from the batch, with an error that names what is missing. */
export function labelField(batch: BatchTensors, name: string, head: string, option = 'labelField'): Int32Array | Float32Array {
  const field = batch.host.fields[name];
  if (!field) {
    const present = Object.keys(batch.host.fields);
    throw new PretrainError(`${head} head: the batch has no "${name}" labels (fields present: ${present.length ? present.join(', ') : 'none'}); set the head's ${option} option or the examples' labels`, {
      path: headPath(option),
    });
  }
  return field;
}
