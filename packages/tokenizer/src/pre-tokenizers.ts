/**
 * Pre-tokenizers: split normalized text into words. A split is a [start, end) range of the
 * normalized text; splits are written flat into `out` (start0, end0, start1, end1, ...), so the
 * hot path allocates no objects per word.
 */
import safeRegex from 'safe-regex2';
import { expectArray, expectType, JSONObject, optBool, optString, TokenizerJSONError, unknownType } from './json-path';
import { charFlags, LETTER, NUMBER, PUNCTUATION, WHITESPACE, WORD } from './unicode';

export interface PreTokenizer {
  /** Appends the splits of text[start, end) to `out`. */
  split(text: string, start: number, end: number, out: number[]): void;
  /** True when words must be mapped to GPT-2's byte-level alphabet before the model. */
  readonly byteLevel: boolean;
  /** Byte-level only: prepend a space to a piece that does not start with one. */
  readonly addPrefixSpace: boolean;
  toJSON(): JSONObject;
}

/** Flags of the code point at i (surrogate pairs decoded). */
function flagsAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c < 0xd800 || c > 0xdbff) return charFlags(c);
  return charFlags(text.codePointAt(i)!);
}

function widthAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  return c >= 0xd800 && c <= 0xdbff && i + 1 < text.length ? 2 : 1;
}

/** BERT: whitespace separates words and is dropped; each punctuation character is its own word. */
export class BertPreTokenizer implements PreTokenizer {
  readonly byteLevel = false;
  readonly addPrefixSpace = false;

  split(text: string, start: number, end: number, out: number[]): void {
    let wordStart = -1;
    for (let i = start; i < end; ) {
      const f = flagsAt(text, i);
      const w = widthAt(text, i);
      if (f & WHITESPACE) {
        if (wordStart >= 0) out.push(wordStart, i);
        wordStart = -1;
      } else if (f & PUNCTUATION) {
        if (wordStart >= 0) out.push(wordStart, i);
        out.push(i, i + w);
        wordStart = -1;
      } else if (wordStart < 0) {
        wordStart = i;
      }
      i += w;
    }
    if (wordStart >= 0) out.push(wordStart, end);
  }

  toJSON(): JSONObject {
    return { type: 'BertPreTokenizer' };
  }
}

/** HF `Whitespace`: the regex `\w+|[^\w\s]+`. */
export class WhitespacePreTokenizer implements PreTokenizer {
  readonly byteLevel = false;
  readonly addPrefixSpace = false;

  split(text: string, start: number, end: number, out: number[]): void {
    let runStart = -1;
    let runKind = 0;
    for (let i = start; i < end; ) {
      const f = flagsAt(text, i);
      const kind = f & WORD ? 1 : f & WHITESPACE ? 0 : 2;
      if (kind !== runKind) {
        if (runStart >= 0 && runKind !== 0) out.push(runStart, i);
        runStart = i;
        runKind = kind;
      }
      i += widthAt(text, i);
    }
    if (runStart >= 0 && runKind !== 0) out.push(runStart, end);
  }

  toJSON(): JSONObject {
    return { type: 'Whitespace' };
  }
}

/** HF `WhitespaceSplit`: split on whitespace only. */
export class WhitespaceSplitPreTokenizer implements PreTokenizer {
  readonly byteLevel = false;
  readonly addPrefixSpace = false;

  split(text: string, start: number, end: number, out: number[]): void {
    let wordStart = -1;
    for (let i = start; i < end; i++) {
      if (charFlags(text.charCodeAt(i)) & WHITESPACE) {
        if (wordStart >= 0) out.push(wordStart, i);
        wordStart = -1;
      } else if (wordStart < 0) wordStart = i;
    }
    if (wordStart >= 0) out.push(wordStart, end);
  }

  toJSON(): JSONObject {
    return { type: 'WhitespaceSplit' };
  }
}

