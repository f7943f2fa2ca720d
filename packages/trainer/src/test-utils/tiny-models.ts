/**
 * Small test doubles implementing the core contract (the trainer may not import real plugins):
 * a two-layer backbone, a classification head, and a next-token objective that builds examples.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  Rng,
  type BackboneInfo,
  type BackboneInputs,
  type BackboneOutput,
  type BackbonePlugin,
  type Batch,
  type BatchTensors,
  type Example,
  type ExampleBuilder,
  type ExampleBuilderContext,
  type LoadReport,
  type LossOutput,
  type NamedVariables,
  type ObjectivePlugin,
  type TaskHeadForwardOptions,
  type TaskHeadPlugin,
  type TaskKind,
  type TokenizedDocument,
  type TokenizerPlugin,
} from '@pretrain/core';

let counter = 0;
function variable(values: tf.Tensor, name: string): tf.Variable {
  const v = tf.variable(values, true, `${name}#test${++counter}`);
  values.dispose();
  return v;
}

function normal(rng: Rng, shape: number[], std: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = rng.normal() * std;
  return tf.tensor(data, shape);
}

/** Linear weights are kept [in, out] internally and exposed [out, in] (HF layout), like the real models. */
const TRANSPOSED = /dense\.weight$/;

class Params {
  readonly vars: NamedVariables = new Map();
  variables(): NamedVariables {
    return this.vars;
  }
  stateDict(): Map<string, tf.Tensor> {
    return new Map([...this.vars].map(([n, v]) => [n, TRANSPOSED.test(n) ? tf.transpose(v) : tf.clone(v)]));
  }
  loadStateDict(tensors: Map<string, tf.Tensor>): LoadReport {
    const missing: string[] = [];
    for (const [name, v] of this.vars) {
      const t = tensors.get(name);
      if (!t) missing.push(name);
      else tf.tidy(() => v.assign(TRANSPOSED.test(name) ? tf.transpose(t) : t));
    }
    return { missing, unexpected: [...tensors.keys()].filter((n) => !this.vars.has(n)) };
  }
  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}

export class TinyBackbone extends Params implements BackbonePlugin {
  readonly info: BackboneInfo;

  constructor(seed = 1, vocabSize = 16, hiddenSize = 8, private readonly dropout = 0.1) {
    super();
    this.info = {
      modelType: 'tiny',
      basePrefix: 'tiny',
      attention: 'bidirectional',
      vocabSize,
      hiddenSize,
      numLayers: 2,
      maxPositions: 64,
      hiddenAct: 'tanh',
      layerNormEps: 1e-12,
      initializerRange: 0.5,
      hiddenDropoutProb: dropout,
    };
    const rng = new Rng(seed);
    this.vars.set('embeddings.word_embeddings.weight', variable(normal(rng, [vocabSize, hiddenSize], 0.5), 'we'));
    this.vars.set('embeddings.LayerNorm.weight', variable(tf.ones([hiddenSize]), 'ln'));
    for (const layer of [0, 1]) {
      this.vars.set(`layer.${layer}.dense.weight`, variable(normal(rng, [hiddenSize, hiddenSize], 0.5), 'w'));
      this.vars.set(`layer.${layer}.dense.bias`, variable(tf.zeros([hiddenSize]), 'b'));
    }
  }

