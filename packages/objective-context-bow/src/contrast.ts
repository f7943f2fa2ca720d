import * as tf from '@tensorflow/tfjs-core';
import { assertBackboneAttention, documentTokens, maskedMean, framedExample, windowFraming, objectivePath, PretrainError, z } from '@pretrain/core';
import type { AttentionKind, BackboneOutput, BatchTensors, Example, ExampleBuilder, ExampleBuilderContext, LoadReport, LossOutput, NamedVariables, ObjectiveContext, ObjectivePlugin, TokenizedDocument } from '@pretrain/core';

export const contextContrastOptionsSchema = z
  .object({
    /** Softmax temperature of the cosine similarities (SimCSE: 0.05). */
    temperature: z.number().positive().max(10).default(0.05),
    /** Documents with fewer tokens are skipped. */
    minDocumentTokens: z.number().int().min(2).default(16),
    /** Per-example field naming the pair a window belongs to. */
    pairField: z.string().min(1).default('contextPair'),
  })
  .strict();

export type ContextContrastOptions = z.infer<typeof contextContrastOptionsSchema>;

/**
 * Two windows of one document as consecutive examples with the same pair id: the trainer batches a document
 * stream in order, so pairs share a batch.
 */
export class DocumentPairBuilder implements ExampleBuilder {
  private pair = 0;

  constructor(private readonly options: ContextContrastOptions) {}

  async *build(documents: AsyncIterable<TokenizedDocument>, context: ExampleBuilderContext): AsyncIterable<Example> {
    const { start: first, end: last, capacity } = windowFraming('context-contrast', context);
    for await (const document of documents) {
      const tokens = documentTokens(document);
      if (tokens.length < Math.max(2, this.options.minDocumentTokens)) continue;
      const size = Math.min(capacity, Math.floor(tokens.length / 2));
      // Non-overlapping windows paired at random, each pair in random order: where a window sits in its document
      // (its start, its middle) says nothing about which window is its partner.
      const starts = Array.from({ length: Math.floor(tokens.length / size) }, (_, k) => k * size);
      context.rng.shuffle(starts);
      for (let k = 0; k + 1 < starts.length; k += 2) {
        const id = this.pair++ % 0x3fffffff;
        for (const at of [starts[k], starts[k + 1]]) yield { ...framedExample(tokens.subarray(at, at + size), first, last, context.tokenizer), labels: { [this.options.pairField]: id } };
      }
    }
  }
}

/**
 * Contrastive windows (DeCLUTR-style): the mean-pooled last hidden states of two windows of one document must be
 * each other's nearest neighbour among the batch's windows (InfoNCE over cosine similarities of the batch-centred
 * states). No parameters.
 */
export class ContextContrast implements ObjectivePlugin {
  static readonly requiresAttention: AttentionKind = 'bidirectional';
  static readonly buildsExamples = true;
  readonly name = 'context-contrast';
  readonly requiresAttention = ContextContrast.requiresAttention;
  readonly exampleBuilder: ExampleBuilder;

  constructor(readonly options: ContextContrastOptions = contextContrastOptionsSchema.parse({})) {
    this.exampleBuilder = new DocumentPairBuilder(options);
  }

  init({ backbone }: ObjectiveContext): void {
    assertBackboneAttention(this, backbone);
  }

  loss(output: BackboneOutput, batch: BatchTensors): LossOutput {
    const ids = batch.host.fields[this.options.pairField];
    if (!ids) throw new PretrainError(`context-contrast: the batch has no "${this.options.pairField}" field (context-contrast must build the examples)`, { path: objectivePath(this.name) });
    const size = batch.host.size;
    const partners = partnerMatrix(ids, size);
    const pooled = maskedMean(output.sequenceOutput, batch.attentionMask);
    // Centred on the batch mean first: a pre-trained model's pooled states share one large direction, which would
    // put every cosine near 1 and leave the loss almost no gradient.
    const centred = tf.sub(pooled, tf.mean(pooled, 0, true));
    const unit = tf.div(centred, tf.maximum(tf.norm(centred, 2, 1, true), 1e-6)) as tf.Tensor2D;
    const self = tf.mul(tf.eye(size), -1e4);
    const logits = tf.add(tf.div(tf.matMul(unit, unit, false, true), this.options.temperature), self);
    const logProbs = tf.logSoftmax(logits);
    const partnerOf = tf.tensor2d(partners.matrix, [size, size]);
    const rows = Math.max(partners.rows, 1);
    const loss = tf.div(tf.neg(tf.sum(tf.mul(partnerOf, logProbs))), rows) as tf.Scalar;
    const accuracy = tf.div(tf.sum(tf.mul(partnerOf, tf.oneHot(tf.argMax(logits, 1), size))), rows) as tf.Scalar;
    return { loss, metrics: { accuracy } };
  }

  variables(): NamedVariables {
    return new Map();
  }

  stateDict(): Map<string, tf.Tensor> {
    return new Map();
  }

  loadStateDict(tensors: Map<string, tf.Tensor>): LoadReport {
    return { missing: [], unexpected: [...tensors.keys()] };
  }

  ownsTensorName(): boolean {
    return false;
  }

  dispose(): void {}
}

/** [size, size] one-hot rows: row i marks the other window of i's pair (rows whose partner is not in the batch stay zero). */
export function partnerMatrix(ids: Int32Array | Float32Array, size: number): { matrix: Float32Array; rows: number } {
  const matrix = new Float32Array(size * size);
  let rows = 0;
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      if (i !== j && ids[i] === ids[j]) {
        matrix[i * size + j] = 1;
        rows++;
        break;
      }
    }
  }
  return { matrix, rows };
}
