/**
 * Models turn one word into token ids. Results are cached per word: natural text repeats words
 * a lot, so most words cost one Map lookup. Token positions are [start, end) in the units of the
 * word string the model was given.
 */
import { PretrainError } from '@pretrain/core/lite';
import { PieceTrie } from './piece-trie';
import { checkTokenId, expectArray, expectObject, expectType, JSONObject, optBool, optNumber, optString, TokenizerJSONError, unknownType } from './json-path';

export interface WordTokens {
  ids: Int32Array;
  starts: Int32Array;
  ends: Int32Array;
}

export interface Model {
  readonly type: string;
  tokenize(word: string): WordTokens;
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
  /** Largest id + 1 (not the entry count: ids may have gaps). */
  getVocabSize(): number;
  /** Vocabulary as [token, id] pairs sorted by id. */
  vocabEntries(): [string, number][];
  /** True for ids of tokens that continue a word (WordPiece `##` pieces). */
  isContinuation(id: number): boolean;
  toJSON(): JSONObject;
}

const CACHE_LIMIT = 200_000;

/** A bounded word cache: cleared when full, which keeps memory flat on endless streams. */
class WordCache {
  private map = new Map<string, WordTokens>();
  get(word: string): WordTokens | undefined {
    return this.map.get(word);
  }
  set(word: string, tokens: WordTokens): void {
    if (this.map.size >= CACHE_LIMIT) this.map = new Map();
    this.map.set(word, tokens);
  }
}

export class MissingUnkError extends PretrainError {
  constructor(model: string, word: string, detail: string) {
    super(`${model}: cannot encode ${JSON.stringify(word)} (${detail}) and the model defines no unknown token`);
    this.name = 'MissingUnkError';
  }
}

function vocabFromObject(value: unknown, jsonPath: string): Map<string, number> {
  const obj = expectObject(value, jsonPath);
  const vocab = new Map<string, number>();
  const tokenOf = new Map<number, string>();
  for (const [token, id] of Object.entries(obj)) {
    const where = `${jsonPath}[${JSON.stringify(token)}]`;
    checkTokenId(id, where);
    const other = tokenOf.get(id as number);
    if (other !== undefined) throw new TokenizerJSONError(where, `id ${id} is also the id of ${JSON.stringify(other)} (each id must name one token)`);
    tokenOf.set(id as number, token);
    vocab.set(token, id as number);
  }
  return vocab;
}

function reverseVocab(vocab: Map<string, number>): string[] {
  const out: string[] = [];
  for (const [token, id] of vocab) out[id] = token;
  return out;
}

function sortedEntries(vocab: Map<string, number>): [string, number][] {
  return [...vocab.entries()].sort((a, b) => a[1] - b[1]);
}

/** Vocabulary sorted by id, as a Map so serialization keeps that order (HF writes it so). */
function vocabObject(vocab: Map<string, number>): Map<string, number> {
  return new Map(sortedEntries(vocab));
}

export interface WordPieceOptions {
  unkToken?: string;
  continuingSubwordPrefix?: string;
  maxInputCharsPerWord?: number;
}

export class WordPiece implements Model {
  readonly type = 'WordPiece';
  readonly unkToken: string;
  readonly prefix: string;
  readonly maxInputCharsPerWord: number;
  private readonly idToTokenArr: string[];
  private readonly trie: PieceTrie;
  /** Trie node after the continuing-subword prefix: continuation pieces are walked from here (-1: none). */
  private readonly continuationRoot: number;
  private readonly cache = new WordCache();
  /** Scratch for the pieces of the word being split (grown to the longest word seen). */
  private pieceIds = new Int32Array(32);
  private pieceEnds = new Int32Array(32);
  /** Tokens of the words that are one whole piece, by trie node, made once (results are shared and never written to). */
  private readonly wholeWordTokens: (WordTokens | undefined)[];
  /** [n] for small n, shared the same way (every one-piece word starts at 0 and ends at its length). */
  private readonly oneElementArrays: Int32Array[] = [];