  forward(inputs: BackboneInputs, options: { training: boolean; dropoutSeed?: number }): BackboneOutput {
    return tf.tidy(() => {
      const [b, s] = inputs.inputIds.shape;
      const v = (n: string) => this.vars.get(n)!;
      // One-hot matmul instead of gather: no gather gradient needed on any backend.
      const oneHot = tf.cast(tf.oneHot(tf.reshape(inputs.inputIds, [-1]) as tf.Tensor1D, this.info.vocabSize), 'float32');
      let h = tf.mul(tf.matMul(oneHot, v('embeddings.word_embeddings.weight')), v('embeddings.LayerNorm.weight'));
      h = tf.tanh(tf.add(tf.matMul(h, v('layer.0.dense.weight')), v('layer.0.dense.bias')));
      if (options.training && this.dropout > 0) h = tf.dropout(h, this.dropout, undefined, options.dropoutSeed);
      h = tf.tanh(tf.add(tf.matMul(h, v('layer.1.dense.weight')), v('layer.1.dense.bias')));
      const sequenceOutput = tf.reshape(h, [b, s, this.info.hiddenSize]) as tf.Tensor3D;
      const pooledOutput = tf.reshape(tf.slice(sequenceOutput, [0, 0, 0], [b, 1, this.info.hiddenSize]), [b, this.info.hiddenSize]) as tf.Tensor2D;
      return { sequenceOutput, pooledOutput };
    });
  }

  inputEmbeddings(): tf.Variable {
    return this.vars.get('embeddings.word_embeddings.weight')!;
  }

  configJSON(): Record<string, unknown> {
    return { model_type: 'tiny', vocab_size: this.info.vocabSize, hidden_size: this.info.hiddenSize, num_hidden_layers: 2 };
  }

  layerIndexOf(name: string): number {
    if (name.startsWith('embeddings.')) return 0;
    const m = /^layer\.(\d+)\./.exec(name);
    if (m) return Number(m[1]) + 1;
    return this.info.numLayers + 1;
  }
}

/** Mean cross-entropy over rows whose label is a valid class (int32 one-hot: works on every backend). */
export function crossEntropy(logits: tf.Tensor2D, labels: ArrayLike<number>): tf.Scalar {
  const classes = logits.shape[1];
  let counted = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] >= 0 && labels[i] < classes) counted++;
  return tf.tidy(() => {
    const logProbs = tf.sub(logits, tf.logSumExp(logits, -1, true));
    const oneHot = tf.cast(tf.oneHot(tf.tensor1d(Int32Array.from(labels), 'int32'), classes), 'float32');
    return tf.div(tf.neg(tf.sum(tf.mul(logProbs, oneHot))), tf.scalar(Math.max(1, counted)));
  });
}

export class TinyClassifierHead extends Params implements TaskHeadPlugin {
  readonly task: TaskKind = 'sequence-classification';
  /** Tests set this to make the loss non-finite from a given call on. */
  poisonAfterCalls = Number.POSITIVE_INFINITY;
  private calls = 0;

  constructor(private readonly numLabels = 3) {
    super();
  }

  init({ backbone, rng }: { backbone: BackbonePlugin; rng: Rng }): void {
    this.vars.set('classifier.dense.weight', variable(normal(rng, [backbone.info.hiddenSize, this.numLabels], 0.5), 'cw'));
    this.vars.set('classifier.bias', variable(tf.zeros([this.numLabels]), 'cb'));
  }

  forward(output: BackboneOutput, options: TaskHeadForwardOptions): tf.Tensor {
    return tf.tidy(() => {
      const x = options.training ? tf.dropout(output.pooledOutput!, 0.1, undefined, options.dropoutSeed) : output.pooledOutput!;
      return tf.add(tf.matMul(x, this.vars.get('classifier.dense.weight')!), this.vars.get('classifier.bias')!);
    });
  }

  loss(logits: tf.Tensor, batch: BatchTensors): tf.Scalar {
    const loss = crossEntropy(logits as tf.Tensor2D, batch.host.fields.labels);
    if (++this.calls > this.poisonAfterCalls) return tf.tidy(() => tf.mul(loss, tf.scalar(NaN)) as tf.Scalar);
    return loss;
  }

  configJSON(): Record<string, unknown> {
    return { architectures: ['TinyForSequenceClassification'], num_labels: this.numLabels };
  }
}

