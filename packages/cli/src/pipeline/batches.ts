import {
  Batch,
  CorpusSourcePlugin,
  Example,
  ExampleBuilder,
  ObjectivePlugin,
  Rng,
  TokenizedDocument,
  TokenizerPlugin,
  collate,
} from '@pretrain/core';
import type { LabeledText } from './task-data';
import { shuffled } from './task-data';
import { encodeText } from './task-encode';

/** Documents from the corpus, tokenized sentence by sentence (no special tokens), for example builders. */
export async function* tokenizedDocuments(corpus: CorpusSourcePlugin, tokenizer: TokenizerPlugin, split: 'train' | 'validation', seed: number): AsyncGenerator<TokenizedDocument> {
  for await (const document of corpus.documents({ split, seed })) {
    const sentences = document.sentences
      .map((s) => Int32Array.from(tokenizer.encode(s, null, { addSpecialTokens: false }).ids))
      .filter((ids) => ids.length > 0);
    if (sentences.length > 0) yield { id: document.id, sentences };
  }
}

export function padIdOf(tokenizer: TokenizerPlugin): number {
  const special = tokenizer.specialTokenIds();
  return special.pad ?? special.eos ?? 0;
}

/**
 * Endless pre-training batches: the building objective turns tokenized documents into examples (new
 * epoch, new seed, when the corpus ends), every objective then rewrites the batch (MLM masking).
 */
export function pretrainingBatches(options: {
  corpus: CorpusSourcePlugin;
  tokenizer: TokenizerPlugin;
  builder: ExampleBuilder;
  objectives: ObjectivePlugin[];
  batchSize: number;
  maxLength: number;
  seed: number;
  split?: 'train' | 'validation';
  /** Stop after one pass (validation). */
  onePass?: boolean;
}): () => Promise<Batch | undefined> {
  const rng = new Rng(options.seed + 17);
  const padId = padIdOf(options.tokenizer);
  let epoch = 0;
  let iterator: AsyncIterator<Example> | undefined;
  const start = () => {
    const documents = tokenizedDocuments(options.corpus, options.tokenizer, options.split ?? 'train', options.seed + epoch);
    iterator = options.builder.build(documents, { tokenizer: options.tokenizer, maxLength: options.maxLength, rng })[Symbol.asyncIterator]();
  };
  return async () => {
    const examples: Example[] = [];
    let restarts = 0;
    while (examples.length < options.batchSize) {
      if (!iterator) start();
      const next = await iterator!.next();
      if (next.done) {
        iterator = undefined;
        epoch += 1;
        if (options.onePass || (examples.length === 0 && ++restarts > 1)) break;
        continue;
      }
      examples.push(next.value);
    }
    if (examples.length === 0) return undefined;
    let batch = collate(examples, { padId });
    for (const objective of options.objectives) if (objective.transformBatch) batch = objective.transformBatch(batch, rng);
    return batch;
  };
}

/** Labeled texts as examples with `labels` (the field the heads read). */
export function labeledExamples(tokenizer: TokenizerPlugin, rows: LabeledText[], labels: string[], maxLength: number): Example[] {
  return rows.map((row) => ({ ...encodeText(tokenizer, row.text, row.textPair, maxLength), labels: { labels: labels.indexOf(row.label) } }));
}

/** Endless shuffled epochs over a fixed example set. */
export function epochBatches(examples: Example[], batchSize: number, padId: number, seed: number): () => Promise<Batch | undefined> {
  const rng = new Rng(seed + 29);
  let order: Example[] = [];
  let cursor = 0;
  return async () => {
    if (examples.length === 0) return undefined;
    const chunk: Example[] = [];
    while (chunk.length < Math.min(batchSize, examples.length)) {
      if (cursor >= order.length) {
        order = shuffled(examples, rng);
        cursor = 0;
      }
      chunk.push(order[cursor++]);
    }
    return collate(chunk, { padId });
  };
}

/** Fixed-order batches for evaluation. */
export function* inOrderBatches(examples: Example[], batchSize: number, padId: number): Generator<Batch> {
  for (let i = 0; i < examples.length; i += batchSize) yield collate(examples.slice(i, i + batchSize), { padId });
}
