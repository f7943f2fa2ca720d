import { documentTokens, framedExample, windowFraming } from '@pretrain/core';
import type { Example, ExampleBuilder, ExampleBuilderContext, Rng, TokenizedDocument } from '@pretrain/core';
import type { ContextBowOptions } from './options';

export interface ContextWindow {
  /** [start, end) of the window in the document's tokens. */
  start: number;
  end: number;
  /** Token ids drawn (with replacement) from the context: up to `radius` tokens before and after the window. */
  targets: number[];
}

/**
 * Cuts one document's tokens into consecutive windows of at most `capacity` tokens — at most half the
 * document, so that every window has a context in the same document — and draws each window's targets
 * from the tokens around it.
 */
export function contextWindows(tokens: Int32Array, capacity: number, options: ContextBowOptions, rng: Rng, keepProbability?: (id: number) => number): ContextWindow[] {
  if (tokens.length < Math.max(2, options.minDocumentTokens)) return [];
  const size = Math.min(capacity, Math.ceil(tokens.length / 2));
  const windows: ContextWindow[] = [];
  for (let start = 0; start < tokens.length; start += size) {
    const end = Math.min(tokens.length, start + size);
    const before = Math.max(0, start - options.radius);
    const after = Math.min(tokens.length, end + options.radius);
    const contextLength = start - before + (after - end);
    if (contextLength === 0) continue;
    const count = Math.min(options.targetsPerWindow, end - start + 2);
    const targets: number[] = [];
    // Draws a subsampled word may reject: at most four per target, so a window of frequent tokens gets fewer.
    for (let draws = 0; targets.length < count && draws < 4 * count; draws++) {
      const r = rng.int(contextLength);
      const id = tokens[r < start - before ? before + r : end + (r - (start - before))];
      if (keepProbability && rng.float() >= keepProbability(id)) continue;
      targets.push(id);
    }
    if (targets.length === 0) continue;
    windows.push({ start, end, targets });
  }
  return windows;
}

/** Examples of windows that stay inside one document: [CLS] window [SEP], with the drawn context words as a per-token field. */
export class ContextWindowBuilder implements ExampleBuilder {
  constructor(private readonly options: ContextBowOptions) {}

  async *build(documents: AsyncIterable<TokenizedDocument>, context: ExampleBuilderContext): AsyncIterable<Example> {
    const { start: first, end: last, capacity } = windowFraming('context-bow', context);
    const frequencies = new TokenFrequencies(this.options.subsample);
    for await (const document of documents) {
      const tokens = documentTokens(document);
      for (const window of contextWindows(tokens, capacity, this.options, context.rng, frequencies.keepProbability(tokens))) {
        const example = framedExample(tokens.subarray(window.start, window.end), first, last, context.tokenizer);
        const targets = new Int32Array(example.inputIds.length).fill(-100);
        targets.set(window.targets);
        yield { ...example, tokenLabels: { [this.options.targetField]: targets } };
      }
    }
  }
}

/**
 * word2vec's keep probability min(1, sqrt(t / f)), f counted over the documents of this build() call so far
 * (one epoch: a resumed run replays the epoch and gets the same draws).
 */
class TokenFrequencies {
  private readonly counts = new Map<number, number>();
  private total = 0;

  constructor(private readonly threshold: number) {}

  keepProbability(tokens: Int32Array): ((id: number) => number) | undefined {
    if (this.threshold === 0) return undefined;
    for (const id of tokens) this.counts.set(id, (this.counts.get(id) ?? 0) + 1);
    this.total += tokens.length;
    return (id) => Math.min(1, Math.sqrt((this.threshold * this.total) / (this.counts.get(id) ?? 1)));
  }
}
