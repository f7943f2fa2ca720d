import * as tf from '@tensorflow/tfjs-core';
import { assertBackboneAttention, maskedMean, normalTensor, objectivePath, ParameterSet, ParameterSetModule, PretrainError, softmaxCrossEntropy } from '@pretrain/core';
import type { AttentionKind, BackboneOutput, BatchTensors, ExampleBuilder, LossOutput, ObjectiveContext, ObjectivePlugin } from '@pretrain/core';
import { StatedScoreBuilder } from './builder';
import { statedScoreOptions, type StatedScoreOptions } from './options';

/** The classifier's tensors. No HF class has this head: a checkpoint is the bare backbone plus these. */
export const STATED_SCORE_PARAMETER_NAMES = { weight: 'stated_score.classifier.weight', bias: 'stated_score.classifier.bias' } as const;

/**
 * Stated score: reviews often say what they score the film ("7/10"); with those words removed, the mean of a
 * window's last hidden states (what a mean-pooling classifier reads) predicts whether the score was low or high.
 * Self-supervised from raw text, as distant supervision from emoticons (Go et al. 2009) or emoji (DeepMoji,
 * Felbo et al. 2017): no one labelled the documents; the text labels itself.
 */
export class StatedScore extends ParameterSetModule implements ObjectivePlugin {
  static readonly requiresAttention: AttentionKind = 'bidirectional';
  static readonly buildsExamples = true;
  readonly name = 'stated-score';
  readonly requiresAttention = StatedScore.requiresAttention;
  readonly exampleBuilder: ExampleBuilder;

  constructor(readonly options: StatedScoreOptions = statedScoreOptions()) {
    super(new ParameterSet(['stated_score.']));
    this.exampleBuilder = new StatedScoreBuilder(options);
  }

  init({ backbone, rng }: ObjectiveContext): void {
    assertBackboneAttention(this, backbone);
    this.parameters.dispose();
    const { hiddenSize, initializerRange } = backbone.info;
    this.parameters.add(STATED_SCORE_PARAMETER_NAMES.weight, normalTensor([2, hiddenSize], initializerRange, rng));
    this.parameters.add(STATED_SCORE_PARAMETER_NAMES.bias, tf.zeros([2]));
  }

  loss(output: BackboneOutput, batch: BatchTensors): LossOutput {
    const labels = batch.host.fields[this.options.labelField];
    if (!labels) throw new PretrainError(`stated-score: the batch has no "${this.options.labelField}" field (stated-score must build the examples)`, { path: objectivePath(this.name) });
    const pooled = maskedMean(output.sequenceOutput, batch.attentionMask);
    const logits = tf.add(tf.matMul(pooled, this.parameters.get(STATED_SCORE_PARAMETER_NAMES.weight) as tf.Tensor2D, false, true), this.parameters.get(STATED_SCORE_PARAMETER_NAMES.bias)) as tf.Tensor2D;
    const { loss, accuracy } = softmaxCrossEntropy(logits, Int32Array.from(labels));
    return { loss, metrics: { accuracy } };
  }
}