  constructor(
    readonly vocab: Map<string, number>,
    options: WordPieceOptions = {},
  ) {
    this.unkToken = options.unkToken ?? '[UNK]';
    this.prefix = options.continuingSubwordPrefix ?? '##';
    this.maxInputCharsPerWord = options.maxInputCharsPerWord ?? 100;
    this.idToTokenArr = reverseVocab(vocab);
    this.trie = new PieceTrie(vocab);
    this.continuationRoot = this.trie.walk(this.prefix);
    this.wholeWordTokens = new Array<WordTokens | undefined>(this.trie.nodeCount).fill(undefined);
  }

  tokenize(word: string): WordTokens {
    // Most words are one vocabulary piece: one trie walk finds those sooner than the word cache would.
    const whole = this.wholeWordNode(word);
    if (whole >= 0) return (this.wholeWordTokens[whole] ??= { ids: Int32Array.of(this.trie.pieceId(whole)), starts: this.oneElement(0), ends: this.oneElement(word.length) });
    const cached = this.cache.get(word);
    if (cached) return cached;
    const tokens = this.tokenizeUncached(word);
    this.cache.set(word, tokens);
    return tokens;
  }

  /** Greedy longest match, left to right (of at least two pieces: tokenize() caught whole-word pieces); one unmatched position makes the whole word unknown. */
  private tokenizeUncached(word: string): WordTokens {
    if (countCodePoints(word) > this.maxInputCharsPerWord) return this.unknownWord(word, `longer than max_input_chars_per_word=${this.maxInputCharsPerWord}`);
    if (this.pieceIds.length < word.length) {
      this.pieceIds = new Int32Array(word.length);
      this.pieceEnds = new Int32Array(word.length);
    }
    let count = 0;
    for (let start = 0; start < word.length; count++) {
      const node = this.longestPieceAt(word, start);
      if (node < 0) return this.unknownWord(word, `no vocabulary piece matches at position ${start}`);
      this.pieceIds[count] = this.trie.pieceId(node);
      start += this.trie.depth(node) - (start > 0 ? this.prefix.length : 0);
      this.pieceEnds[count] = start;
    }
    const starts = new Int32Array(count);
    for (let k = 1; k < count; k++) starts[k] = this.pieceEnds[k - 1];
    return { ids: this.pieceIds.slice(0, count), starts, ends: this.pieceEnds.slice(0, count) };
  }

  private oneElement(n: number): Int32Array {
    if (n >= 64) return Int32Array.of(n);
    return (this.oneElementArrays[n] ??= Int32Array.of(n));
  }

  /** Trie node of `word` when the whole word is one vocabulary piece within the length limit, else -1. */
  private wholeWordNode(word: string): number {
    if (word.length === 0 || (word.length > this.maxInputCharsPerWord && countCodePoints(word) > this.maxInputCharsPerWord)) return -1;
    const node = this.trie.walk(word);
    return node >= 0 && this.trie.pieceId(node) >= 0 ? node : -1;
  }

  /**
   * Trie node of the longest vocabulary piece starting at `start` (a continuation piece, prefix
   * included, past the first position), or -1. Pieces end on code point boundaries only: a
   * surrogate pair is never split.
   */
  private longestPieceAt(word: string, start: number): number {
    let node = start === 0 ? this.trie.root : this.continuationRoot;
    let best = -1;
    for (let i = start; node >= 0 && i < word.length; ) {
      node = this.trie.child(node, word.charCodeAt(i++));
      if (node >= 0 && this.trie.pieceId(node) >= 0 && !(i < word.length && isHighSurrogate(word.charCodeAt(i - 1)) && isLowSurrogate(word.charCodeAt(i)))) best = node;
    }
    return best;
  }

  private unknownWord(word: string, why: string): WordTokens {
    const unk = this.vocab.get(this.unkToken);
    if (unk === undefined) throw new MissingUnkError('WordPiece', word, why);
    return { ids: Int32Array.of(unk), starts: Int32Array.of(0), ends: Int32Array.of(word.length) };
  }

