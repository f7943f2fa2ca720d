import * as tf from '@tensorflow/tfjs-core';
import type { AttentionKind, BackboneInfo, BackboneOutput, BackbonePlugin, Batch, BatchTensors, LossOutput, ObjectiveArchitecture, ObjectiveContext, ObjectivePlugin, Rng } from '@pretrain/core';
import { activate, addTiedLmHead, assertBackboneAttention, dense, FullSentenceBuilder, normalTensor, objectivePath, ParameterSet, ParameterSetModule, PretrainError, softmaxCrossEntropy, tiedLmHeadLogitsOf, Rng as SeededRng, type Activation, type TiedLmHeadNames } from '@pretrain/core';
import { ELECTRA_FIELDS, maskForGenerator, replaceSampled, sampleRows, type CorruptionVocabulary } from './corruption';
import { electraOptions, type ElectraOptions } from './options';

/** HF ElectraForPreTraining / ElectraForMaskedLM names of the two heads. */
export const ELECTRA_PARAMETER_NAMES = {
  generatorDenseWeight: 'generator_predictions.dense.weight',
  generatorDenseBias: 'generator_predictions.dense.bias',
  generatorLayerNormWeight: 'generator_predictions.LayerNorm.weight',
  generatorLayerNormBias: 'generator_predictions.LayerNorm.bias',
  generatorBias: 'generator_lm_head.bias',
  discriminatorDenseWeight: 'discriminator_predictions.dense.weight',
  discriminatorDenseBias: 'discriminator_predictions.dense.bias',
  discriminatorPredictionWeight: 'discriminator_predictions.dense_prediction.weight',
  discriminatorPredictionBias: 'discriminator_predictions.dense_prediction.bias',
} as const;

const N = ELECTRA_PARAMETER_NAMES;

/** The generator's head under its HF names, as core's tied LM head helpers take them. */
const GENERATOR_HEAD: TiedLmHeadNames = {
  denseWeight: N.generatorDenseWeight,
  denseBias: N.generatorDenseBias,
  layerNormWeight: N.generatorLayerNormWeight,
  layerNormBias: N.generatorLayerNormBias,
  bias: N.generatorBias,
};

/**
 * Replaced-token detection (ELECTRA, Clark et al. 2020) with the generator and the discriminator
 * sharing every backbone weight (the paper's "tie all weights" variant: no second model to build).
 * Each step: the masked batch goes through the backbone and the generator head (masked-LM loss);
 * tokens sampled from the generator replace the masked ones; the corrupted batch goes through the
 * backbone again and the discriminator head says, for every token, whether it was replaced. The
 * discriminator learns from every position, not only the masked 15%.
 */
export class ReplacedTokenDetection extends ParameterSetModule implements ObjectivePlugin {
  static readonly requiresAttention: AttentionKind = 'bidirectional';
  static readonly buildsExamples = true;
  readonly name = 'electra';
  readonly requiresAttention = ReplacedTokenDetection.requiresAttention;
  /** The generator's decoder is the word embeddings (HF ties `generator_lm_head.weight`): never written. */
  readonly hfHead = { tiedNames: ['generator_lm_head.weight'] };
  readonly exampleBuilder: FullSentenceBuilder;
  private backbone?: BackbonePlugin;
  private vocabulary?: CorruptionVocabulary;

  constructor(readonly options: ElectraOptions = electraOptions()) {
    // The generator's decoder weight is tied to the word embeddings (HF does not store it either).
    super(new ParameterSet(['generator_predictions.', 'generator_lm_head.', 'discriminator_predictions.'], {}, ['generator_lm_head.weight']));
    this.exampleBuilder = new FullSentenceBuilder({ separateDocuments: options.separateDocuments });
  }

  init({ backbone, tokenizer, rng }: ObjectiveContext): void {
    assertBackboneAttention(this, backbone);
    const special = tokenizer.specialTokenIds();
    if (special.mask === undefined) throw new PretrainError('electra: the tokenizer has no mask token ([MASK] / <mask>)', { path: objectivePath('electra') });
    this.backbone = backbone;
    this.vocabulary = { maskId: special.mask, specialIds: new Set(Object.values(special).filter((id): id is number => id !== undefined)) };
    const { hiddenSize: hidden, initializerRange: std } = backbone.info;
    const p = this.parameters;
    p.dispose();
    addTiedLmHead(p, GENERATOR_HEAD, backbone.info, rng);
    p.add(N.discriminatorDenseWeight, normalTensor([hidden, hidden], std, rng), 'linear');
    p.add(N.discriminatorDenseBias, tf.zeros([hidden]));
    p.add(N.discriminatorPredictionWeight, normalTensor([hidden, 1], std, rng), 'linear');
    p.add(N.discriminatorPredictionBias, tf.zeros([1]));
  }

  transformBatch(batch: Batch, rng: Rng): Batch {
    if (!this.vocabulary) throw new Error('electra: transformBatch before init()');
    return maskForGenerator(batch, rng, this.vocabulary, this.options.maskProbability);
  }

