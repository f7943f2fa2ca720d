/**
 * BERT (Devlin et al. 2019) as HF transformers' BertModel computes it, in TF.js: embeddings →
 * post-LN encoder layers → pooler. Parameters live in core's ParameterSet, keyed by HF names without
 * the `bert.` prefix; dense weights are stored as [in, out] and converted at stateDict/loadStateDict.
 */
import * as tf from '@tensorflow/tfjs-core';
import { activate, checkParameterMemory, dropout, hasPadding, layerIndexByName, normalValues, paddingBias, ParameterSet, ParameterSetModule, PretrainError, Rng, stripPrefix, type BackboneInfo, type BackboneInputs, type BackboneOutput, type BackbonePlugin, type ForwardOptions, type LoadReport } from '@pretrain/core';
import { parseBertConfig, type BertConfig } from './config';
import { loadBertPretrained, saveBertPretrained, type LoadOptions, type SaveOptions } from './checkpoint';

export const BERT_BASE_PREFIX = 'bert';

/** HF buffers that may appear in checkpoints but are not parameters (HF ignores them too). */
const IGNORED_CHECKPOINT_KEYS = [/^embeddings\.position_ids$/];

interface LayerNames {
  query: string;
  key: string;
  value: string;
  attentionOutput: string;
  attentionLayerNorm: string;
  intermediate: string;
  output: string;
  outputLayerNorm: string;
}

function layerNames(index: number): LayerNames {
  const p = `encoder.layer.${index}`;
  return {
    query: `${p}.attention.self.query`,
    key: `${p}.attention.self.key`,
    value: `${p}.attention.self.value`,
    attentionOutput: `${p}.attention.output.dense`,
    attentionLayerNorm: `${p}.attention.output.LayerNorm`,
    intermediate: `${p}.intermediate.dense`,
    output: `${p}.output.dense`,
    outputLayerNorm: `${p}.output.LayerNorm`,
  };
}

export type ParameterKind = 'dense' | 'bias' | 'embedding' | 'norm-weight' | 'norm-bias';

export interface ParameterSpec {
  name: string;
  /** Shape in HF layout. */
  hfShape: number[];
  kind: ParameterKind;
}

/** Every parameter BertModel has, in HF's state-dict order. */
export function bertParameterSpecs(config: BertConfig, addPoolingLayer = true): ParameterSpec[] {
  const h = config.hidden_size;
  const specs: ParameterSpec[] = [
    { name: 'embeddings.word_embeddings.weight', hfShape: [config.vocab_size, h], kind: 'embedding' },
    { name: 'embeddings.position_embeddings.weight', hfShape: [config.max_position_embeddings, h], kind: 'embedding' },
    { name: 'embeddings.token_type_embeddings.weight', hfShape: [config.type_vocab_size, h], kind: 'embedding' },
    { name: 'embeddings.LayerNorm.weight', hfShape: [h], kind: 'norm-weight' },
    { name: 'embeddings.LayerNorm.bias', hfShape: [h], kind: 'norm-bias' },
  ];
  const denseSpecs = (name: string, inSize: number, outSize: number): ParameterSpec[] => [
    { name: `${name}.weight`, hfShape: [outSize, inSize], kind: 'dense' },
    { name: `${name}.bias`, hfShape: [outSize], kind: 'bias' },
  ];
  const normSpecs = (name: string): ParameterSpec[] => [
    { name: `${name}.weight`, hfShape: [h], kind: 'norm-weight' },
    { name: `${name}.bias`, hfShape: [h], kind: 'norm-bias' },
  ];
  for (let i = 0; i < config.num_hidden_layers; i++) {
    const n = layerNames(i);
    specs.push(
      ...denseSpecs(n.query, h, h),
      ...denseSpecs(n.key, h, h),
      ...denseSpecs(n.value, h, h),
      ...denseSpecs(n.attentionOutput, h, h),
      ...normSpecs(n.attentionLayerNorm),
      ...denseSpecs(n.intermediate, h, config.intermediate_size),
      ...denseSpecs(n.output, config.intermediate_size, h),
      ...normSpecs(n.outputLayerNorm),
    );
  }
  if (addPoolingLayer) specs.push(...denseSpecs('pooler.dense', h, h));
  return specs;
}

