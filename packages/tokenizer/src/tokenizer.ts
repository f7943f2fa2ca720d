/**
 * The tokenizer: normalizer → pre-tokenizer → model → post-processor, plus added tokens,
 * truncation, padding and decoding, with HF `tokenizer.json` as its file format.
 *
 * Offsets are [start, end) positions in UTF-16 code units of the JS string that was encoded
 * (`text.slice(start, end)` gives the token's source text). HF's bindings report code points.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import { GrowableIntArray, PretrainError, writeFileAtomic, type DecodeOptions, type Encoding, type EncodeOptions, type SpecialTokenIds, type TokenizerPlugin } from '@pretrain/core/lite';
import { AddedToken, addedTokenFromJSON, addedTokenToJSON, AddedVocabulary } from './added-vocabulary';
import { toByteLevel } from './byte-level';
import { cleanUpTokenization, Decoder, decoderFromJSON } from './decoders';
import { Direction, Enc, padEncodings, PaddingOptions, truncateEncodings, TruncationOptions, TruncationStrategy } from './encoding';
import { expectArray, expectObject, JSONObject, TokenizerJSONError } from './json-path';
import { Model, modelFromJSON, WordTokens } from './models';
import { identity, Normalized, sliceNormalized } from './normalized';
import { Normalizer, normalizerFromJSON, Prepend } from './normalizers';
import { PostProcessor, postProcessorFromJSON, defaultProcess } from './post-processors';
import { PreTokenizer, preTokenizerFromJSON } from './pre-tokenizers';
import { toWellFormed } from './unicode';

export interface TokenizerParts {
  model: Model;
  normalizer?: Normalizer | null;
  preTokenizer?: PreTokenizer | null;
  postProcessor?: PostProcessor | null;
  decoder?: Decoder | null;
  addedTokens?: AddedToken[];
  truncation?: TruncationOptions | null;
  padding?: PaddingOptions | null;
}

export interface TokenizerEncodeOptions extends EncodeOptions {
  addSpecialTokens?: boolean;
}

const BYTE_LEVEL_CACHE_LIMIT = 200_000;
const prependSpace = new Prepend(' ');

export class Tokenizer implements TokenizerPlugin {
  model: Model;
  normalizer: Normalizer | null;
  preTokenizer: PreTokenizer | null;
  postProcessor: PostProcessor | null;
  decoder: Decoder | null;
  private added: AddedVocabulary;
  private truncation: Required<TruncationOptions> | null = null;
  private padding: PaddingOptions | null = null;
  private byteLevelCache = new Map<string, WordTokens>();
  /** encodeIds' id buffer, reused (encoding is synchronous and never re-entered): one per tokenizer, not per sentence. */
  private readonly idScratch = new GrowableIntArray(Int32Array);
  private cachedJSON: string | null = null;

  constructor(parts: TokenizerParts) {
    this.model = parts.model;
    this.normalizer = parts.normalizer ?? null;
    this.preTokenizer = parts.preTokenizer ?? null;
    this.postProcessor = parts.postProcessor ?? null;
    this.decoder = parts.decoder ?? null;
    this.added = new AddedVocabulary(parts.addedTokens ?? [], this.normalizeContent);
    if (parts.truncation) this.setTruncation(parts.truncation);
    if (parts.padding) this.setPadding(parts.padding);
  }

  // ---------------------------------------------------------------------------------------
  // Construction and files

  static fromJSON(json: string | JSONObject): Tokenizer {
    let root: JSONObject;
    if (typeof json === 'string') {
      try {
        root = JSON.parse(json);
      } catch (error) {
        throw new TokenizerJSONError('(root)', `not valid JSON: ${(error as Error).message}`);
      }
    } else root = json;
    root = expectObject(root, '(root)');
    if (!root.model) throw new TokenizerJSONError('model', 'missing');
    const tokenizer = new Tokenizer({
      model: modelFromJSON(root.model, 'model'),
      normalizer: root.normalizer ? normalizerFromJSON(root.normalizer, 'normalizer') : null,
      preTokenizer: root.pre_tokenizer ? preTokenizerFromJSON(root.pre_tokenizer, 'pre_tokenizer') : null,
      postProcessor: root.post_processor ? postProcessorFromJSON(root.post_processor, 'post_processor') : null,
      decoder: root.decoder ? decoderFromJSON(root.decoder, 'decoder') : null,
      addedTokens: expectArray(root.added_tokens ?? [], 'added_tokens').map((t, i) => addedTokenFromJSON(t, `added_tokens[${i}]`)),
      truncation: root.truncation ? truncationFromJSON(root.truncation) : null,
      padding: root.padding ? paddingFromJSON(root.padding) : null,
    });
    return tokenizer;
  }

  static fromFile(filePath: string): Tokenizer {
    let text: string;
    try {
      text = fs.readFileSync(filePath, 'utf8');
    } catch (error) {
      throw new PretrainError(`cannot read tokenizer file ${filePath}: ${(error as Error).message}`, { file: filePath });
    }
    try {
      return Tokenizer.fromJSON(text);
    } catch (error) {
      if (error instanceof PretrainError || error instanceof TokenizerJSONError) throw new PretrainError(`${filePath}: ${error.message}`, { ...error.details, file: filePath, cause: error });
      throw error;
    }
  }

  /** The tokenizer.json content as plain data (vocabularies as id-ordered Maps). */
  private toJSONData(): JSONObject {
    return {
      version: '1.0',
      truncation: this.truncation ? truncationToJSON(this.truncation) : null,
      padding: this.padding ? paddingToJSON(this.padding) : null,
      added_tokens: this.added.tokens.map(addedTokenToJSON),
      normalizer: this.normalizer?.toJSON() ?? null,
      pre_tokenizer: this.preTokenizer?.toJSON() ?? null,
      post_processor: this.postProcessor?.toJSON() ?? null,
      decoder: this.decoder?.toJSON() ?? null,
      model: this.model.toJSON(),
    };
  }

  /** The parsed tokenizer.json (note: JS objects put integer-like keys first; the text keeps id order). */
  toJSONObject(): JSONObject {
    return JSON.parse(this.toJSON());
  }

  /** HF `tokenizer.json` text, byte for byte what HF's `save(path)` writes. */
  toJSON(): string {
    this.cachedJSON ??= stringifyOrdered(this.toJSONData());
    return this.cachedJSON;
  }

  /** Writes tokenizer.json atomically (temp file + rename). */
  save(filePath: string, pretty = false): void {
    writeFileAtomic(filePath, pretty ? JSON.stringify(this.toJSONObject(), null, 2) : this.toJSON());
  }

  hash(): string {
    return createHash('sha256').update(this.toJSON()).digest('hex');
  }

  // ---------------------------------------------------------------------------------------
  // Settings

  setTruncation(options: TruncationOptions | null): this {
    this.cachedJSON = null;
    if (!options) {
      this.truncation = null;
      return this;
    }
    if (!Number.isInteger(options.maxLength) || options.maxLength < 0) throw new PretrainError(`truncation.maxLength must be a non-negative integer, got ${options.maxLength}`);
    this.truncation = { maxLength: options.maxLength, strategy: options.strategy ?? 'longest_first', stride: options.stride ?? 0, direction: options.direction ?? 'right' };
    return this;
  }

  setPadding(options: PaddingOptions | null): this {
    this.cachedJSON = null;
    if (!options) {
      this.padding = null;
      return this;
    }
    const padToken = options.padToken ?? (options.padId !== undefined ? this.idToToken(options.padId) : undefined) ?? '[PAD]';
    const padId = options.padId ?? this.tokenToId(padToken) ?? 0;
    const strategy = options.strategy ?? (options.maxLength !== undefined ? 'max_length' : 'longest');
    this.padding = { strategy, maxLength: options.maxLength, direction: options.direction ?? 'right', padToMultipleOf: options.padToMultipleOf, padId, padTypeId: options.padTypeId ?? 0, padToken };
    return this;
  }

  getTruncation(): Required<TruncationOptions> | null {
    return this.truncation;
  }

  getPadding(): PaddingOptions | null {
    return this.padding;
  }

  /** Adds tokens (special or not) that are matched before the model runs; returns how many were new. */
  addTokens(contents: string[], options: { special?: boolean; normalized?: boolean } = {}): number {
    this.cachedJSON = null;
    const special = options.special ?? false;
    const tokens = [...this.added.tokens];
    let added = 0;
    let nextId = Math.max(this.model.getVocabSize(), ...tokens.map((t) => t.id + 1));
    for (const content of contents) {
      if (this.added.get(content)) continue;
      const id = this.model.tokenToId(content) ?? nextId++;
      tokens.push({ id, content, singleWord: false, lstrip: false, rstrip: false, normalized: options.normalized ?? !special, special });
      added++;
    }
    this.added = new AddedVocabulary(tokens, this.normalizeContent);
    return added;
  }

  /** How `normalized: true` added tokens appear in normalized text. */
  private readonly normalizeContent = (content: string): string => (this.normalizer ? this.normalizer.normalize(identity(content)).text : content);

  addedTokens(): readonly AddedToken[] {
    return this.added.tokens;
  }

  // ---------------------------------------------------------------------------------------
  // Vocabulary

  tokenToId(token: string): number | undefined {
    return this.added.get(token)?.id ?? this.model.tokenToId(token);
  }

  idToToken(id: number): string | undefined {
    return this.added.getById(id)?.content ?? this.model.idToToken(id);
  }

  /** Largest id + 1 over the model's and the added tokens: the embedding rows a model needs for this tokenizer. */
  getVocabSize(): number {
    let size = this.model.getVocabSize();
    for (const t of this.added.tokens) size = Math.max(size, t.id + 1);
    return size;
  }

  getVocab(): Map<string, number> {
    const vocab = new Map(this.model.vocabEntries());
    for (const t of this.added.tokens) vocab.set(t.content, t.id);
    return vocab;
  }

  specialTokenIds(): SpecialTokenIds {
    const find = (...names: string[]) => {
      for (const name of names) {
        const t = this.added.get(name);
        if (t?.special) return t.id;
      }
      return undefined;
    };
    return {
      pad: find('[PAD]', '<pad>'),
      unk: find('[UNK]', '<unk>'),
      cls: find('[CLS]', '<s>'),
      sep: find('[SEP]', '</s>'),
      mask: find('[MASK]', '<mask>'),
      bos: find('<s>', '<|endoftext|>', '[CLS]'),
      eos: find('</s>', '<|endoftext|>', '[SEP]'),
    };
  }

  isContinuation(id: number): boolean {
    if (this.added.getById(id)) return false;
    return this.model.isContinuation(id);
  }

  // ---------------------------------------------------------------------------------------
  // Encoding

  encode(text: string, pair?: string | null, options: TokenizerEncodeOptions = {}): Encoding {
    const encoding = this.encodeToEnc(text, pair ?? null, options.addSpecialTokens ?? true);
    if (this.padding) padEncodings([encoding], this.padding);
    return encoding.toEncoding();
  }

  encodeBatch(inputs: (string | [string, string])[], options: TokenizerEncodeOptions = {}): Encoding[] {
    const addSpecialTokens = options.addSpecialTokens ?? true;
    const encodings = inputs.map((input) => (typeof input === 'string' ? this.encodeToEnc(input, null, addSpecialTokens) : this.encodeToEnc(input[0], input[1], addSpecialTokens)));
    if (this.padding) padEncodings(encodings, this.padding);
    return encodings.map((e) => e.toEncoding());
  }

  /**
   * Token ids of one text without special tokens, truncation or padding: the ids of
   * `encode(text, null, { addSpecialTokens: false })` on a tokenizer without truncation and padding,
   * through the same pipeline, but without building token strings, offsets, word ids or masks
   * (the corpus token cache needs only the ids).
   */
  encodeIds(text: string): Int32Array {
    const out = this.idScratch;
    out.clear();
    this.encodeSequence(text, 0, out);
    return out.toArray();
  }

  private encodeToEnc(text: string, pair: string | null, addSpecialTokens: boolean): Enc {
    const first = this.encodeSequence(text, 0, new Enc());
    const second = pair === null ? null : this.encodeSequence(pair, 1, new Enc());
    return this.postProcess(first, second, addSpecialTokens);
  }

  private postProcess(first: Enc, second: Enc | null, addSpecialTokens: boolean): Enc {
    if (this.truncation) {
      // HF first cuts each sequence to max_length on its own (nothing beyond it reaches the windows).
      first.cut(this.truncation.maxLength, this.truncation.direction);
      second?.cut(this.truncation.maxLength, this.truncation.direction);
      const added = addSpecialTokens && this.postProcessor ? this.postProcessor.addedTokens(second !== null) : 0;
      if (added > this.truncation.maxLength) throw new PretrainError(`truncation max_length ${this.truncation.maxLength} leaves no room for the ${added} special tokens`);
      truncateEncodings(first, second, { ...this.truncation, maxLength: this.truncation.maxLength - added });
    }
    const pieces = second ? [first, second] : [first];
    const processed = this.postProcessor ? this.postProcessor.processEncodings(pieces, addSpecialTokens) : defaultProcess(pieces);
    return Enc.mergeAll(processed);
  }

  private encodeSequence<T extends TokenSink>(rawText: string, typeId: number, enc: T): T {
    const text = toWellFormed(rawText);
    const words = { next: 0 };
    let at = 0;
    for (const m of this.added.find(text, false)) {
      if (m.start > at) this.encodeNormalizedPiece(text.slice(at, m.start), at, typeId, enc, words);
      pushAddedToken(enc, m.token, typeId, words.next++, m.start, m.end);
      at = m.end;
    }
    if (at < text.length) this.encodeNormalizedPiece(at === 0 ? text : text.slice(at), at, typeId, enc, words);
    return enc;
  }

  private encodeNormalizedPiece(piece: string, base: number, typeId: number, enc: TokenSink, words: { next: number }): void {
    const n = this.normalizer ? this.normalizer.normalize(identity(piece)) : identity(piece);
    let at = 0;
    for (const m of this.added.find(n.text, true)) {
      if (m.start > at) this.encodeRange(n, at, m.start, base, typeId, enc, words);
      const [s, e] = sourceOffsets(n, m.start, m.end);
      pushAddedToken(enc, m.token, typeId, words.next++, base + s, base + e);
      at = m.end;
    }
    if (at < n.text.length) this.encodeRange(n, at, n.text.length, base, typeId, enc, words);
  }

  private encodeRange(full: Normalized, start: number, end: number, base: number, typeId: number, enc: TokenSink, words: { next: number }): void {
    let n = full;
    const pre = this.preTokenizer;
    if (pre?.addPrefixSpace && full.text.charCodeAt(start) !== 32) {
      n = prependSpace.normalize(sliceNormalized(full, start, end));
      start = 0;
      end = n.text.length;
    }
    const splits: number[] = [];
    if (pre) pre.split(n.text, start, end, splits);
    else if (end > start) splits.push(start, end);
    const byteLevel = pre?.byteLevel ?? false;
    const { model } = this;
    for (let k = 0; k < splits.length; k += 2) {
      const s = splits[k];
      const e = splits[k + 1];
      if (e <= s) continue;
      const word = n.text.slice(s, e);
      const tokens = byteLevel ? this.byteLevelTokens(word) : model.tokenize(word);
      const wordId = words.next++;
      if (enc instanceof GrowableIntArray) {
        enc.pushAll(tokens.ids);
        continue;
      }
      const { ids, starts, ends } = tokens;
      for (let t = 0; t < ids.length; t++) {
        const id = ids[t];
        const token = model.idToToken(id)!;
        if (n.align === null) enc.push(id, token, typeId, wordId, base + s + starts[t], base + s + ends[t], 0);
        else enc.push(id, token, typeId, wordId, base + n.align[2 * (s + starts[t])], base + n.align[2 * (s + ends[t]) - 1], 0);
      }
    }
  }

  /** Byte-level words: model positions are bytes; they are mapped back to the word's UTF-16 units. */
  private byteLevelTokens(word: string): WordTokens {
    const cached = this.byteLevelCache.get(word);
    if (cached) return cached;
    const { chars, unitStart, unitEnd } = toByteLevel(word);
    const byBytes = this.model.tokenize(chars);
    let tokens = byBytes;
    if (unitStart && unitEnd) {
      const starts = new Int32Array(byBytes.ids.length);
      const ends = new Int32Array(byBytes.ids.length);
      for (let t = 0; t < byBytes.ids.length; t++) {
        starts[t] = unitStart[byBytes.starts[t]];
        ends[t] = unitEnd[byBytes.ends[t] - 1];
      }
      tokens = { ids: byBytes.ids, starts, ends };
    }
    if (this.byteLevelCache.size >= BYTE_LEVEL_CACHE_LIMIT) this.byteLevelCache = new Map();
    this.byteLevelCache.set(word, tokens);
    return tokens;
  }

  // ---------------------------------------------------------------------------------------
  // Decoding

  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    const tokens: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      const added = this.added.getById(id);
      if (added) {
        if (!(options.skipSpecialTokens && added.special)) tokens.push(added.content);
        continue;
      }
      const token = this.model.idToToken(id);
      if (token !== undefined) tokens.push(token);
    }
    const text = this.decoder ? this.decoder.decodeChain(tokens).join('') : tokens.join(' ');
    return options.cleanUpTokenizationSpaces ? cleanUpTokenization(text) : text;
  }

  decodeBatch(batch: ArrayLike<number>[], options: DecodeOptions = {}): string[] {
    return batch.map((ids) => this.decode(ids, options));
  }
}