  tokenToId(token: string): number | undefined {
    return this.vocab.get(token);
  }
  idToToken(id: number): string | undefined {
    return this.idToTokenArr[id];
  }
  /** Largest id + 1: the embedding rows the vocabulary needs (ids may have gaps). */
  getVocabSize(): number {
    return this.idToTokenArr.length;
  }
  vocabEntries(): [string, number][] {
    return sortedEntries(this.vocab);
  }
  isContinuation(id: number): boolean {
    const token = this.idToTokenArr[id];
    return token !== undefined && this.prefix.length > 0 && token.startsWith(this.prefix);
  }

  toJSON(): JSONObject {
    return { type: 'WordPiece', unk_token: this.unkToken, continuing_subword_prefix: this.prefix, max_input_chars_per_word: this.maxInputCharsPerWord, vocab: vocabObject(this.vocab) };
  }

  static fromJSON(obj: JSONObject, jsonPath: string): WordPiece {
    return new WordPiece(vocabFromObject(obj.vocab, `${jsonPath}.vocab`), {
      unkToken: optString(obj, 'unk_token', jsonPath, '[UNK]'),
      continuingSubwordPrefix: optString(obj, 'continuing_subword_prefix', jsonPath, '##'),
      maxInputCharsPerWord: optNumber(obj, 'max_input_chars_per_word', jsonPath, 100),
    });
  }
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}
function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

function countCodePoints(word: string): number {
  let n = word.length;
  for (let i = 0; i < word.length; i++) if (isHighSurrogate(word.charCodeAt(i)) && isLowSurrogate(word.charCodeAt(i + 1))) n--;
  return n;
}

export interface BPEOptions {
  unkToken?: string | null;
  continuingSubwordPrefix?: string | null;
  endOfWordSuffix?: string | null;
  fuseUnk?: boolean;
  byteFallback?: boolean;
  ignoreMerges?: boolean;
}

interface MergeRule {
  rank: number;
  id: number;
}

/** Byte-pair encoding; with a byte-level pre-tokenizer this is GPT-2's tokenizer. */
export class BPE implements Model {
  readonly type = 'BPE';
  readonly unkToken: string | null;
  readonly prefix: string | null;
  readonly suffix: string | null;
  readonly fuseUnk: boolean;
  readonly byteFallback: boolean;
  readonly ignoreMerges: boolean;
  /** As written in the file (HF keeps "" and null apart when saving). */
  private readonly rawPrefix: string | null;
  private readonly rawSuffix: string | null;
  private readonly idToTokenArr: string[];
  /** mergeRules[left id].get(right id) → merge rank and result id (small-integer keys hash fast). */
  private readonly mergeRules: (Map<number, MergeRule> | undefined)[] = [];
  private readonly cache = new WordCache();

  constructor(
    readonly vocab: Map<string, number>,
    readonly merges: [string, string][],
    options: BPEOptions = {},
  ) {
    this.unkToken = options.unkToken ?? null;
    this.prefix = options.continuingSubwordPrefix || null;
    this.suffix = options.endOfWordSuffix || null;
    this.fuseUnk = options.fuseUnk ?? false;
    this.byteFallback = options.byteFallback ?? false;
    this.ignoreMerges = options.ignoreMerges ?? false;
    this.rawPrefix = options.continuingSubwordPrefix ?? null;
    this.rawSuffix = options.endOfWordSuffix ?? null;
    this.idToTokenArr = reverseVocab(vocab);
    this.buildMergeRules();
  }

  private buildMergeRules(): void {
    const prefixLength = this.prefix?.length ?? 0;
    this.merges.forEach(([a, b], rank) => {
      const left = this.vocab.get(a);
      const right = this.vocab.get(b);
      const merged = this.vocab.get(a + (prefixLength > 0 && b.startsWith(this.prefix!) ? b.slice(prefixLength) : b));
      if (left === undefined || right === undefined || merged === undefined) {
        throw new TokenizerJSONError(`model.merges[${rank}]`, `merge ${JSON.stringify(`${a} ${b}`)} uses a token missing from the vocabulary`);
      }
      let rules = this.mergeRules[left];
      if (!rules) this.mergeRules[left] = rules = new Map();
      if (!rules.has(right)) rules.set(right, { rank, id: merged });
    });
  }

  tokenize(word: string): WordTokens {
    const cached = this.cache.get(word);
    if (cached) return cached;
    const tokens = this.tokenizeUncached(word);
    this.cache.set(word, tokens);
    return tokens;
  }