export interface BertModelOptions {
  /** Seeds the random initialisation (HF's init: N(0, initializer_range), zero biases, unit LayerNorm). */
  seed?: number;
  /** HF's `add_pooling_layer` (false for token classification / QA models, whose checkpoints have no pooler). */
  addPoolingLayer?: boolean;
}

export class BertModel extends ParameterSetModule implements BackbonePlugin {
  readonly config: BertConfig;
  readonly info: BackboneInfo;
  private readonly headSize: number;
  readonly hasPooler: boolean;
  /** HF's LM classes save the word embeddings again as the MLM decoder weight (tied): never written, never unexpected. */
  readonly hfHead = { tiedNames: ['cls.predictions.decoder.weight'] } as const;
  /** Draws dropout seeds for forward calls that bring none (still reproducible from `seed`). */
  private readonly dropoutSeeds: Rng;
  private disposed = false;
  /** What fromPretrained found missing or unexpected in the checkpoint (HF logs the same). */
  loadReport?: LoadReport;

  /** Loads `config.json` + `model.safetensors` written by HF transformers or by savePretrained. */
  static fromPretrained(dir: string, options: LoadOptions = {}): BertModel {
    return loadBertPretrained(dir, options);
  }

  /** Writes an HF checkpoint; with `heads`, a BertForPreTraining / BertFor... checkpoint. */
  savePretrained(dir: string, options: SaveOptions = {}): void {
    saveBertPretrained(this, dir, options);
  }

  constructor(config: BertConfig | Record<string, unknown>, options: BertModelOptions = {}) {
    // `bert.` optional, legacy gamma/beta LayerNorm names renamed, HF buffers ignored.
    super(ParameterSet.forBackbone({ basePrefix: BERT_BASE_PREFIX, modelName: 'BERT', rename: renameLegacyKey, ignorePatterns: IGNORED_CHECKPOINT_KEYS }));
    this.config = parseBertConfig(config);
    const c = this.config;
    this.headSize = c.hidden_size / c.num_attention_heads;
    this.info = {
      modelType: 'bert',
      basePrefix: BERT_BASE_PREFIX,
      attention: 'bidirectional',
      vocabSize: c.vocab_size,
      hiddenSize: c.hidden_size,
      numLayers: c.num_hidden_layers,
      maxPositions: c.max_position_embeddings,
      hiddenAct: c.hidden_act,
      layerNormEps: c.layer_norm_eps,
      initializerRange: c.initializer_range,
      hiddenDropoutProb: c.hidden_dropout_prob,
      baseArchitecture: 'BertModel',
    };
    const rng = new Rng(options.seed ?? 0);
    this.dropoutSeeds = rng.fork();
    this.hasPooler = options.addPoolingLayer ?? true;
    const specs = bertParameterSpecs(c, this.hasPooler);
    checkParameterMemory('BERT', specs.map((spec) => ({ name: spec.name, shape: spec.hfShape })));
    for (const spec of specs) this.parameters.add(spec.name, this.initialValue(spec, rng), spec.kind === 'dense' ? 'linear' : 'plain');
  }

  private initialValue(spec: ParameterSpec, rng: Rng): tf.Tensor {
    const shape = internalShape(spec);
    const size = shape.reduce((a, b) => a * b, 1);
    if (spec.kind === 'bias' || spec.kind === 'norm-bias') return tf.zeros(shape);
    if (spec.kind === 'norm-weight') return tf.ones(shape);
    const values = normalValues(size, this.config.initializer_range, rng);
    if (spec.name === 'embeddings.word_embeddings.weight') {
      // HF zeroes the padding row (nn.Embedding padding_idx).
      const h = this.config.hidden_size;
      values.fill(0, this.config.pad_token_id * h, (this.config.pad_token_id + 1) * h);
    }
    return tf.tensor(values, shape);
  }

  private p<R extends tf.Rank>(name: string): tf.Variable<R> {
    return this.parameters.get(name) as tf.Variable<R>;
  }

