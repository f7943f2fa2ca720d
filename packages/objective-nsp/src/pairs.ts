import type { Rng } from '@pretrain/core';

/** One sentence-pair instance before framing, with where its segments came from. */
export interface PairInstance {
  tokensA: number[];
  tokensB: number[];
  isRandomNext: boolean;
  /** Document index and [start, end) sentence range of segment A (before truncation). */
  a: { document: number; start: number; end: number };
  /** Same for segment B; for a true continuation, the same document with start === a.end. */
  b: { document: number; start: number; end: number };
}

export interface PairOptions {
  /** Full length including [CLS] and two [SEP]. */
  maxLength: number;
  shortSeqProbability: number;
  randomNextProbability: number;
}

/** Python's random.randint(a, b): inclusive on both ends. */
function randint(rng: Rng, low: number, high: number): number {
  return low + rng.int(high - low + 1);
}

/**
 * Sentence pairs from one document, following BERT's create_pretraining_data.py
 * (create_instances_from_document): fill a chunk with whole sentences up to a target length (a
 * random shorter target with shortSeqProbability), split it at a random sentence boundary into
 * A and B, replace B by text from another document with randomNextProbability (the sentences
 * of the chunk that B would have used go back to be read again), truncate the pair.
 *
 * One deliberate difference: where the original must pick a random B because the chunk holds a
 * single sentence, a true B is taken from the document's next sentence when the coin asked for
 * one. Otherwise long sentences and short targets push true pairs well below the 50% asked for.
 */
export function createInstancesFromDocument(documents: Int32Array[][], documentIndex: number, options: PairOptions, rng: Rng): PairInstance[] {
  const document = documents[documentIndex];
  const maxNumTokens = options.maxLength - 3;
  let targetSeqLength = maxNumTokens;
  if (rng.float() < options.shortSeqProbability) targetSeqLength = randint(rng, 2, maxNumTokens);

  const instances: PairInstance[] = [];
  let chunk: Int32Array[] = [];
  let chunkStart = 0;
  let currentLength = 0;
  let i = 0;
  while (i < document.length) {
    const segment = document[i];
    if (chunk.length === 0) chunkStart = i;
    chunk.push(segment);
    currentLength += segment.length;
    if (i === document.length - 1 || currentLength >= targetSeqLength) {
      let aEnd = 1;
      if (chunk.length >= 2) aEnd = randint(rng, 1, chunk.length - 1);
      const tokensA = chunk.slice(0, aEnd).flatMap((s) => Array.from(s));
      let tokensB: number[] = [];
      let isRandomNext = rng.float() < options.randomNextProbability;
      if (!isRandomNext && chunk.length === 1) {
        if (i + 1 < document.length) {
          i++;
          chunk.push(document[i]);
        } else {
          isRandomNext = true;
        }
      }
      let b: PairInstance['b'];
      if (isRandomNext) {
        const targetBLength = targetSeqLength - tokensA.length;
        let randomDocument = 0;
        for (let attempt = 0; attempt < 10; attempt++) {
          randomDocument = randint(rng, 0, documents.length - 1);
          if (randomDocument !== documentIndex) break;
        }
        const source = documents[randomDocument];
        const randomStart = randint(rng, 0, source.length - 1);
        let j = randomStart;
        for (; j < source.length; j++) {
          tokensB.push(...source[j]);
          if (tokensB.length >= targetBLength) {
            j++;
            break;
          }
        }
        b = { document: randomDocument, start: randomStart, end: j };
        // The chunk's unused sentences are read again for the next instance.
        i -= chunk.length - aEnd;
      } else {
        tokensB = chunk.slice(aEnd).flatMap((s) => Array.from(s));
        b = { document: documentIndex, start: chunkStart + aEnd, end: chunkStart + chunk.length };
      }
      truncateSeqPair(tokensA, tokensB, maxNumTokens, rng);
      if (tokensA.length >= 1 && tokensB.length >= 1) {
        instances.push({ tokensA, tokensB, isRandomNext, a: { document: documentIndex, start: chunkStart, end: chunkStart + aEnd }, b });
      }
      chunk = [];
      currentLength = 0;
    }
    i++;
  }
  return instances;
}

/** Truncates the longer segment one token at a time, from its front or back at random. */
export function truncateSeqPair(tokensA: number[], tokensB: number[], maxNumTokens: number, rng: Rng): void {
  while (tokensA.length + tokensB.length > maxNumTokens) {
    const longer = tokensA.length > tokensB.length ? tokensA : tokensB;
    if (rng.float() < 0.5) longer.shift();
    else longer.pop();
  }
}
