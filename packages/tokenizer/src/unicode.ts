/**
 * Character classes used by the normalizers and pre-tokenizers, with the definitions HF's Rust
 * code uses (Rust `char::is_whitespace`, the `unicode_categories` crate, BERT's CJK ranges).
 * Results are cached per code point in a lazily filled table, so the regexes run once per
 * distinct character.
 */

const COMPUTED = 1;
export const WHITESPACE = 2;
/** BERT "control": categories Cc/Cf/Cn/Co, except \t \n \r. */
export const CONTROL = 4;
/** BERT punctuation: ASCII punctuation or Unicode P*. */
export const PUNCTUATION = 8;
export const LETTER = 16;
export const NUMBER = 32;
export const NONSPACING_MARK = 64;
/** Regex `\w` as Rust's regex crate defines it (alphabetic, marks, digits, connector punctuation, join controls). */
export const WORD = 128;

const flags = new Uint8Array(0x110000);

const whitespaceRe = /^\p{White_Space}$/u;
const otherRe = /^[\p{Cc}\p{Cf}\p{Cn}\p{Co}]$/u;
const punctuationRe = /^\p{P}$/u;
const letterRe = /^\p{L}$/u;
const numberRe = /^\p{N}$/u;
const markRe = /^\p{Mn}$/u;
const wordRe = /^[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]$/u;

function computeFlags(cp: number): number {
  const ch = String.fromCodePoint(cp);
  let f = COMPUTED;
  if (cp === 9 || cp === 10 || cp === 13 || whitespaceRe.test(ch)) f |= WHITESPACE;
  if (cp !== 9 && cp !== 10 && cp !== 13 && otherRe.test(ch)) f |= CONTROL;
  if (isAsciiPunctuation(cp) || punctuationRe.test(ch)) f |= PUNCTUATION;
  if (letterRe.test(ch)) f |= LETTER;
  if (numberRe.test(ch)) f |= NUMBER;
  if (markRe.test(ch)) f |= NONSPACING_MARK;
  if (wordRe.test(ch)) f |= WORD;
  return f;
}

function isAsciiPunctuation(cp: number): boolean {
  return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126);
}

/** Flags of a code point (lone surrogates count as "other"). */
export function charFlags(cp: number): number {
  let f = flags[cp];
  if (f === 0) {
    f = cp >= 0xd800 && cp <= 0xdfff ? COMPUTED | CONTROL : computeFlags(cp);
    flags[cp] = f;
  }
  return f;
}

export function hasFlag(cp: number, flag: number): boolean {
  return (charFlags(cp) & flag) !== 0;
}

/** BERT's "Chinese character" ranges (CJK Unified Ideographs and extensions). */
export function isChineseChar(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

/** Replaces lone surrogates by U+FFFD, as HF's bindings do when the JS string becomes UTF-8. */
export function toWellFormed(text: string): string {
  const s = text as string & { isWellFormed?: () => boolean; toWellFormed?: () => string };
  if (typeof s.isWellFormed === 'function') return s.isWellFormed() ? text : s.toWellFormed!();
  return text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

/** Length in UTF-16 units of the code point starting at `i`. */
export function codePointLength(cp: number): number {
  return cp > 0xffff ? 2 : 1;
}