  forward(inputs: BackboneInputs, options: ForwardOptions): BackboneOutput {
    if (this.disposed) throw new PretrainError('BertModel.forward: the model was disposed');
    const c = this.config;
    const [batch, seq] = inputs.inputIds.shape;
    if (seq > c.max_position_embeddings) {
      throw new PretrainError(`BERT input has ${seq} tokens but max_position_embeddings is ${c.max_position_embeddings}`);
    }
    for (const [name, t] of [['attentionMask', inputs.attentionMask], ['tokenTypeIds', inputs.tokenTypeIds]] as const) {
      if (t && (t.shape[0] !== batch || t.shape[1] !== seq)) throw new PretrainError(`BERT ${name} has shape [${t.shape}] but inputIds has [${batch},${seq}]`);
    }
    const training = options.training && (c.hidden_dropout_prob > 0 || c.attention_probs_dropout_prob > 0);
    const rng = training ? new Rng(options.dropoutSeed ?? this.dropoutSeeds.nextUint32()) : undefined;
    const hiddenStates: tf.Tensor3D[] = [];
    const attentions: tf.Tensor4D[] = [];
    const as3d = (x: tf.Tensor2D) => tf.reshape(x, [batch, seq, c.hidden_size]) as tf.Tensor3D;

    let hidden = this.embed(inputs, rng);
    if (options.outputHiddenStates) hiddenStates.push(as3d(hidden));
    const bias = inputs.attentionMask && hasPadding(inputs.attentionMask) ? paddingBias(inputs.attentionMask) : undefined;
    for (let i = 0; i < c.num_hidden_layers; i++) {
      const layer = this.encoderLayer(i, hidden, batch, seq, bias, rng);
      hidden = layer.output;
      if (options.outputAttentions) attentions.push(layer.probs);
      if (options.outputHiddenStates) hiddenStates.push(as3d(hidden));
    }
    const sequenceOutput = as3d(hidden);
    const output: BackboneOutput = { sequenceOutput };
    if (this.hasPooler) output.pooledOutput = this.pool(sequenceOutput);
    if (options.outputHiddenStates) output.hiddenStates = hiddenStates;
    if (options.outputAttentions) output.attentions = attentions;
    return output;
  }

  /** word + position + token-type embeddings → LayerNorm → dropout, as [batch*seq, hidden]. */
  private embed(inputs: BackboneInputs, rng: Rng | undefined): tf.Tensor2D {
    const c = this.config;
    const [batch, seq] = inputs.inputIds.shape;
    const h = c.hidden_size;
    const words = paddedEmbeddingLookup(this.p<tf.Rank.R2>('embeddings.word_embeddings.weight'), tf.reshape(inputs.inputIds, [-1]) as tf.Tensor1D, c.pad_token_id);
    const positions = tf.slice(this.p<tf.Rank.R2>('embeddings.position_embeddings.weight'), [0, 0], [seq, h]);
    const typeTable = this.p<tf.Rank.R2>('embeddings.token_type_embeddings.weight');
    // Without token types every position uses row 0; a broadcast add avoids a gather (and its gradient).
    const types = inputs.tokenTypeIds ? tf.reshape(tf.gather(typeTable, tf.reshape(inputs.tokenTypeIds, [-1])), [batch, seq, h]) : tf.slice(typeTable, [0, 0], [1, h]);
    const summed = tf.add(tf.add(tf.reshape(words, [batch, seq, h]), positions), types);
    const normed = this.parameters.layerNorm(tf.reshape(summed, [batch * seq, h]) as tf.Tensor2D, 'embeddings.LayerNorm', c.layer_norm_eps);
    return rng ? dropout(normed, c.hidden_dropout_prob, rng) : normed;
  }

  private encoderLayer(index: number, x: tf.Tensor2D, batch: number, seq: number, bias: tf.Tensor4D | undefined, rng: Rng | undefined) {
    const c = this.config;
    const n = layerNames(index);
    const { context, probs } = this.selfAttention(x, n, batch, seq, bias, rng);
    let attended = this.parameters.dense(context, n.attentionOutput);
    if (rng) attended = dropout(attended, c.hidden_dropout_prob, rng);
    const afterAttention = this.parameters.layerNorm(tf.add(attended, x), n.attentionLayerNorm, this.config.layer_norm_eps);
    const intermediate = activate(this.parameters.dense(afterAttention, n.intermediate), c.hidden_act);
    let out = this.parameters.dense(intermediate, n.output);
    if (rng) out = dropout(out, c.hidden_dropout_prob, rng);
    return { output: this.parameters.layerNorm(tf.add(out, afterAttention), n.outputLayerNorm, this.config.layer_norm_eps), probs };
  }

