// A minimal training step for tests: the weighted objective losses, their gradients, Adam.
import * as tf from '@tensorflow/tfjs-core';
import { batchToTensors, disposeBatchTensors } from '../batch';
import type { BackbonePlugin, Batch, ObjectivePlugin } from '../contract';

export function trainStep(backbone: BackbonePlugin, objectives: ObjectivePlugin[], batch: Batch, optimizer: tf.Optimizer): number {
  const variables = [...backbone.variables().values(), ...objectives.flatMap((o) => [...o.variables().values()])];
  const tensors = batchToTensors(batch);
  try {
    return tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        const output = backbone.forward({ inputIds: tensors.inputIds, attentionMask: tensors.attentionMask, tokenTypeIds: tensors.tokenTypeIds }, { training: true });
        return objectives.map((o) => o.loss(output, tensors, { training: true }).loss).reduce((a, b) => tf.add(a, b)) as tf.Scalar;
      }, variables);
      optimizer.applyGradients(grads);
      return value.dataSync()[0];
    });
  } finally {
    disposeBatchTensors(tensors);
  }
}