  loss(output: BackboneOutput, batch: BatchTensors, options: { training: boolean }): LossOutput {
    const backbone = this.requireBackbone();
    const host = batch.host;
    const positions = field(host, ELECTRA_FIELDS.positions);
    const originals = field(host, ELECTRA_FIELDS.originals);
    const [samplingSeed, dropoutSeed] = field(host, ELECTRA_FIELDS.seeds);

    const generatorLogits = this.generatorLogits(output.sequenceOutput, positions);
    const generator = softmaxCrossEntropy(generatorLogits, originals);
    const sampled = sampleRows(generatorLogits.dataSync() as Float32Array, positions.length, backbone.info.vocabSize, this.options.samplingTemperature, new SeededRng(samplingSeed));

    const { corrupted, replaced } = replaceSampled(host.inputIds, positions, originals, sampled);
    const inputIds = tf.tensor2d(corrupted, [host.size, host.seqLen], 'int32');
    const discriminatorOutput = backbone.forward({ inputIds, attentionMask: batch.attentionMask, tokenTypeIds: batch.tokenTypeIds }, { training: options.training, dropoutSeed });
    const discriminatorLogits = this.discriminatorLogits(discriminatorOutput.sequenceOutput);
    const { loss: discriminatorLoss, accuracy: discriminatorAccuracy } = maskedBinaryCrossEntropy(discriminatorLogits, replaced, batch.attentionMask);

    const loss = tf.add(tf.mul(this.options.generatorWeight, generator.loss), tf.mul(this.options.discriminatorWeight, discriminatorLoss)) as tf.Scalar;
    const replacedCount = replaced.reduce((sum, r) => sum + r, 0);
    return {
      loss,
      metrics: {
        generatorLoss: generator.loss,
        generatorAccuracy: generator.accuracy,
        discriminatorLoss,
        discriminatorAccuracy,
        replacedShare: tf.scalar(positions.length > 0 ? replacedCount / positions.length : 0),
      },
    };
  }

  /** The generator head's vocabulary logits [positions, vocab] at flat positions (decoder tied to the embeddings). */
  generatorLogits(sequenceOutput: tf.Tensor3D, positions: Int32Array): tf.Tensor2D {
    return tiedLmHeadLogitsOf(this.parameters, GENERATOR_HEAD, this.requireBackbone(), sequenceOutput, positions);
  }

  /** The discriminator head's per-token logit [batch * seq] (HF ElectraDiscriminatorPredictions). */
  discriminatorLogits(sequenceOutput: tf.Tensor3D): tf.Tensor1D {
    const [batch, seq, hidden] = sequenceOutput.shape;
    const p = this.parameters;
    const flat = tf.reshape(sequenceOutput, [batch * seq, hidden]) as tf.Tensor2D;
    const h = activate(dense(flat, p.get(N.discriminatorDenseWeight) as tf.Tensor2D, p.get(N.discriminatorDenseBias) as tf.Tensor1D), this.requireBackbone().info.hiddenAct as Activation);
    return tf.reshape(dense(h, p.get(N.discriminatorPredictionWeight) as tf.Tensor2D, p.get(N.discriminatorPredictionBias) as tf.Tensor1D), [-1]);
  }

  /**
   * The discriminator is a BERT backbone: the checkpoint is saved as HF BertModel (the ELECTRA heads'
   * tensors ride along under their HF ELECTRA names; transformers reports them as unused and loads the rest).
   */
  hfArchitecture(info: BackboneInfo): ObjectiveArchitecture {
    if (info.modelType !== 'bert') return {};
    return { alone: { architecture: 'BertModel' } };
  }

  private requireBackbone(): BackbonePlugin {
    if (!this.backbone) throw new Error('electra: used before init()');
    return this.backbone;
  }
}

function field(batch: Batch, name: string): Int32Array {
  const value = batch.fields[name];
  if (!value) throw new Error(`electra: the batch has no "${name}" field (transformBatch did not run)`);
  return value as Int32Array;
}

/** Mean sigmoid cross-entropy over the tokens the attention mask keeps, and the accuracy there. */
export function maskedBinaryCrossEntropy(logits: tf.Tensor1D, targets: Float32Array, attentionMask: tf.Tensor2D): { loss: tf.Scalar; accuracy: tf.Scalar } {
  const y = tf.tensor1d(targets);
  const mask = tf.cast(tf.reshape(attentionMask, [-1]), 'float32');
  const count = tf.maximum(tf.sum(mask), 1);
  // max(x, 0) − x·y + log(1 + e^−|x|): stable for large |x|.
  const perToken = tf.add(tf.sub(tf.relu(logits), tf.mul(logits, y)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
  const loss = tf.div(tf.sum(tf.mul(perToken, mask)), count) as tf.Scalar;
  const hits = tf.cast(tf.equal(tf.cast(tf.greater(logits, 0), 'float32'), y), 'float32');
  const accuracy = tf.div(tf.sum(tf.mul(hits, mask)), count) as tf.Scalar;
  return { loss, accuracy };
}
