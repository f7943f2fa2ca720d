/**
 * WordPiece word-level parity with HF's Rust model (npm `tokenizers`, WordPiece behind a plain
 * whitespace split): random words built from vocabulary pieces (so the greedy longest match has
 * real choices to make), random letters, astral characters, words over the length limit, unknown
 * characters and custom continuing-subword prefixes.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Rng } from '@pretrain/core';
import { WordPiece } from './index';
import { hf } from './test-utils/hf';

const bertJSON = path.join(__dirname, '../../../fixtures/data/tokenizer/bert-base-uncased/tokenizer.json');
const bertVocab = new Map<string, number>(Object.entries(JSON.parse(fs.readFileSync(bertJSON, 'utf8')).model.vocab));

interface Options {
  prefix: string;
  maxInputCharsPerWord: number;
}

/** Ids per word from HF's WordPiece model (one batch, one word per input). */
async function hfIds(vocab: Map<string, number>, options: Options, words: string[]): Promise<number[][]> {
  const model = hf.WordPiece.init(Object.fromEntries(vocab), { unkToken: '[UNK]', continuingSubwordPrefix: options.prefix, maxInputCharsPerWord: options.maxInputCharsPerWord });
  const tokenizer = new hf.Tokenizer(model);
  tokenizer.setPreTokenizer(hf.whitespaceSplitPreTokenizer());
  const encodings = await tokenizer.encodeBatch(words, { addSpecialTokens: false });
  return encodings.map((e: { getIds(): number[] }) => e.getIds());
}

async function expectSameAsHF(vocab: Map<string, number>, options: Options, words: string[]): Promise<void> {
  const ours = new WordPiece(vocab, { unkToken: '[UNK]', continuingSubwordPrefix: options.prefix, maxInputCharsPerWord: options.maxInputCharsPerWord });
  const theirs = await hfIds(vocab, options, words);
  const mismatches = words.map((word, i) => ({ word, ours: [...ours.tokenize(word).ids], theirs: theirs[i] })).filter((m) => m.ours.join() !== m.theirs.join());
  expect(mismatches.slice(0, 5)).toEqual([]);
}

/** Positions must tile the word: each piece starts where the previous one ended. */
function expectTiling(model: WordPiece, words: string[]): void {
  for (const word of words) {
    const { starts, ends } = model.tokenize(word);
    expect(starts[0]).toBe(0);
    expect(ends[ends.length - 1]).toBe(word.length);
    for (let k = 1; k < starts.length; k++) expect(starts[k]).toBe(ends[k - 1]);
  }
}

function pick<T>(rng: Rng, items: T[]): T {
  return items[rng.int(items.length)];
}

/** Words glued from vocabulary pieces, with now and then a character no piece starts with. */
function randomWords(rng: Rng, vocab: Map<string, number>, prefix: string, count: number, extraChars: string[]): string[] {
  const tokens = [...vocab.keys()].filter((t) => !/^\[.*\]$/.test(t) && !/\s/.test(t));
  const initial = tokens.filter((t) => prefix === '' || !t.startsWith(prefix));
  const continuation = prefix === '' ? tokens : tokens.filter((t) => t.startsWith(prefix) && t.length > prefix.length).map((t) => t.slice(prefix.length));
  const letters = 'abcdefghijklmnopqrstuvwxyz'.split('');
  const words: string[] = [];
  for (let n = 0; n < count; n++) {
    let word = pick(rng, initial);
    const pieces = rng.int(5);
    for (let k = 0; k < pieces; k++) {
      const r = rng.float();
      word += r < 0.6 ? pick(rng, continuation) : r < 0.9 ? pick(rng, letters) : pick(rng, extraChars);
    }
    words.push(word);
  }
  return words;
}

const ASTRAL = ['😀', '𝔘', '𠀋', '🇺🇸'];
const UNKNOWN_CHARS = ['\ue000', '\u2603', 'é'];