/**
 * GPT-2's byte-level pre-tokenizer. With `useRegex` it splits with GPT-2's pattern
 * `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`, implemented as a
 * hand-written scanner (same matches, no regex engine on the hot path).
 */
export class ByteLevelPreTokenizer implements PreTokenizer {
  readonly byteLevel = true;

  constructor(
    readonly addPrefixSpace = false,
    readonly trimOffsets = true,
    readonly useRegex = true,
  ) {}

  split(text: string, start: number, end: number, out: number[]): void {
    if (!this.useRegex) {
      if (end > start) out.push(start, end);
      return;
    }
    gpt2Split(text, start, end, out);
  }

  toJSON(): JSONObject {
    return { type: 'ByteLevel', add_prefix_space: this.addPrefixSpace, trim_offsets: this.trimOffsets, use_regex: this.useRegex };
  }
}

const APOSTROPHE = 39;

function contractionLength(text: string, i: number, end: number): number {
  if (i + 1 >= end) return 0;
  const c1 = text.charCodeAt(i + 1);
  if (c1 === 115 || c1 === 116 || c1 === 109 || c1 === 100) return 2; // 's 't 'm 'd
  if (i + 2 >= end) return 0;
  const c2 = text.charCodeAt(i + 2);
  if ((c1 === 114 && c2 === 101) || (c1 === 118 && c2 === 101) || (c1 === 108 && c2 === 108)) return 3; // 're 've 'll
  return 0;
}

const LETTER_CLASS = 1;
const NUMBER_CLASS = 2;
const OTHER_CLASS = 3;
const SPACE_CLASS = 0;

function classAt(text: string, i: number): number {
  const f = flagsAt(text, i);
  if (f & WHITESPACE) return SPACE_CLASS;
  if (f & LETTER) return LETTER_CLASS;
  if (f & NUMBER) return NUMBER_CLASS;
  return OTHER_CLASS;
}

export function gpt2Split(text: string, start: number, end: number, out: number[]): void {
  let i = start;
  while (i < end) {
    if (text.charCodeAt(i) === APOSTROPHE) {
      const n = contractionLength(text, i, end);
      if (n > 0) {
        out.push(i, i + n);
        i += n;
        continue;
      }
    }
    let j = i;
    if (text.charCodeAt(j) === 32 && j + 1 < end && classAt(text, j + 1) !== SPACE_CLASS) j++;
    const cls = classAt(text, j);
    if (cls !== SPACE_CLASS) {
      j += widthAt(text, j);
      while (j < end && classAt(text, j) === cls) j += widthAt(text, j);
      out.push(i, j);
      i = j;
      continue;
    }
    // Whitespace run: `\s+(?!\S)` leaves the last whitespace unit for the next word.
    let k = i;
    while (k < end && classAt(text, k) === SPACE_CLASS) k++;
    const stop = k === end || k - i === 1 ? k : k - 1;
    out.push(i, stop);
    i = stop;
  }
}

export type SplitBehavior = 'Removed' | 'Isolated' | 'MergedWithPrevious' | 'MergedWithNext' | 'Contiguous';

/** HF `Split` (string or regex pattern) and `Punctuation` share this splitting logic. */
export class SplitPreTokenizer implements PreTokenizer {
  readonly byteLevel = false;
  readonly addPrefixSpace = false;
  private readonly regex: RegExp;

  constructor(
    readonly pattern: { String: string } | { Regex: string },
    readonly behavior: SplitBehavior,
    readonly invert = false,
  ) {
    const source = 'String' in pattern ? pattern.String.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : pattern.Regex;
    this.regex = new RegExp(source, 'gu');
    // JavaScript regexes backtrack: a nested quantifier such as (a+)+$ takes exponential time on a
    // few dozen characters, and tokenizer.json is data, so such patterns are refused up front.
    if (!safeRegex(this.regex, { limit: 200 })) throw new Error(`the pattern ${JSON.stringify(source)} has nested quantifiers (star height > 1) and can take exponential time; Pretrain refuses such patterns`);
  }

