import { PretrainError } from '@pretrain/core/lite';
import type { Example, ExampleBuilder, ExampleBuilderContext, Rng, TokenizedDocument, TokenizerPlugin } from '@pretrain/core';
import type { SopOptions } from './options';

export interface OrderInstance {
  tokensA: number[];
  tokensB: number[];
  swapped: boolean;
}

/** Python's random.randint(a, b): inclusive on both ends. */
function randint(rng: Rng, low: number, high: number): number {
  return low + rng.int(high - low + 1);
}

/**
 * Segment pairs from one document as ALBERT builds them: chunks of whole sentences up to a target
 * length, split at a random sentence boundary into A and B — B is always A's true continuation —
 * and swapped half of the time. A one-sentence chunk is split inside the sentence instead.
 */
export function orderInstancesFromDocument(document: Int32Array[], maxLength: number, options: SopOptions, rng: Rng): OrderInstance[] {
  const maxNumTokens = maxLength - 3;
  let target = maxNumTokens;
  if (rng.float() < options.shortSeqProbability) target = randint(rng, 2, maxNumTokens);
  const instances: OrderInstance[] = [];
  let chunk: Int32Array[] = [];
  let length = 0;
  for (let i = 0; i < document.length; i++) {
    chunk.push(document[i]);
    length += document[i].length;
    if (i < document.length - 1 && length < target) continue;
    let tokensA: number[];
    let tokensB: number[];
    if (chunk.length >= 2) {
      const aEnd = randint(rng, 1, chunk.length - 1);
      tokensA = chunk.slice(0, aEnd).flatMap((s) => Array.from(s));
      tokensB = chunk.slice(aEnd).flatMap((s) => Array.from(s));
    } else {
      const all = Array.from(chunk[0]);
      const cut = all.length >= 2 ? randint(rng, 1, all.length - 1) : 1;
      tokensA = all.slice(0, cut);
      tokensB = all.slice(cut);
    }
    truncatePair(tokensA, tokensB, maxNumTokens, rng);
    if (tokensA.length > 0 && tokensB.length > 0) {
      const swapped = rng.float() < options.swapProbability;
      instances.push(swapped ? { tokensA: tokensB, tokensB: tokensA, swapped } : { tokensA, tokensB, swapped });
    }
    chunk = [];
    length = 0;
  }
  return instances;
}

function truncatePair(a: number[], b: number[], maxNumTokens: number, rng: Rng): void {
  while (a.length + b.length > maxNumTokens) {
    const longer = a.length > b.length ? a : b;
    if (rng.float() < 0.5) longer.shift();
    else longer.pop();
  }
}

/** Builds `[CLS] A [SEP] B [SEP]` examples labelled 0 (in order) or 1 (swapped). */
export class SentenceOrderBuilder implements ExampleBuilder {
  constructor(private readonly options: SopOptions) {}

  async *build(documents: AsyncIterable<TokenizedDocument>, context: ExampleBuilderContext): AsyncIterable<Example> {
    for await (const document of documents) {
      const sentences = document.sentences.filter((s) => s.length > 0);
      for (const x of orderInstancesFromDocument(sentences, context.maxLength, this.options, context.rng)) {
        yield segmentPair(x.tokensA, x.tokensB, { [this.options.labelField]: x.swapped ? 1 : 0 }, context.tokenizer);
      }
    }
  }
}

function segmentPair(a: number[], b: number[], labels: Record<string, number>, tokenizer: TokenizerPlugin): Example {
  const { cls, sep } = tokenizer.specialTokenIds();
  if (cls === undefined || sep === undefined) throw new PretrainError('sop: the tokenizer has no [CLS]/[SEP] tokens', { path: 'tokenizer' });
  const inputIds = Int32Array.from([cls, ...a, sep, ...b, sep]);
  const n = inputIds.length;
  const specialTokensMask = Uint8Array.from(inputIds, (_, i) => (i === 0 || i === a.length + 1 || i === n - 1 ? 1 : 0));
  const wordIds = new Int32Array(n);
  let word = -1;
  for (let i = 0; i < n; i++) {
    if (specialTokensMask[i]) wordIds[i] = -1;
    else {
      if (wordIds[i - 1] < 0 || !tokenizer.isContinuation(inputIds[i])) word++;
      wordIds[i] = word;
    }
  }
  return { inputIds, tokenTypeIds: new Int32Array(n).fill(1, a.length + 2), specialTokensMask, wordIds, labels };
}
