/**
 * HF's BPE training algorithm (tokenizers `BpeTrainer`), deterministic: the most frequent pair is
 * merged first, ties broken by the smaller (left id, right id). Words are visited in sorted order,
 * so ids (and therefore results) never depend on hash-map iteration order.
 */

export interface BPETrainerOptions {
  vocabSize?: number;
  minFrequency?: number;
  specialTokens?: string[];
  /** Keep at most this many characters in the initial alphabet (the most frequent ones). */
  limitAlphabet?: number | null;
  /** Characters always in the alphabet (byte-level: all 256 byte characters). */
  initialAlphabet?: string[];
  /** Prefix of symbols that continue a word (WordPiece: "##"). */
  continuingSubwordPrefix?: string | null;
  endOfWordSuffix?: string | null;
}

export interface BPETrainingResult {
  /** Token → id, ids 0..n-1 (special tokens first, then the alphabet, then merges). */
  vocab: Map<string, number>;
  merges: [string, string][];
}

const KEY = 2097152; // 2^21: pair key = left * KEY + right

class MaxHeap {
  private keys: number[] = [];
  private counts: number[] = [];
  private positions: Set<number>[] = [];

  get size(): number {
    return this.keys.length;
  }

  /** Ordering of HF's `Merge`: higher count first, then smaller pair. */
  private before(i: number, j: number): boolean {
    if (this.counts[i] !== this.counts[j]) return this.counts[i] > this.counts[j];
    return this.keys[i] < this.keys[j];
  }

  private swap(i: number, j: number): void {
    [this.keys[i], this.keys[j]] = [this.keys[j], this.keys[i]];
    [this.counts[i], this.counts[j]] = [this.counts[j], this.counts[i]];
    [this.positions[i], this.positions[j]] = [this.positions[j], this.positions[i]];
  }

  push(key: number, count: number, positions: Set<number>): void {
    this.keys.push(key);
    this.counts.push(count);
    this.positions.push(positions);
    let i = this.keys.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): { key: number; count: number; positions: Set<number> } {
    const top = { key: this.keys[0], count: this.counts[0], positions: this.positions[0] };
    const last = this.keys.length - 1;
    this.swap(0, last);
    this.keys.pop();
    this.counts.pop();
    this.positions.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      if (l < this.keys.length && this.before(l, best)) best = l;
      if (r < this.keys.length && this.before(r, best)) best = r;
      if (best === i) break;
      this.swap(i, best);
      i = best;
    }
    return top;
  }
}

function computeAlphabet(wordCounts: [string, number][], options: BPETrainerOptions, vocab: Map<string, number>, tokens: string[]): void {
  const charCounts = new Map<string, number>();
  for (const [word, count] of wordCounts) for (const ch of word) charCounts.set(ch, (charCounts.get(ch) ?? 0) + count);
  for (const ch of options.initialAlphabet ?? []) charCounts.set(ch, Number.MAX_SAFE_INTEGER);
  let kept = [...charCounts.entries()];
  const limit = options.limitAlphabet;
  if (limit !== null && limit !== undefined && kept.length > limit) {
    kept.sort((a, b) => a[1] - b[1] || b[0].codePointAt(0)! - a[0].codePointAt(0)!);
    kept = kept.slice(kept.length - limit);
  }
  kept.sort((a, b) => a[0].codePointAt(0)! - b[0].codePointAt(0)!);
  for (const [ch] of kept) addToken(ch, vocab, tokens);
}

function addToken(token: string, vocab: Map<string, number>, tokens: string[]): number {
  let id = vocab.get(token);
  if (id === undefined) {
    id = tokens.length;
    tokens.push(token);
    vocab.set(token, id);
  }
  return id;
}

