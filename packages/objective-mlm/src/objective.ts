import * as tf from '@tensorflow/tfjs-core';
import type {
  AttentionKind,
  BackboneInfo,
  BackboneOutput,
  BackbonePlugin,
  Batch,
  BatchTensors,
  ExampleBuilder,
  LossOutput,
  ObjectiveArchitecture,
  ObjectiveContext,
  ObjectivePlugin,
  Rng,
} from '@pretrain/core';
import { activationFunction, addTiedLmHead, assertBackboneAttention, FullSentenceBuilder, objectivePath, ParameterSet, ParameterSetModule, PretrainError, softmaxCrossEntropy, tiedLmHeadLogitsOf } from '@pretrain/core';
import { IGNORE_INDEX, maskBatch, type MaskingVocabulary } from './masking';
import { mlmOptions, type MlmOptions } from './options';

/** HF BertForPreTraining / BertForMaskedLM names of the prediction head. */
export const MLM_PARAMETER_NAMES = {
  denseWeight: 'cls.predictions.transform.dense.weight',
  denseBias: 'cls.predictions.transform.dense.bias',
  layerNormWeight: 'cls.predictions.transform.LayerNorm.weight',
  layerNormBias: 'cls.predictions.transform.LayerNorm.bias',
  bias: 'cls.predictions.bias',
} as const;

/** HF's tied copies: the decoder weight is the word embeddings, the decoder bias is cls.predictions.bias. */
export const MLM_DECODER_NAMES = { weight: 'cls.predictions.decoder.weight', bias: 'cls.predictions.decoder.bias' } as const;

/**
 * Masked language modelling (BERT). transformBatch corrupts tokens and writes labels; the head
 * (dense → activation → LayerNorm → decoder tied to the input embeddings + bias) runs only at
 * the selected positions.
 */
export class MaskedLanguageModeling extends ParameterSetModule implements ObjectivePlugin {
  static readonly requiresAttention: AttentionKind = 'bidirectional';
  /** Builds examples only when asked to (with NSP, NSP builds them). */
  static readonly buildsExamples = (options: MlmOptions): boolean => options.buildExamples;
  readonly name = 'mlm';
  readonly requiresAttention = MaskedLanguageModeling.requiresAttention;
  readonly exampleBuilder?: ExampleBuilder;
  /** HF ties the decoder weight to the word embeddings and the decoder bias to cls.predictions.bias (neither is stored). */
  readonly hfHead = { tiedNames: [MLM_DECODER_NAMES.weight, MLM_DECODER_NAMES.bias] };
  private backbone?: BackbonePlugin;
  private vocabulary?: MaskingVocabulary;

  constructor(readonly options: MlmOptions = mlmOptions()) {
    super(
      new ParameterSet(
        ['cls.predictions.'],
        // HF ties decoder.bias to cls.predictions.bias and decoder.weight to the word embeddings.
        { [MLM_DECODER_NAMES.bias]: MLM_PARAMETER_NAMES.bias },
        [MLM_DECODER_NAMES.weight],
      ),
    );
    if (MaskedLanguageModeling.buildsExamples(options)) this.exampleBuilder = new FullSentenceBuilder({ separateDocuments: options.separateDocuments });
  }

  init(context: ObjectiveContext): void {
    const { backbone, tokenizer, rng } = context;
    assertBackboneAttention(this, backbone);
    const special = tokenizer.specialTokenIds();
    if (special.mask === undefined) throw new PretrainError('mlm: the tokenizer has no mask token ([MASK] / <mask>)', { path: 'tokenizer' });
    activationFunction(backbone.info.hiddenAct); // an unsupported activation fails here, not in the first step
    this.backbone = backbone;
    this.vocabulary = {
      maskId: special.mask,
      vocabSize: backbone.info.vocabSize,
      specialIds: new Set(Object.values(special).filter((id): id is number => id !== undefined)),
      isContinuation: (id) => tokenizer.isContinuation(id),
    };
    this.parameters.dispose();
    addTiedLmHead(this.parameters, MLM_PARAMETER_NAMES, backbone.info, rng);
  }

  transformBatch(batch: Batch, rng: Rng): Batch {
    if (!this.vocabulary) throw new PretrainError('mlm: transformBatch before init()', { path: objectivePath('mlm') });
    const staticSeed = this.options.masking === 'static' ? this.options.staticSeed : undefined;
    return maskBatch(batch, rng, this.vocabulary, { ...this.options, staticSeed });
  }

  /** Flat (row * seqLen + col) indices and labels of the positions to predict. */
  targets(batch: Batch): { positions: Int32Array; labels: Int32Array } {
    const labels = batch.fields[this.options.labelField];
    if (!labels) throw new PretrainError(`mlm: the batch has no "${this.options.labelField}" field (transformBatch did not run, or labels were not collated)`, { path: objectivePath('mlm', 'labelField') });
    let positions = batch.fields[this.options.positionsField] as Int32Array | undefined;
    if (!positions) {
      const found: number[] = [];
      labels.forEach((label, i) => label !== IGNORE_INDEX && found.push(i));
      positions = Int32Array.from(found);
    }
    return { positions, labels: Int32Array.from(positions, (i) => labels[i]) };
  }

  /** Vocabulary logits [positions, vocab] at flat positions of a [batch, seq, hidden] output. */
  logitsAt(sequenceOutput: tf.Tensor3D, positions: Int32Array): tf.Tensor2D {
    return tiedLmHeadLogitsOf(this.parameters, MLM_PARAMETER_NAMES, this.requireBackbone(), sequenceOutput, positions);
  }

  loss(output: BackboneOutput, batch: BatchTensors): LossOutput {
    const { positions, labels } = this.targets(batch.host);
    if (positions.length === 0) {
      // Nothing selected (a batch of very short sequences): a zero loss that still reaches the head's
      // parameters, so a gradient tape over them finds a (zero) gradient instead of failing.
      const zero = tf.mul(0, tf.sum(this.parameters.get(MLM_PARAMETER_NAMES.bias))) as tf.Scalar;
      return { loss: zero, metrics: { maskedAccuracy: tf.scalar(0) } };
    }
    // Core's fused kernel: one pass forward, one backward over the vocabulary-sized logits.
    const { loss, accuracy } = softmaxCrossEntropy(this.logitsAt(output.sequenceOutput, positions), labels);
    return { loss, metrics: { maskedAccuracy: accuracy } };
  }

  /**
   * HF BertForMaskedLM alone (its BertModel is built without the pooler, which MLM never uses, so the
   * pooler is not saved), BertForPreTraining together with NSP. The head's names are BERT's only.
   */
  hfArchitecture(info: BackboneInfo): ObjectiveArchitecture {
    if (info.modelType !== 'bert') return {};
    return { alone: { architecture: 'BertForMaskedLM', withoutBackbone: ['pooler.'] }, jointly: { architecture: 'BertForPreTraining', with: ['nsp'] } };
  }

  private requireBackbone(): BackbonePlugin {
    if (!this.backbone) throw new PretrainError('mlm: used before init()', { path: objectivePath('mlm') });
    return this.backbone;
  }
}