/**
 * Next-token prediction with the decoder tied to the word embeddings. Its example builder cuts
 * documents into blocks at random offsets (uses the builder RNG); transformBatch hides random
 * targets (uses the run RNG), so exact resume has to restore both.
 */
export class TinyLmObjective extends Params implements ObjectivePlugin {
  readonly name = 'tiny-lm';
  private backbone?: BackbonePlugin;
  readonly exampleBuilder: ExampleBuilder = {
    build: (documents, context) => buildBlocks(documents, context),
  };

  init({ backbone }: { backbone: BackbonePlugin }): void {
    this.backbone = backbone;
    this.vars.set('lm.bias', variable(tf.zeros([backbone.info.vocabSize]), 'lmb'));
  }

  transformBatch(batch: Batch, rng: Rng): Batch {
    const targets = new Int32Array(batch.size * batch.seqLen).fill(-100);
    for (let r = 0; r < batch.size; r++) {
      for (let t = 0; t + 1 < batch.seqLen; t++) {
        const i = r * batch.seqLen + t;
        if (batch.attentionMask[i + 1] && rng.float() < 0.8) targets[i] = batch.inputIds[i + 1];
      }
    }
    return { ...batch, fields: { ...batch.fields, targets } };
  }

  loss(output: BackboneOutput, batch: BatchTensors): LossOutput {
    const loss = tf.tidy(() => {
      const [b, s, h] = output.sequenceOutput.shape;
      const flat = tf.reshape(output.sequenceOutput, [b * s, h]);
      const logits = tf.add(tf.matMul(flat, this.backbone!.inputEmbeddings(), false, true), this.vars.get('lm.bias')!) as tf.Tensor2D;
      return crossEntropy(logits, batch.host.fields.targets);
    });
    return { loss, metrics: { zero: tf.scalar(0) } };
  }
}

async function* buildBlocks(documents: AsyncIterable<TokenizedDocument>, context: ExampleBuilderContext): AsyncGenerator<Example> {
  for await (const doc of documents) {
    const ids = doc.sentences.flatMap((s) => Array.from(s));
    let start = context.rng.int(3);
    while (start + 2 <= ids.length) {
      const length = Math.min(context.maxLength, ids.length - start);
      yield { inputIds: Int32Array.from(ids.slice(start, start + length)) };
      start += length;
    }
  }
}

/** Random labeled examples: the label depends on the first token, so the head can learn it. */
export function labeledExamples(count: number, seed = 3, vocabSize = 16, numLabels = 3): Example[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => {
    const length = 3 + rng.int(5);
    const inputIds = Int32Array.from({ length }, () => 1 + rng.int(vocabSize - 1));
    return { inputIds, labels: { labels: inputIds[0] % numLabels } };
  });
}

/** A deterministic document source (one generator per epoch, same order each time). */
export function documentSource(count: number, seed = 5, vocabSize = 16) {
  const rng = new Rng(seed);
  const docs: TokenizedDocument[] = Array.from({ length: count }, (_, i) => ({
    id: `doc-${i}`,
    sentences: Array.from({ length: 1 + rng.int(3) }, () => Int32Array.from({ length: 3 + rng.int(6) }, () => 1 + rng.int(vocabSize - 1))),
  }));
  return {
    documents: (_epoch: number) =>
      (async function* () {
        for (const d of docs) yield d;
      })(),
  };
}

/** Just enough of a tokenizer for the trainer (pad id, tokenizer.json in checkpoints). */
export function stubTokenizer(): TokenizerPlugin {
  const unsupported = () => {
    throw new Error('stub tokenizer');
  };
  return {
    encode: unsupported,
    encodeBatch: unsupported,
    decode: unsupported,
    tokenToId: unsupported,
    idToToken: unsupported,
    getVocabSize: () => 16,
    specialTokenIds: () => ({ pad: 0 }),
    isContinuation: () => false,
    toJSON: () => '{"stub":true}',
    hash: () => 'stub',
  };
}