/** Words as symbol-id arrays (chars outside the alphabet are dropped, as in HF). */
function tokenizeWords(wordCounts: [string, number][], options: BPETrainerOptions, vocab: Map<string, number>, tokens: string[]): number[][] {
  const prefix = options.continuingSubwordPrefix ?? null;
  const suffix = options.endOfWordSuffix ?? null;
  return wordCounts.map(([word]) => {
    const chars = [...word];
    const symbols: number[] = [];
    chars.forEach((ch, i) => {
      if (!vocab.has(ch)) return;
      let s = ch;
      if (i > 0 && prefix) s = prefix + s;
      if (i === chars.length - 1 && suffix) s += suffix;
      symbols.push(addToken(s, vocab, tokens));
    });
    return symbols;
  });
}

/** Trains BPE on word counts; the result is identical to HF's trainer for the same settings. */
export function trainBPE(wordCountsMap: Map<string, number>, options: BPETrainerOptions = {}): BPETrainingResult {
  const vocabSize = options.vocabSize ?? 30000;
  const minFrequency = options.minFrequency ?? 0;
  const vocab = new Map<string, number>();
  const tokens: string[] = [];
  for (const special of options.specialTokens ?? []) addToken(special, vocab, tokens);
  const wordCounts = [...wordCountsMap.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  computeAlphabet(wordCounts, options, vocab, tokens);
  const words = tokenizeWords(wordCounts, options, vocab, tokens);
  const counts = wordCounts.map(([, c]) => c);

  const pairCounts = new Map<number, number>();
  let whereToUpdate = new Map<number, Set<number>>();
  words.forEach((symbols, w) => {
    for (let k = 0; k + 1 < symbols.length; k++) {
      const key = symbols[k] * KEY + symbols[k + 1];
      pairCounts.set(key, (pairCounts.get(key) ?? 0) + counts[w]);
      let where = whereToUpdate.get(key);
      if (!where) whereToUpdate.set(key, (where = new Set()));
      where.add(w);
    }
  });
  const heap = new MaxHeap();
  const flush = () => {
    for (const [key, positions] of whereToUpdate) {
      const count = pairCounts.get(key)!;
      if (count > 0) heap.push(key, count, positions);
    }
    whereToUpdate = new Map();
  };
  flush();

  const prefix = options.continuingSubwordPrefix ?? null;
  const merges: [string, string][] = [];
  const changes: number[] = [];
  while (vocab.size < vocabSize && heap.size > 0) {
    const top = heap.pop();
    const current = pairCounts.get(top.key)!;
    if (top.count !== current) {
      heap.push(top.key, current, top.positions);
      continue;
    }
    if (top.count < 1 || minFrequency > top.count) break;
    const left = Math.floor(top.key / KEY);
    const right = top.key - left * KEY;
    const partA = tokens[left];
    let partB = tokens[right];
    if (prefix && partB.startsWith(prefix)) partB = partB.slice(prefix.length);
    const newId = addToken(partA + partB, vocab, tokens);
    merges.push([tokens[left], tokens[right]]);

    for (const w of top.positions) {
      changes.length = 0;
      mergeWord(words[w], left, right, newId, changes);
      for (let k = 0; k < changes.length; k += 2) {
        const key = changes[k];
        const change = changes[k + 1];
        pairCounts.set(key, (pairCounts.get(key) ?? 0) + change * counts[w]);
        if (change > 0) {
          let where = whereToUpdate.get(key);
          if (!where) whereToUpdate.set(key, (where = new Set()));
          where.add(w);
        }
      }
    }
    flush();
  }
  return { vocab, merges };
}

/** HF `Word::merge`: merges every (c1, c2) left to right; records pair count changes as (key, ±1). */
function mergeWord(symbols: number[], c1: number, c2: number, replacement: number, changes: number[]): void {
  let i = 0;
  while (i < symbols.length) {
    if (symbols[i] === c1 && i + 1 < symbols.length && symbols[i + 1] === c2) {
      if (i > 0) changes.push(symbols[i - 1] * KEY + c1, -1, symbols[i - 1] * KEY + replacement, 1);
      symbols.splice(i, 2, replacement);
      if (i < symbols.length - 1) changes.push(c2 * KEY + symbols[i + 1], -1, replacement * KEY + symbols[i + 1], 1);
    }
    i++;
  }
}
