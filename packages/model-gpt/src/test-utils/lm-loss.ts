/**
 * Test double for GPT2LMHeadModel's loss: logits from the LM head tied to wte, cross-entropy of
 * position t predicting token t+1 (HF shifts the labels inside the model). The real CLM head lives
 * in @pretrain/objective-clm; the parity tests must not depend on it.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Gpt2Model } from '../model';
import { crossEntropy } from '@pretrain/core/testing';

export function lmLogits(model: Gpt2Model, sequenceOutput: tf.Tensor3D): tf.Tensor3D {
  const [batch, seq, width] = sequenceOutput.shape;
  const logits = model.lmLogits(tf.reshape(sequenceOutput, [batch * seq, width]) as tf.Tensor2D);
  return tf.reshape(logits, [batch, seq, model.config.vocab_size]) as tf.Tensor3D;
}

export function shiftedLmLoss(logits: tf.Tensor3D, labels: number[][]): tf.Scalar {
  const [batch, seq, vocab] = logits.shape;
  const predicting = tf.reshape(tf.slice(logits, [0, 0, 0], [batch, seq - 1, vocab]), [batch * (seq - 1), vocab]) as tf.Tensor2D;
  return crossEntropy(predicting, labels.flatMap((row) => row.slice(1)));
}
