import * as tf from '@tensorflow/tfjs-core';
import type { BackboneInfo, BackbonePlugin } from './contract';
import { activationFunction, tiedLmHeadLogits, type TiedLmHeadParameters } from './nn';
import { normalTensor, type ParameterSet } from './parameters';
import type { Rng } from './rng';

/** The HF names a BERT-style LM head's own parameters are stored under (its decoder weight is the tied word embeddings). */
export type TiedLmHeadNames = { readonly [K in keyof TiedLmHeadParameters]: string };

/** Adds the head's parameters sized to the backbone, initialised as HF does: normal dense weight, zero biases, unit LayerNorm. */
export function addTiedLmHead(parameters: ParameterSet, names: TiedLmHeadNames, info: BackboneInfo, rng: Rng): void {
  const { hiddenSize: hidden, initializerRange: std, vocabSize } = info;
  parameters.add(names.denseWeight, normalTensor([hidden, hidden], std, rng), 'linear');
  parameters.add(names.denseBias, tf.zeros([hidden]));
  parameters.add(names.layerNormWeight, tf.ones([hidden]));
  parameters.add(names.layerNormBias, tf.zeros([hidden]));
  parameters.add(names.bias, tf.zeros([vocabSize]));
}

/** tiedLmHeadLogits of the head stored in `parameters` under `names`, with the backbone's embeddings, activation and LayerNorm epsilon. */
export function tiedLmHeadLogitsOf(parameters: ParameterSet, names: TiedLmHeadNames, backbone: BackbonePlugin, sequenceOutput: tf.Tensor3D, positions: Int32Array): tf.Tensor2D {
  const head: TiedLmHeadParameters = {
    denseWeight: parameters.get(names.denseWeight) as tf.Tensor2D,
    denseBias: parameters.get(names.denseBias) as tf.Tensor1D,
    layerNormWeight: parameters.get(names.layerNormWeight) as tf.Tensor1D,
    layerNormBias: parameters.get(names.layerNormBias) as tf.Tensor1D,
    bias: parameters.get(names.bias) as tf.Tensor1D,
  };
  const { hiddenAct, layerNormEps } = backbone.info;
  return tiedLmHeadLogits(sequenceOutput, positions, head, backbone.inputEmbeddings() as tf.Tensor2D, activationFunction(hiddenAct), layerNormEps);
}