describe('WordPiece longest match vs HF', () => {
  const options = { prefix: '##', maxInputCharsPerWord: 100 };

  it('matches HF on random words over the bert-base-uncased vocabulary', async () => {
    const words = randomWords(new Rng(1), bertVocab, '##', 3000, UNKNOWN_CHARS);
    await expectSameAsHF(bertVocab, options, words);
    expectTiling(new WordPiece(bertVocab), words);
  });

  it('matches HF on random letter strings (many unknown and many-piece words)', async () => {
    const rng = new Rng(2);
    const words = Array.from({ length: 2000 }, () => Array.from({ length: 1 + rng.int(25) }, () => String.fromCharCode(97 + rng.int(26))).join(''));
    await expectSameAsHF(bertVocab, options, words);
  });

  it('never splits a surrogate pair and matches HF on pieces with astral characters', async () => {
    const vocab = new Map(bertVocab);
    const extra = ['😀', '##😀', 'a😀', '##😀😀', '𝔘', '##𝔘', 'x𝔘y', '##𝔘y', '🇺', '##🇸', '🇺🇸', '##b😀'];
    for (const token of extra) vocab.set(token, vocab.size);
    const words = [...randomWords(new Rng(3), vocab, '##', 2000, ASTRAL), 'a😀😀😀', 'x𝔘yx𝔘y', '😀𠀋', '🇺🇸🇺🇸', 'b😀', '😀b😀'];
    await expectSameAsHF(vocab, options, words);
    expectTiling(new WordPiece(vocab), words);
  });

  it('does not match a piece that ends inside a surrogate pair', () => {
    const high = '😀'.charAt(0);
    const vocab = new Map([['[UNK]', 0], ['a', 1], ['a' + high, 2], ['##😀', 3]]);
    // HF cannot hold a lone surrogate in its vocabulary, so this rule is checked by hand.
    expect([...new WordPiece(vocab).tokenize('a😀').ids]).toEqual([1, 3]);
  });

  it('counts max_input_chars_per_word in code points, like HF', async () => {
    const vocab = new Map(bertVocab);
    for (const token of ['😀', '##😀']) vocab.set(token, vocab.size);
    const limited = { prefix: '##', maxInputCharsPerWord: 6 };
    // 'washington' and 'government' are whole vocabulary pieces, but longer than the limit.
    const words = ['😀😀😀😀😀😀', '😀😀😀😀😀😀😀', 'aaaaaa', 'aaaaaaa', 'ab😀cd😀', 'ab😀cd😀e', 'unknown', 'washington', 'government', 'the'];
    await expectSameAsHF(vocab, limited, words);
    const model = new WordPiece(vocab, { maxInputCharsPerWord: 6 });
    expect([...model.tokenize('😀😀😀😀😀😀😀').ids]).toEqual([vocab.get('[UNK]')]);
    expect([...model.tokenize('washington').ids]).toEqual([vocab.get('[UNK]')]);
  });

  it.each([
    ['a custom prefix', '@@'],
    ['a longer custom prefix', '<cont>'],
    ['an empty prefix', ''],
  ])('matches HF with %s', async (_name, prefix) => {
    const vocab = new Map<string, number>();
    for (const [token, id] of bertVocab) vocab.set(token.startsWith('##') ? prefix + token.slice(2) : token, id);
    const words = randomWords(new Rng(4), vocab, prefix, 1500, UNKNOWN_CHARS);
    await expectSameAsHF(vocab, { prefix, maxInputCharsPerWord: 100 }, [...words, '##ing', 'playing', 'unaffable']);
  });

  it('makes every word unknown past the first piece when no piece carries the prefix', async () => {
    const vocab = new Map([['[UNK]', 0], ['un', 1], ['aff', 2], ['##able', 3]]);
    await expectSameAsHF(vocab, { prefix: '@@', maxInputCharsPerWord: 100 }, ['un', 'unaff', 'aff', 'unable', 'x']);
  });
});
