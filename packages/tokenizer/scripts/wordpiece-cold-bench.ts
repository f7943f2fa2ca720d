/**
 * Benchmark of WordPiece's uncached path (every word seen for the first time, as in a fresh
 * worker): the trie walk of `WordPiece` against the previous implementation (a Map lookup per
 * candidate substring, longest first), kept here as the peer and run in the same process,
 * alternating rounds. Both must give the same ids for every word. Prints words/s and the ratio
 * new/old per round and the median.
 *
 *   node scripts/run-ts.js scripts/wordpiece-cold-bench.ts [--rounds 5]
 *
 * Words: the distinct lower-cased words of the shared Gutenberg books (needs ../shared).
 */
import * as fs from 'fs';
import * as path from 'path';
import { WordPiece, type WordTokens } from '../src/index';
import { arg, repoRoot } from './script-env';

const gutenberg = path.join(repoRoot, '../shared/data/corpus/gutenberg');
const bertJSON = path.join(repoRoot, 'fixtures/data/tokenizer/bert-base-uncased/tokenizer.json');

/** Distinct words roughly as BERT's normalizer and pre-tokenizer cut them (lower-cased, accents off, punctuation apart). */
function distinctWords(): string[] {
  if (!fs.existsSync(gutenberg)) throw new Error(`benchmark corpus not found at ${gutenberg} (needs ../shared)`);
  const words = new Set<string>();
  for (const file of fs.readdirSync(gutenberg).filter((f) => /^pg.*\.txt$/.test(f))) {
    const text = fs.readFileSync(path.join(gutenberg, file), 'utf8').toLowerCase().normalize('NFD').replace(/\p{Mn}/gu, '');
    for (const word of text.split(/[\s\p{P}\p{S}]+/u)) if (word.length > 0) words.add(word);
  }
  return [...words];
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}
function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** The WordPiece longest match as it was before the trie (commit 19b9f63), minus the length limit. */
class SubstringWordPiece {
  private readonly maxTokenLength: number;
  /** Filled like WordPiece's word cache, so both sides pay for one insert per word. */
  private readonly cache = new Map<string, WordTokens>();
  constructor(
    private readonly vocab: Map<string, number>,
    private readonly prefix = '##',
    private readonly unk = vocab.get('[UNK]')!,
  ) {
    let longest = 0;
    for (const token of vocab.keys()) longest = Math.max(longest, token.length);
    this.maxTokenLength = longest;
  }

  tokenize(word: string): WordTokens {
    const tokens = this.tokenizeUncached(word);
    this.cache.set(word, tokens);
    return tokens;
  }

  private tokenizeUncached(word: string): WordTokens {
    const ids: number[] = [];
    const ends: number[] = [];
    let start = 0;
    while (start < word.length) {
      const prefixLength = start > 0 ? this.prefix.length : 0;
      let end = Math.min(word.length, start + this.maxTokenLength - prefixLength);
      if (end < word.length && isLowSurrogate(word.charCodeAt(end))) end--;
      let id: number | undefined;
      while (end > start) {
        const piece = start > 0 ? this.prefix + word.slice(start, end) : word.slice(start, end);
        id = this.vocab.get(piece);
        if (id !== undefined) break;
        end -= end - 2 >= start && isLowSurrogate(word.charCodeAt(end - 1)) && isHighSurrogate(word.charCodeAt(end - 2)) ? 2 : 1;
      }
      if (id === undefined) return { ids: Int32Array.of(this.unk), starts: Int32Array.of(0), ends: Int32Array.of(word.length) };
      ids.push(id);
      ends.push(end);
      start = end;
    }
    const starts = [0, ...ends.slice(0, -1)];
    return { ids: Int32Array.from(ids), starts: Int32Array.from(starts), ends: Int32Array.from(ends) };
  }
}

function seconds(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function checkSameIds(words: string[], vocab: Map<string, number>): void {
  const trie = new WordPiece(vocab, { maxInputCharsPerWord: Infinity });
  const old = new SubstringWordPiece(vocab);
  for (const word of words) {
    const a = trie.tokenize(word);
    const b = old.tokenize(word);
    if (a.ids.join() !== b.ids.join() || a.ends.join() !== b.ends.join()) throw new Error(`implementations differ on ${JSON.stringify(word)}: ${a.ids} vs ${b.ids}`);
  }
}

function main(): void {
  const rounds = Number(arg('rounds', '5'));
  const vocab = new Map<string, number>(Object.entries(JSON.parse(fs.readFileSync(bertJSON, 'utf8')).model.vocab));
  const words = distinctWords();
  checkSameIds(words, vocab);
  console.log(`${words.length} distinct words, ${vocab.size} pieces; ids identical for every word`);
  let sink = 0;
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    // A fresh model per round: every word misses the word cache. Construction is timed apart.
    let trie!: WordPiece;
    const build = seconds(() => (trie = new WordPiece(vocab, { maxInputCharsPerWord: Infinity })));
    const old = new SubstringWordPiece(vocab);
    const oldTime = seconds(() => words.forEach((w) => (sink += old.tokenize(w).ids.length)));
    const newTime = seconds(() => words.forEach((w) => (sink += trie.tokenize(w).ids.length)));
    ratios.push(oldTime / newTime);
    console.log(`round ${r + 1}: substrings ${(words.length / oldTime / 1e3).toFixed(0)}k words/s, trie ${(words.length / newTime / 1e3).toFixed(0)}k words/s (trie build ${(build * 1e3).toFixed(0)} ms), speed-up ${ratios[r].toFixed(2)}×`);
  }
  console.log(`median speed-up trie/substrings: ${median(ratios).toFixed(2)}× (checksum ${sink})`);
}

main();