  split(text: string, start: number, end: number, out: number[]): void {
    const matches: number[] = [];
    const piece = text.slice(start, end);
    this.regex.lastIndex = 0;
    for (let m = this.regex.exec(piece); m; m = this.regex.exec(piece)) {
      if (m[0].length === 0) {
        this.regex.lastIndex++;
        continue;
      }
      matches.push(start + m.index, start + m.index + m[0].length);
    }
    splitByMatches(start, end, this.invert ? invertRanges(matches, start, end) : matches, this.behavior, out);
  }

  toJSON(): JSONObject {
    return { type: 'Split', pattern: this.pattern, behavior: this.behavior, invert: this.invert };
  }
}

function invertRanges(matches: number[], start: number, end: number): number[] {
  const inverted: number[] = [];
  let at = start;
  for (let k = 0; k < matches.length; k += 2) {
    if (matches[k] > at) inverted.push(at, matches[k]);
    at = matches[k + 1];
  }
  if (at < end) inverted.push(at, end);
  return inverted;
}

/** Applies HF's SplitDelimiterBehavior to the delimiter ranges `matches` inside [start, end). */
function splitByMatches(start: number, end: number, matches: number[], behavior: SplitBehavior, out: number[]): void {
  const pieces: [number, number, boolean][] = [];
  let at = start;
  for (let k = 0; k < matches.length; k += 2) {
    if (matches[k] > at) pieces.push([at, matches[k], false]);
    pieces.push([matches[k], matches[k + 1], true]);
    at = matches[k + 1];
  }
  if (at < end) pieces.push([at, end, false]);
  const merged: [number, number][] = [];
  for (let p = 0; p < pieces.length; p++) {
    const [s, e, isMatch] = pieces[p];
    if (behavior === 'Removed' && isMatch) continue;
    if (behavior === 'MergedWithPrevious' && isMatch && merged.length > 0 && !pieces[p - 1][2]) merged[merged.length - 1][1] = e;
    else if (behavior === 'MergedWithNext' && isMatch && p + 1 < pieces.length && !pieces[p + 1][2]) {
      merged.push([s, pieces[p + 1][1]]);
      p++;
    } else if (behavior === 'Contiguous' && isMatch && p > 0 && pieces[p - 1][2] && merged.length > 0) merged[merged.length - 1][1] = e;
    else merged.push([s, e]);
  }
  for (const [s, e] of merged) out.push(s, e);
}

/** HF `Punctuation`: each punctuation character is a delimiter. */
export class PunctuationPreTokenizer implements PreTokenizer {
  readonly byteLevel = false;
  readonly addPrefixSpace = false;
  constructor(readonly behavior: SplitBehavior = 'Isolated') {}

  split(text: string, start: number, end: number, out: number[]): void {
    const matches: number[] = [];
    for (let i = start; i < end; ) {
      const w = widthAt(text, i);
      if (flagsAt(text, i) & PUNCTUATION) matches.push(i, i + w);
      i += w;
    }
    splitByMatches(start, end, matches, this.behavior, out);
  }

  toJSON(): JSONObject {
    return { type: 'Punctuation', behavior: this.behavior };
  }
}

/** HF `Digits`: digits are split from the rest (each digit alone with `individualDigits`). */
export class DigitsPreTokenizer implements PreTokenizer {
  readonly byteLevel = false;
  readonly addPrefixSpace = false;
  constructor(readonly individualDigits = false) {}

  split(text: string, start: number, end: number, out: number[]): void {
    const matches: number[] = [];
    for (let i = start; i < end; ) {
      const w = widthAt(text, i);
      if (flagsAt(text, i) & NUMBER && /\p{Nd}/u.test(text.slice(i, i + w))) {
        const last = matches.length - 1;
        if (!this.individualDigits && last > 0 && matches[last] === i) matches[last] = i + w;
        else matches.push(i, i + w);
      }
      i += w;
    }
    splitByMatches(start, end, matches, this.individualDigits ? 'Isolated' : 'Contiguous', out);
  }

