import { collate, Rng, type Batch, type Example, type ExampleBuilder, type IteratorState, type TokenizedDocument, type TokenizerPlugin } from '@pretrain/core';

/** Unlabeled data for pre-training: a fresh, deterministic pass over tokenized documents per epoch. */
export interface DocumentSource {
  documents(epoch: number): AsyncIterable<TokenizedDocument>;
}

/** Labeled examples (fine-tuning; shuffled each epoch) or a document source (pre-training). */
export type TrainingData = Example[] | DocumentSource;

export function isDocumentSource(data: TrainingData): data is DocumentSource {
  return !Array.isArray(data) && typeof (data as DocumentSource).documents === 'function';
}

/** A 32-bit seed derived from the run seed and a purpose, so each stream is independent and reproducible. */
export function deriveSeed(seed: number, purpose: string, index = 0): number {
  let h = 0x811c9dc5;
  for (const ch of `${seed}:${purpose}:${index}`) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export interface BatchSourceOptions {
  seed: number;
  batchSize: number;
  padId: number;
  padToMultipleOf?: number;
  shuffle: boolean;
  /** Pre-training only: the objective that builds examples, and what it needs. */
  builder?: ExampleBuilder;
  tokenizer?: TokenizerPlugin;
  maxLength: number;
}

/** Produces each epoch's micro-batches in a fixed order; resuming skips the ones already consumed. */
export class BatchSource {
  private lastStream: { getState?: () => IteratorState } | undefined;

  constructor(
    private readonly data: TrainingData,
    private readonly options: BatchSourceOptions,
  ) {
    if (isDocumentSource(data) && !options.builder) throw new Error('pre-training data (documents) needs an objective that builds examples');
    if (isDocumentSource(data) && !options.tokenizer) throw new Error('pre-training data (documents) needs a tokenizer for the example builder');
    if (Array.isArray(data) && data.length === 0) throw new Error('no training examples');
  }

  /** Micro-batches per epoch, when known in advance (example arrays). */
  get batchesPerEpoch(): number | undefined {
    return Array.isArray(this.data) ? Math.ceil(this.data.length / this.options.batchSize) : undefined;
  }

  /** The document stream's own position, when it can report one. */
  streamState(): IteratorState | undefined {
    return this.lastStream?.getState?.();
  }

  async *batches(epoch: number, skip: number): AsyncGenerator<Batch> {
    if (Array.isArray(this.data)) yield* this.exampleBatches(this.data, epoch, skip);
    else yield* this.documentBatches(this.data, epoch, skip);
  }

  private *exampleBatches(examples: Example[], epoch: number, skip: number): Generator<Batch> {
    const order = examples.map((_, i) => i);
    if (this.options.shuffle) new Rng(deriveSeed(this.options.seed, 'shuffle', epoch)).shuffle(order);
    const { batchSize } = this.options;
    for (let start = skip * batchSize; start < order.length; start += batchSize) {
      yield this.collate(order.slice(start, start + batchSize).map((i) => examples[i]));
    }
  }

  private async *documentBatches(source: DocumentSource, epoch: number, skip: number): AsyncGenerator<Batch> {
    const documents = source.documents(epoch);
    this.lastStream = documents as { getState?: () => IteratorState };
    // The builder gets its own generator per epoch, so replaying an epoch reproduces its examples exactly.
    const context = { tokenizer: this.options.tokenizer!, maxLength: this.options.maxLength, rng: new Rng(deriveSeed(this.options.seed, 'build', epoch)) };
    let pending: Example[] = [];
    let index = 0;
    for await (const example of this.options.builder!.build(documents, context)) {
      pending.push(example);
      if (pending.length === this.options.batchSize) {
        if (index++ >= skip) yield this.collate(pending);
        pending = [];
      }
    }
    if (pending.length > 0 && index >= skip) yield this.collate(pending);
  }

  private collate(examples: Example[]): Batch {
    return collate(examples, { padId: this.options.padId, padToMultipleOf: this.options.padToMultipleOf });
  }
}
