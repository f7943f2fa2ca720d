import * as tf from '@tensorflow/tfjs-core';
import { type BatchTensors, PretrainError } from '@pretrain/core';

/**
 * Mean cross-entropy over rows of `logits` [n, classes] whose label is a valid class, like
 * torch's CrossEntropyLoss(ignore_index). Negative labels (-100) are ignored; a label ≥ classes is an
 * error (a silently ignored row hides a label the head has no output for), unless `ignoreAbove` is set
 * (question answering: HF ignores answer positions clamped past the sequence). The picked
 * log-probabilities use an int32 one-hot (no gather gradient needed; float32 oneHot is broken on wasm).
 */
export function crossEntropy(logits: tf.Tensor2D, labels: Int32Array, options: { ignoreAbove?: boolean } = {}): tf.Scalar {
  const classes = logits.shape[1];
  if (labels.length !== logits.shape[0]) throw new Error(`cross-entropy: ${labels.length} labels for ${logits.shape[0]} rows of logits`);
  if (!options.ignoreAbove) assertLabelsInRange(labels, classes);
  let counted = 0;
  for (const label of labels) if (label >= 0 && label < classes) counted++;
  return tf.tidy(() => {
    // x − logsumexp(x) rather than tf.logSoftmax, whose wasm kernel leaks a buffer per call.
    const logProbs = tf.sub(logits, tf.logSumExp(logits, -1, true));
    const oneHot = tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), classes), 'float32');
    const picked = tf.sum(tf.mul(logProbs, oneHot));
    // torch returns NaN when every label is ignored; a zero loss keeps accumulation finite instead.
    return tf.div(tf.neg(picked), tf.scalar(Math.max(counted, 1)));
  });
}

function assertLabelsInRange(labels: Int32Array, classes: number): void {
  const row = labels.findIndex((label) => label >= classes);
  if (row < 0) return;
  throw new PretrainError(
    `label id ${labels[row]} (row ${row} of the batch) is outside the head's ${classes} labels (ids 0..${classes - 1}): the data has more labels than head.options.numLabels`,
  );
}

/** Mean squared error between predictions [n] and float targets. */
export function meanSquaredError(predictions: tf.Tensor1D, targets: Float32Array): tf.Scalar {
  if (targets.length !== predictions.shape[0]) throw new Error(`MSE: ${targets.length} targets for ${predictions.shape[0]} predictions`);
  return tf.tidy(() => tf.mean(tf.square(tf.sub(predictions, tf.tensor1d(targets, 'float32')))));
}

/** A named label field from the batch, with an error that names what is missing. */
export function labelField(batch: BatchTensors, name: string, head: string): Int32Array | Float32Array {
  const field = batch.host.fields[name];
  if (!field) {
    const present = Object.keys(batch.host.fields);
    throw new Error(`${head} head: the batch has no "${name}" labels (fields present: ${present.length ? present.join(', ') : 'none'}); set the head's labelField option or the examples' labels`);
  }
  return field;
}