/** JSON.stringify that writes Maps as objects in insertion order (vocabularies sorted by id, like HF). */
function stringifyOrdered(value: unknown): string {
  if (value instanceof Map) return `{${[...value].map(([k, v]) => `${JSON.stringify(k)}:${stringifyOrdered(v)}`).join(',')}}`;
  if (Array.isArray(value)) return `[${value.map((v) => stringifyOrdered(v)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${JSON.stringify(k)}:${stringifyOrdered(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Where the pipeline writes tokens: a full Enc, or only the ids (encodeIds). */
type TokenSink = Enc | GrowableIntArray;

function pushAddedToken(enc: TokenSink, token: AddedToken, typeId: number, word: number, start: number, end: number): void {
  if (enc instanceof GrowableIntArray) enc.push(token.id);
  else enc.push(token.id, token.content, typeId, word, start, end, 0);
}

function sourceOffsets(n: Normalized, start: number, end: number): [number, number] {
  if (!n.align) return [start, end];
  return [n.align[2 * start], n.align[2 * end - 1]];
}

// -----------------------------------------------------------------------------------------
// Truncation / padding JSON (HF's serde layout)

const STRATEGY_TO_JSON: Record<TruncationStrategy, string> = { longest_first: 'LongestFirst', only_first: 'OnlyFirst', only_second: 'OnlySecond' };
const DIRECTION_TO_JSON: Record<Direction, string> = { right: 'Right', left: 'Left' };

function truncationToJSON(t: Required<TruncationOptions>): JSONObject {
  return { direction: DIRECTION_TO_JSON[t.direction], max_length: t.maxLength, strategy: STRATEGY_TO_JSON[t.strategy], stride: t.stride };
}

function directionFromJSON(value: unknown, jsonPath: string): Direction {
  if (value === undefined || value === 'Right') return 'right';
  if (value === 'Left') return 'left';
  throw new TokenizerJSONError(jsonPath, `expected "Left" or "Right", got ${JSON.stringify(value)}`);
}

function truncationFromJSON(value: unknown): TruncationOptions {
  const obj = expectObject(value, 'truncation');
  const strategy = Object.entries(STRATEGY_TO_JSON).find(([, v]) => v === (obj.strategy ?? 'LongestFirst'))?.[0] as TruncationStrategy | undefined;
  if (!strategy) throw new TokenizerJSONError('truncation.strategy', `unknown strategy ${JSON.stringify(obj.strategy)}`);
  if (typeof obj.max_length !== 'number') throw new TokenizerJSONError('truncation.max_length', 'expected a number');
  return { maxLength: obj.max_length, strategy, stride: obj.stride ?? 0, direction: directionFromJSON(obj.direction, 'truncation.direction') };
}

function paddingToJSON(p: PaddingOptions): JSONObject {
  return {
    strategy: p.strategy === 'max_length' ? { Fixed: p.maxLength ?? 0 } : 'BatchLongest',
    direction: DIRECTION_TO_JSON[p.direction ?? 'right'],
    pad_to_multiple_of: p.padToMultipleOf ?? null,
    pad_id: p.padId ?? 0,
    pad_type_id: p.padTypeId ?? 0,
    pad_token: p.padToken ?? '[PAD]',
  };
}

function paddingFromJSON(value: unknown): PaddingOptions {
  const obj = expectObject(value, 'padding');
  const fixed = typeof obj.strategy === 'object' && obj.strategy !== null ? obj.strategy.Fixed : undefined;
  if (obj.strategy !== 'BatchLongest' && typeof fixed !== 'number') throw new TokenizerJSONError('padding.strategy', `expected "BatchLongest" or {"Fixed": n}, got ${JSON.stringify(obj.strategy)}`);
  return {
    strategy: fixed !== undefined ? 'max_length' : 'longest',
    maxLength: fixed,
    direction: directionFromJSON(obj.direction, 'padding.direction'),
    padToMultipleOf: obj.pad_to_multiple_of ?? undefined,
    padId: obj.pad_id ?? 0,
    padTypeId: obj.pad_type_id ?? 0,
    padToken: obj.pad_token ?? '[PAD]',
  };
}

/** What the corpus package's worker threads call: `require('@pretrain/tokenizer').fromTokenizerJSON(text)`. */
export function fromTokenizerJSON(json: string): Tokenizer {
  return Tokenizer.fromJSON(json);
}
