// Test double: a tiny backbone written against the core contract only. Token + type embeddings,
// one context-mixing tanh layer (bidirectional: mean over the sequence; causal: running mean over
// the prefix), a BERT-like pooler on the first token. Small enough to train in a few steps.
import * as tf from '@tensorflow/tfjs-core';
import type { AttentionKind, BackboneInfo, BackboneInputs, BackboneOutput, BackbonePlugin, ForwardOptions, LoadReport, NamedVariables } from '../contract';
import { Rng } from '../rng';

export interface TinyBackboneOptions {
  vocabSize: number;
  hiddenSize?: number;
  maxPositions?: number;
  attention?: AttentionKind;
  seed?: number;
}

export class TinyBackbone implements BackbonePlugin {
  readonly info: BackboneInfo;
  private readonly params = new Map<string, tf.Variable>();

  constructor(options: TinyBackboneOptions) {
    const hidden = options.hiddenSize ?? 16;
    this.info = {
      modelType: 'tiny-test',
      basePrefix: 'tiny',
      attention: options.attention ?? 'bidirectional',
      vocabSize: options.vocabSize,
      hiddenSize: hidden,
      numLayers: 1,
      maxPositions: options.maxPositions ?? 512,
      hiddenAct: 'gelu',
      layerNormEps: 1e-12,
      initializerRange: 0.2,
      hiddenDropoutProb: 0,
    };
    const rng = new Rng(options.seed ?? 1);
    const normal = (shape: number[]) => tf.tensor(Float32Array.from({ length: shape[0] * (shape[1] ?? 1) }, () => rng.normal() * 0.2), shape);
    this.params.set('embeddings.word_embeddings.weight', tf.variable(normal([options.vocabSize, hidden])));
    this.params.set('embeddings.token_type_embeddings.weight', tf.variable(normal([2, hidden])));
    this.params.set('mix.weight', tf.variable(normal([2 * hidden, hidden])));
    this.params.set('pooler.weight', tf.variable(normal([hidden, hidden])));
  }

  forward(inputs: BackboneInputs, _options?: ForwardOptions): BackboneOutput {
    const [batch, seq] = inputs.inputIds.shape;
    const hidden = this.info.hiddenSize;
    const embed = (ids: tf.Tensor2D, table: tf.Variable, rows: number) =>
      tf.reshape(tf.matMul(tf.cast(tf.oneHot(tf.reshape(ids, [-1]), rows), 'float32'), table), [batch, seq, hidden]);
    let x = embed(inputs.inputIds, this.params.get('embeddings.word_embeddings.weight')!, this.info.vocabSize);
    if (inputs.tokenTypeIds) x = tf.add(x, embed(inputs.tokenTypeIds, this.params.get('embeddings.token_type_embeddings.weight')!, 2));
    const mask = tf.cast(inputs.attentionMask ?? tf.onesLike(inputs.inputIds), 'float32');
    const mixing = this.mixingMatrix(mask, seq);
    const context = tf.matMul(mixing, x);
    const features = tf.reshape(tf.concat([x, context], -1), [batch * seq, 2 * hidden]);
    const sequenceOutput = tf.reshape(tf.tanh(tf.matMul(features, this.params.get('mix.weight')!)), [batch, seq, hidden]) as tf.Tensor3D;
    const first = tf.reshape(tf.slice(sequenceOutput, [0, 0, 0], [batch, 1, hidden]), [batch, hidden]);
    const pooledOutput = tf.tanh(tf.matMul(first, this.params.get('pooler.weight')!)) as tf.Tensor2D;
    return { sequenceOutput, pooledOutput };
  }

  /** [batch, seq, seq] averaging weights over the visible, non-padding positions. */
  private mixingMatrix(mask: tf.Tensor, seq: number): tf.Tensor3D {
    const visible = this.info.attention === 'causal' ? tf.linalg.bandPart(tf.ones([seq, seq]), -1, 0) : tf.ones([seq, seq]);
    const weights = tf.mul(tf.expandDims(visible, 0), tf.expandDims(mask, 1));
    return tf.div(weights, tf.maximum(tf.sum(weights, -1, true), 1)) as tf.Tensor3D;
  }

  inputEmbeddings(): tf.Variable {
    return this.params.get('embeddings.word_embeddings.weight')!;
  }

  variables(): NamedVariables {
    return new Map(this.params);
  }

  stateDict(): Map<string, tf.Tensor> {
    return new Map([...this.params].map(([k, v]) => [k, tf.clone(v)]));
  }

  loadStateDict(tensors: Map<string, tf.Tensor>): LoadReport {
    for (const [name, v] of this.params) if (tensors.has(name)) v.assign(tensors.get(name)!);
    return { missing: [...this.params.keys()].filter((k) => !tensors.has(k)), unexpected: [] };
  }

  configJSON(): Record<string, unknown> {
    return { model_type: this.info.modelType, vocab_size: this.info.vocabSize, hidden_size: this.info.hiddenSize };
  }

  layerIndexOf(name: string): number {
    return name.startsWith('embeddings.') ? 0 : name.startsWith('mix.') ? 1 : 2;
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
  }
}
