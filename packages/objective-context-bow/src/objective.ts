import * as tf from '@tensorflow/tfjs-core';
import {
  activationFunction,
  addTiedLmHead,
  maskedMean,
  assertBackboneAttention,
  objectivePath,
  ParameterSet,
  ParameterSetModule,
  PretrainError,
  tiedLmHeadLogitsOf,
  type AttentionKind,
  type BackboneOutput,
  type BackbonePlugin,
  type BatchTensors,
  type ExampleBuilder,
  type LossOutput,
  type ObjectiveContext,
  type ObjectivePlugin,
} from '@pretrain/core';
import { ContextWindowBuilder } from './builder';
import { contextBowOptions, type ContextBowOptions } from './options';

/** The head's own tensors; its decoder is tied to the word embeddings, as MLM's is. No HF class has this head. */
export const CONTEXT_BOW_PARAMETER_NAMES = {
  denseWeight: 'context_bow.transform.dense.weight',
  denseBias: 'context_bow.transform.dense.bias',
  layerNormWeight: 'context_bow.transform.LayerNorm.weight',
  layerNormBias: 'context_bow.transform.LayerNorm.bias',
  bias: 'context_bow.bias',
} as const;

/**
 * Context bag-of-words: the mean of a window's last hidden states (what a mean-pooling classifier reads)
 * predicts the words around the window in the same document, through a transform and a decoder tied to
 * the word embeddings (cross-entropy against the drawn words' distribution).
 *
 * Why: masked-LM and replaced-token detection reward the slot a word fills, so antonyms that fill the same
 * slots ("good" / "bad") end up together. Which words share a document is decided by what the document is
 * about and how it judges it (paragraph vectors, Le & Mikolov 2014), which a sentence classifier needs.
 */
export class ContextBagOfWords extends ParameterSetModule implements ObjectivePlugin {
  static readonly requiresAttention: AttentionKind = 'bidirectional';
  static readonly buildsExamples = true;
  readonly name = 'context-bow';
  readonly requiresAttention = ContextBagOfWords.requiresAttention;
  readonly exampleBuilder: ExampleBuilder;
  private backbone?: BackbonePlugin;

  constructor(readonly options: ContextBowOptions = contextBowOptions()) {
    super(new ParameterSet(['context_bow.']));
    this.exampleBuilder = new ContextWindowBuilder(options);
  }

  init({ backbone, rng }: ObjectiveContext): void {
    assertBackboneAttention(this, backbone);
    activationFunction(backbone.info.hiddenAct);
    this.backbone = backbone;
    this.parameters.dispose();
    addTiedLmHead(this.parameters, CONTEXT_BOW_PARAMETER_NAMES, backbone.info, rng);
  }

  loss(output: BackboneOutput, batch: BatchTensors): LossOutput {
    const backbone = this.backbone;
    if (!backbone) throw new PretrainError('context-bow: loss before init()', { path: objectivePath(this.name) });
    const { size, seqLen, fields } = batch.host;
    const field = fields[this.options.targetField];
    if (!field) throw new PretrainError(`context-bow: the batch has no "${this.options.targetField}" field (context-bow must build the examples)`, { path: objectivePath(this.name) });
    const vocabSize = backbone.info.vocabSize;
    const { distribution, rows } = targetDistribution(field, size, seqLen, vocabSize);
    const hidden = output.sequenceOutput.shape[2];
    const states = this.options.pool === 'embeddings' ? (tf.gather(backbone.inputEmbeddings(), batch.inputIds) as tf.Tensor3D) : output.sequenceOutput;
    const pooled = maskedMean(states, batch.attentionMask);
    const positions = Int32Array.from({ length: size }, (_, i) => i);
    const logits = tiedLmHeadLogitsOf(this.parameters, CONTEXT_BOW_PARAMETER_NAMES, backbone, tf.reshape(pooled, [size, 1, hidden]) as tf.Tensor3D, positions);
    const crossEntropy = tf.neg(tf.sum(tf.mul(tf.tensor2d(distribution, [size, vocabSize]), tf.logSoftmax(logits))));
    return { loss: tf.div(crossEntropy, Math.max(rows, 1)) as tf.Scalar, metrics: {} };
  }
}

/** Each row's drawn context words as a distribution over the vocabulary, and how many rows have any. */
export function targetDistribution(field: Int32Array | Float32Array, size: number, seqLen: number, vocabSize: number): { distribution: Float32Array; rows: number } {
  const distribution = new Float32Array(size * vocabSize);
  let rows = 0;
  for (let row = 0; row < size; row++) {
    let count = 0;
    for (let t = row * seqLen; t < (row + 1) * seqLen; t++) if (field[t] >= 0) count++;
    if (count === 0) continue;
    rows++;
    for (let t = row * seqLen; t < (row + 1) * seqLen; t++) {
      const id = field[t];
      if (id < 0) continue;
      if (!Number.isInteger(id) || id >= vocabSize) throw new PretrainError(`context-bow: target id ${id} in row ${row} is outside the vocabulary (${vocabSize} tokens)`, { path: 'objectives.context-bow' });
      distribution[row * vocabSize + id] += 1 / count;
    }
  }
  return { distribution, rows };
}