  /**
   * Multi-head self-attention. Keys go straight to [batch, heads, headSize, seq] so the score
   * matmul is a plain (non-transposed) batched matmul; the 1/sqrt(d) scale is applied to the
   * queries (fewer elements than the scores).
   */
  private selfAttention(x: tf.Tensor2D, n: LayerNames, batch: number, seq: number, bias: tf.Tensor4D | undefined, rng: Rng | undefined) {
    const c = this.config;
    const heads = c.num_attention_heads;
    const d = this.headSize;
    const split = (t: tf.Tensor2D) => tf.reshape(t, [batch, seq, heads, d]);
    const query = tf.transpose(split(tf.mul(this.parameters.dense(x, n.query), 1 / Math.sqrt(d))), [0, 2, 1, 3]);
    const keyT = tf.transpose(split(this.parameters.dense(x, n.key)), [0, 2, 3, 1]);
    const value = tf.transpose(split(this.parameters.dense(x, n.value)), [0, 2, 1, 3]);
    let scores = tf.matMul(query, keyT) as tf.Tensor4D;
    if (bias) scores = tf.add(scores, bias);
    const probs = tf.softmax(scores) as tf.Tensor4D;
    const dropped = rng ? dropout(probs, c.attention_probs_dropout_prob, rng) : probs;
    const context = tf.transpose(tf.matMul(dropped, value), [0, 2, 1, 3]);
    return { context: tf.reshape(context, [batch * seq, c.hidden_size]) as tf.Tensor2D, probs: dropped };
  }

  /** dense + tanh on the first token's final hidden state. */
  private pool(sequenceOutput: tf.Tensor3D): tf.Tensor2D {
    const [batch, , h] = sequenceOutput.shape;
    const first = tf.reshape(tf.slice(sequenceOutput, [0, 0, 0], [batch, 1, h]), [batch, h]) as tf.Tensor2D;
    return tf.tanh(this.parameters.dense(first, 'pooler.dense'));
  }

  inputEmbeddings(): tf.Variable {
    return this.p('embeddings.word_embeddings.weight');
  }

  configJSON(): Record<string, unknown> {
    return { ...this.config };
  }

  layerIndexOf(parameterName: string): number {
    return layerIndexByName(parameterName, BERT_BASE_PREFIX, ['embeddings.'], /^encoder\.layer\.(\d+)\./, this.config.num_hidden_layers);
  }

  override dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    super.dispose();
  }
}

/**
 * Embedding rows for `ids`, as torch's nn.Embedding with padding_idx: the padding row is looked up
 * like any other but receives no gradient from the lookup (it still gets the tied MLM decoder's).
 */
function paddedEmbeddingLookup(table: tf.Tensor2D, ids: tf.Tensor1D, padId: number): tf.Tensor2D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [weights, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    const notPad = tf.reshape(tf.cast(tf.notEqual(ids, padId), 'float32'), [-1, 1]);
    save([ids, notPad]);
    return {
      value: tf.gather(weights, ids),
      gradFunc: (dy: tf.Tensor, [savedIds, savedNotPad]: tf.Tensor[]) => tf.unsortedSegmentSum(tf.mul(dy, savedNotPad), savedIds as tf.Tensor1D, weights.shape[0]),
    };
  });
  return op(table) as tf.Tensor2D;
}

function internalShape(spec: ParameterSpec): number[] {
  return spec.kind === 'dense' ? [spec.hfShape[1], spec.hfShape[0]] : spec.hfShape;
}

/** Original Google/TF checkpoints name LayerNorm parameters gamma/beta; HF renames them on load, so do we. */
export function renameLegacyKey(name: string): string {
  return name.replace(/\.gamma$/, '.weight').replace(/\.beta$/, '.bias');
}

export { stripPrefix };