  private tokenizeUncached(word: string): WordTokens {
    if (this.ignoreMerges) {
      const whole = this.vocab.get(word);
      if (whole !== undefined) return { ids: Int32Array.of(whole), starts: Int32Array.of(0), ends: Int32Array.of(word.length) };
    }
    const ids: number[] = [];
    const starts: number[] = [];
    const ends: number[] = [];
    this.initialSymbols(word, ids, starts, ends);
    this.applyMerges(ids, starts, ends);
    return { ids: Int32Array.from(ids), starts: Int32Array.from(starts), ends: Int32Array.from(ends) };
  }

  private initialSymbols(word: string, ids: number[], starts: number[], ends: number[]): void {
    let lastWasUnk = false;
    for (let i = 0; i < word.length; ) {
      const width = isHighSurrogate(word.charCodeAt(i)) && isLowSurrogate(word.charCodeAt(i + 1)) ? 2 : 1;
      let symbol = word.slice(i, i + width);
      if (i > 0 && this.prefix) symbol = this.prefix + symbol;
      if (i + width === word.length && this.suffix) symbol += this.suffix;
      const id = this.vocab.get(symbol);
      if (id !== undefined) {
        ids.push(id);
        starts.push(i);
        ends.push(i + width);
        lastWasUnk = false;
      } else if (this.byteFallback && this.pushByteFallback(word.slice(i, i + width), i, width, ids, starts, ends)) {
        lastWasUnk = false;
      } else {
        const unk = this.unkToken === null ? undefined : this.vocab.get(this.unkToken);
        if (unk === undefined) throw new MissingUnkError('BPE', word, `character ${JSON.stringify(word.slice(i, i + width))} is not in the vocabulary`);
        if (this.fuseUnk && lastWasUnk) ends[ends.length - 1] = i + width;
        else {
          ids.push(unk);
          starts.push(i);
          ends.push(i + width);
        }
        lastWasUnk = true;
      }
      i += width;
    }
  }