  toJSON(): JSONObject {
    return { type: 'Digits', individual_digits: this.individualDigits };
  }
}

export class PreTokenizerSequence implements PreTokenizer {
  readonly byteLevel: boolean;
  readonly addPrefixSpace: boolean;

  constructor(readonly preTokenizers: PreTokenizer[]) {
    this.byteLevel = preTokenizers.some((p) => p.byteLevel);
    this.addPrefixSpace = preTokenizers.some((p) => p.addPrefixSpace);
  }

  split(text: string, start: number, end: number, out: number[]): void {
    let current = [start, end];
    for (const p of this.preTokenizers) {
      const next: number[] = [];
      for (let k = 0; k < current.length; k += 2) p.split(text, current[k], current[k + 1], next);
      current = next;
    }
    for (const v of current) out.push(v);
  }

  toJSON(): JSONObject {
    return { type: 'Sequence', pretokenizers: this.preTokenizers.map((p) => p.toJSON()) };
  }
}

const PRE_TOKENIZER_TYPES = ['BertPreTokenizer', 'ByteLevel', 'Whitespace', 'WhitespaceSplit', 'Split', 'Punctuation', 'Digits', 'Sequence'];
const BEHAVIORS: SplitBehavior[] = ['Removed', 'Isolated', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous'];

function behaviorFrom(obj: JSONObject, jsonPath: string, fallback: SplitBehavior): SplitBehavior {
  const b = optString(obj, 'behavior', jsonPath, fallback);
  if (!BEHAVIORS.includes(b as SplitBehavior)) throw new TokenizerJSONError(`${jsonPath}.behavior`, `unknown behavior "${b}" (supported: ${BEHAVIORS.join(', ')})`);
  return b as SplitBehavior;
}

export function preTokenizerFromJSON(value: unknown, jsonPath: string): PreTokenizer {
  const { obj, type } = expectType(value, jsonPath);
  switch (type) {
    case 'BertPreTokenizer':
      return new BertPreTokenizer();
    case 'ByteLevel':
      return new ByteLevelPreTokenizer(optBool(obj, 'add_prefix_space', jsonPath, true), optBool(obj, 'trim_offsets', jsonPath, true), optBool(obj, 'use_regex', jsonPath, true));
    case 'Whitespace':
      return new WhitespacePreTokenizer();
    case 'WhitespaceSplit':
      return new WhitespaceSplitPreTokenizer();
    case 'Punctuation':
      return new PunctuationPreTokenizer(behaviorFrom(obj, jsonPath, 'Isolated'));
    case 'Digits':
      return new DigitsPreTokenizer(optBool(obj, 'individual_digits', jsonPath, false));
    case 'Split': {
      const pattern = obj.pattern;
      if (!pattern || (typeof pattern.String !== 'string' && typeof pattern.Regex !== 'string')) {
        throw new TokenizerJSONError(`${jsonPath}.pattern`, 'expected {"String": ...} or {"Regex": ...}');
      }
      try {
        return new SplitPreTokenizer(pattern, behaviorFrom(obj, jsonPath, 'Isolated'), optBool(obj, 'invert', jsonPath, false));
      } catch (error) {
        if (error instanceof TokenizerJSONError) throw error;
        const problem = (error as Error).message;
        throw new TokenizerJSONError(`${jsonPath}.pattern`, problem.startsWith('the pattern') ? problem : `invalid regex: ${problem}`);
      }
    }
    case 'Sequence':
      return new PreTokenizerSequence(expectArray(obj.pretokenizers, `${jsonPath}.pretokenizers`).map((p, i) => preTokenizerFromJSON(p, `${jsonPath}.pretokenizers[${i}]`)));
    default:
      return unknownType(jsonPath, type, PRE_TOKENIZER_TYPES);
  }
}
