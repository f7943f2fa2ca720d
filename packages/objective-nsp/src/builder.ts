import { PretrainError } from '@pretrain/core/lite';
import type { Example, ExampleBuilder, ExampleBuilderContext, Rng, TokenizedDocument, TokenizerPlugin } from '@pretrain/core';
import { createInstancesFromDocument, type PairInstance } from './pairs';

export interface PairBuilderOptions {
  shortSeqProbability: number;
  randomNextProbability: number;
  /** Passes over each pool of documents with fresh randomness (BERT's dupe_factor). */
  dupeFactor: number;
  /** Documents held in memory at once; random B segments come from the same pool. */
  documentPoolSize: number;
  /** Shuffle the instances of a pool (BERT shuffles all instances). */
  shuffle: boolean;
  labelField: string;
}

/**
 * BERT next-sentence-prediction examples: documents are read in pools of documentPoolSize; each
 * pool becomes sentence pairs (see createInstancesFromDocument) framed as [CLS] A [SEP] B [SEP].
 * Label 0 = B continues A, 1 = B is random (HF's next_sentence_label).
 */
export class SentencePairBuilder implements ExampleBuilder {
  constructor(private readonly options: PairBuilderOptions) {}

  async *build(documents: AsyncIterable<TokenizedDocument>, context: ExampleBuilderContext): AsyncIterable<Example> {
    const special = context.tokenizer.specialTokenIds();
    if (special.cls === undefined || special.sep === undefined) throw new PretrainError('nsp example builder: the tokenizer has no [CLS]/[SEP] tokens', { path: 'tokenizer' });
    if (context.maxLength < 5) throw new PretrainError(`nsp example builder: maxLength ${context.maxLength} is too short for [CLS] A [SEP] B [SEP]`, { path: 'trainer.maxLength' });
    let pool: Int32Array[][] = [];
    for await (const document of documents) {
      const sentences = document.sentences.filter((s) => s.length > 0);
      if (sentences.length > 0) pool.push(sentences);
      if (pool.length >= this.options.documentPoolSize) {
        yield* this.pairsOf(pool, context);
        pool = [];
      }
    }
    if (pool.length > 0) yield* this.pairsOf(pool, context);
  }

  /** All instances of one pool of documents, as examples. */
  instancesOf(pool: Int32Array[][], maxLength: number, rng: Rng): PairInstance[] {
    const instances: PairInstance[] = [];
    for (let pass = 0; pass < this.options.dupeFactor; pass++) {
      for (let d = 0; d < pool.length; d++) {
        instances.push(...createInstancesFromDocument(pool, d, { maxLength, shortSeqProbability: this.options.shortSeqProbability, randomNextProbability: this.options.randomNextProbability }, rng));
      }
    }
    return this.options.shuffle ? rng.shuffle(instances) : instances;
  }

  private *pairsOf(pool: Int32Array[][], context: ExampleBuilderContext): Iterable<Example> {
    for (const instance of this.instancesOf(pool, context.maxLength, context.rng)) {
      yield pairExample(instance.tokensA, instance.tokensB, { [this.options.labelField]: instance.isRandomNext ? 1 : 0 }, context.tokenizer);
    }
  }
}

/** [CLS] A [SEP] B [SEP] with token type ids, special-token mask and word ids (whole-word masking). */
export function pairExample(tokensA: ArrayLike<number>, tokensB: ArrayLike<number>, labels: Record<string, number>, tokenizer: TokenizerPlugin): Example {
  const { cls, sep } = tokenizer.specialTokenIds();
  const inputIds = Int32Array.from([cls!, ...Array.from(tokensA), sep!, ...Array.from(tokensB), sep!]);
  const n = inputIds.length;
  const firstB = tokensA.length + 2;
  const tokenTypeIds = new Int32Array(n).fill(1, firstB);
  const specialTokensMask = new Uint8Array(n);
  specialTokensMask[0] = 1;
  specialTokensMask[firstB - 1] = 1;
  specialTokensMask[n - 1] = 1;
  const wordIds = new Int32Array(n);
  let word = -1;
  for (let i = 0; i < n; i++) {
    if (specialTokensMask[i]) {
      wordIds[i] = -1;
      continue;
    }
    if (wordIds[i - 1] < 0 || !tokenizer.isContinuation(inputIds[i])) word++;
    wordIds[i] = word;
  }
  return { inputIds, tokenTypeIds, specialTokensMask, wordIds, labels };
}
