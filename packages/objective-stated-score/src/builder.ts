import { documentTokens, framedExample, windowFraming } from '@pretrain/core';
import type { Example, ExampleBuilder, ExampleBuilderContext, Rng, TokenizedDocument, TokenizerPlugin } from '@pretrain/core';
import type { StatedScoreOptions } from './options';

export interface StatedScore {
  /** [start, end) of the score's tokens ("7 / 10", "7 out of 10") in the document. */
  start: number;
  end: number;
  score: number;
}

/** A token's text without WordPiece's "##" or byte-level BPE's / SentencePiece's word-start marks. */
function plainText(tokenizer: TokenizerPlugin, id: number): string {
  return (tokenizer.idToToken(id) ?? '').replace(/^##|^Ġ|^▁/, '').toLowerCase();
}

/**
 * Scores out of `scale` the text states: an integer token 0…scale, then "/" or "out of", then the scale
 * (not a decimal such as "7.5/10" or a date such as "3/10/2004", whose neighbours give them away).
 */
export function findStatedScores(tokens: Int32Array, tokenizer: TokenizerPlugin, scale: number): StatedScore[] {
  const text = Array.from(tokens, (id) => plainText(tokenizer, id));
  const found: StatedScore[] = [];
  const scaleText = String(scale);
  for (let i = 0; i < text.length; i++) {
    if (!/^\d{1,3}$/.test(text[i])) continue;
    const score = Number(text[i]);
    const decimal = text[i - 1] === '.' && /^\d+$/.test(text[i - 2] ?? '');
    if (score > scale || decimal || text[i - 1] === '/') continue;
    let end = -1;
    if (text[i + 1] === '/' && text[i + 2] === scaleText) end = i + 3;
    else if (text[i + 1] === 'out' && text[i + 2] === 'of' && text[i + 3] === scaleText) end = i + 4;
    if (end < 0 || text[end] === '/' || (text[end] === '.' && /^\d/.test(text[end + 1] ?? ''))) continue;
    found.push({ start: i, end, score });
    i = end - 1;
  }
  return found;
}

/** 0 (negative), 1 (positive), or undefined when the document states no score, a middling one, or both kinds. */
export function polarityOf(scores: StatedScore[], options: StatedScoreOptions): 0 | 1 | undefined {
  if (scores.length === 0) return undefined;
  const labels = new Set(scores.map((s) => (s.score <= options.negativeAtMost ? 0 : s.score >= options.positiveAtLeast ? 1 : -1)));
  if (labels.size !== 1 || labels.has(-1)) return undefined;
  return labels.has(1) ? 1 : 0;
}

/**
 * Examples from the documents that state a score: the score's tokens are removed, the rest is cut into
 * consecutive windows of up to maxLength − 2 tokens, [CLS] window [SEP], each labelled with the document's polarity,
 * and yielded in random order from a pool of `shuffleWindows` (with `balance`, windows of the more common label
 * are dropped at random to keep the labels about equally common). Documents without a clear score give no examples.
 */
export class StatedScoreBuilder implements ExampleBuilder {
  constructor(private readonly options: StatedScoreOptions) {}

  async *build(documents: AsyncIterable<TokenizedDocument>, context: ExampleBuilderContext): AsyncIterable<Example> {
    const { start: first, end: last, capacity } = windowFraming('stated-score', context);
    const pool: Example[] = [];
    const arrived = [0, 0];
    for await (const document of documents) {
      const tokens = documentTokens(document);
      const scores = findStatedScores(tokens, context.tokenizer, this.options.scale);
      const label = polarityOf(scores, this.options);
      if (label === undefined) continue;
      const rest = withoutSpans(tokens, scores);
      for (let at = 0; at < rest.length; at += capacity) {
        arrived[label]++;
        if (this.options.balance && arrived[label] > arrived[1 - label] && context.rng.float() >= (arrived[1 - label] + 1) / (arrived[label] + 1)) continue;
        pool.push({ ...framedExample(rest.subarray(at, at + capacity), first, last, context.tokenizer), labels: { [this.options.labelField]: label } });
        if (pool.length >= this.options.shuffleWindows) yield takeAtRandom(pool, context.rng);
      }
    }
    while (pool.length > 0) yield takeAtRandom(pool, context.rng);
  }
}

function withoutSpans(tokens: Int32Array, spans: StatedScore[]): Int32Array {
  const kept: number[] = [];
  let next = 0;
  for (const span of spans) {
    for (let i = next; i < span.start; i++) kept.push(tokens[i]);
    next = span.end;
  }
  for (let i = next; i < tokens.length; i++) kept.push(tokens[i]);
  return Int32Array.from(kept);
}


/** Removes and returns a random element (the last one takes its place). */
function takeAtRandom<T>(pool: T[], rng: Rng): T {
  const at = rng.int(pool.length);
  const taken = pool[at];
  pool[at] = pool[pool.length - 1];
  pool.pop();
  return taken;
}