  private pushByteFallback(ch: string, at: number, width: number, ids: number[], starts: number[], ends: number[]): boolean {
    const bytes = Buffer.from(ch, 'utf8');
    const byteIds: number[] = [];
    for (const b of bytes) {
      const id = this.vocab.get(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
      if (id === undefined) return false;
      byteIds.push(id);
    }
    for (const id of byteIds) {
      ids.push(id);
      starts.push(at);
      ends.push(at + width);
    }
    return true;
  }

  /** Repeatedly merges the adjacent pair with the lowest rank (leftmost on ties), like HF. */
  private applyMerges(ids: number[], starts: number[], ends: number[]): void {
    for (;;) {
      let bestRank = Infinity;
      let bestAt = -1;
      let bestId = -1;
      for (let k = 0; k + 1 < ids.length; k++) {
        const rule = this.mergeRules[ids[k]]?.get(ids[k + 1]);
        if (rule !== undefined && rule.rank < bestRank) {
          bestRank = rule.rank;
          bestAt = k;
          bestId = rule.id;
        }
      }
      if (bestAt < 0) return;
      ids[bestAt] = bestId;
      ends[bestAt] = ends[bestAt + 1];
      ids.splice(bestAt + 1, 1);
      starts.splice(bestAt + 1, 1);
      ends.splice(bestAt + 1, 1);
    }
  }

  tokenToId(token: string): number | undefined {
    return this.vocab.get(token);
  }
  idToToken(id: number): string | undefined {
    return this.idToTokenArr[id];
  }
  /** Largest id + 1: the embedding rows the vocabulary needs (ids may have gaps). */
  getVocabSize(): number {
    return this.idToTokenArr.length;
  }
  vocabEntries(): [string, number][] {
    return sortedEntries(this.vocab);
  }
  isContinuation(id: number): boolean {
    const token = this.idToTokenArr[id];
    if (token === undefined) return false;
    if (this.prefix) return token.startsWith(this.prefix);
    return !token.startsWith('\u0120');
  }

  toJSON(): JSONObject {
    const json: JSONObject = {
      type: 'BPE',
      dropout: null,
      unk_token: this.unkToken,
      continuing_subword_prefix: this.rawPrefix,
      end_of_word_suffix: this.rawSuffix,
      fuse_unk: this.fuseUnk,
      byte_fallback: this.byteFallback,
      ignore_merges: this.ignoreMerges,
      vocab: vocabObject(this.vocab),
      merges: this.merges.map(([a, b]) => [a, b]),
    };
    return json;
  }

  static fromJSON(obj: JSONObject, jsonPath: string): BPE {
    if (obj.dropout !== null && obj.dropout !== undefined) throw new TokenizerJSONError(`${jsonPath}.dropout`, 'BPE dropout is not supported (encoding must be deterministic)');
    const rawMerges = expectArray(obj.merges ?? [], `${jsonPath}.merges`);
    const merges = rawMerges.map((m, i) => parseMerge(m, `${jsonPath}.merges[${i}]`));
    return new BPE(vocabFromObject(obj.vocab, `${jsonPath}.vocab`), merges, {
      unkToken: obj.unk_token ?? null,
      continuingSubwordPrefix: obj.continuing_subword_prefix ?? null,
      endOfWordSuffix: obj.end_of_word_suffix ?? null,
      fuseUnk: optBool(obj, 'fuse_unk', jsonPath, false),
      byteFallback: optBool(obj, 'byte_fallback', jsonPath, false),
      ignoreMerges: optBool(obj, 'ignore_merges', jsonPath, false),
    });
  }
}

function parseMerge(m: unknown, jsonPath: string): [string, string] {
  if (typeof m === 'string') {
    const space = m.indexOf(' ', 1);
    if (space < 0) throw new TokenizerJSONError(jsonPath, `expected "left right", got ${JSON.stringify(m)}`);
    return [m.slice(0, space), m.slice(space + 1)];
  }
  if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string') return [m[0], m[1]];
  throw new TokenizerJSONError(jsonPath, `expected a merge pair, got ${JSON.stringify(m)}`);
}

/** A character-level model (HF `WordLevel` over single characters works the same way). */
export class WordLevel implements Model {
  readonly type = 'WordLevel';
  private readonly idToTokenArr: string[];
  constructor(
    readonly vocab: Map<string, number>,
    readonly unkToken: string = '[UNK]',
  ) {
    this.idToTokenArr = reverseVocab(vocab);
  }
  tokenize(word: string): WordTokens {
    const id = this.vocab.get(word) ?? this.vocab.get(this.unkToken);
    if (id === undefined) throw new MissingUnkError('WordLevel', word, 'not in the vocabulary');
    return { ids: Int32Array.of(id), starts: Int32Array.of(0), ends: Int32Array.of(word.length) };
  }
  tokenToId(token: string): number | undefined {
    return this.vocab.get(token);
  }
  idToToken(id: number): string | undefined {
    return this.idToTokenArr[id];
  }
  /** Largest id + 1: the embedding rows the vocabulary needs (ids may have gaps). */
  getVocabSize(): number {
    return this.idToTokenArr.length;
  }
  vocabEntries(): [string, number][] {
    return sortedEntries(this.vocab);
  }
  isContinuation(): boolean {
    return false;
  }
  toJSON(): JSONObject {
    return { type: 'WordLevel', vocab: vocabObject(this.vocab), unk_token: this.unkToken };
  }
  static fromJSON(obj: JSONObject, jsonPath: string): WordLevel {
    return new WordLevel(vocabFromObject(obj.vocab, `${jsonPath}.vocab`), optString(obj, 'unk_token', jsonPath, '[UNK]'));
  }
}

const MODEL_TYPES = ['WordPiece', 'BPE', 'WordLevel'];

export function modelFromJSON(value: unknown, jsonPath: string): Model {
  const { obj, type } = expectType(value, jsonPath);
  switch (type) {
    case 'WordPiece':
      return WordPiece.fromJSON(obj, jsonPath);
    case 'BPE':
      return BPE.fromJSON(obj, jsonPath);
    case 'WordLevel':
      return WordLevel.fromJSON(obj, jsonPath);
    default:
      return unknownType(jsonPath, type, MODEL_TYPES);
  }
}
