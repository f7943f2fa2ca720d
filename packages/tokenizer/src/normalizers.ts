/**
 * Normalizers: the first pipeline stage. Each one maps a Normalized string to another, keeping the
 * alignment to the source text, and serializes to the same JSON as HF's `normalizers` module.
 */
import { expectArray, expectType, JSONObject, optBool, TokenizerJSONError, unknownType } from './json-path';
import { mapCodePoints, Normalized, withText } from './normalized';
import { CONTROL, hasFlag, isChineseChar, NONSPACING_MARK, WHITESPACE } from './unicode';

export interface Normalizer {
  normalize(input: Normalized): Normalized;
  toJSON(): JSONObject;
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

export interface BertNormalizerOptions {
  cleanText?: boolean;
  handleChineseChars?: boolean;
  /** null: strip accents when lowercasing (HF's default). */
  stripAccents?: boolean | null;
  lowercase?: boolean;
}

export class BertNormalizer implements Normalizer {
  readonly cleanText: boolean;
  readonly handleChineseChars: boolean;
  readonly stripAccents: boolean | null;
  readonly lowercase: boolean;

  constructor(options: BertNormalizerOptions = {}) {
    this.cleanText = options.cleanText ?? true;
    this.handleChineseChars = options.handleChineseChars ?? true;
    this.stripAccents = options.stripAccents ?? null;
    this.lowercase = options.lowercase ?? true;
  }

  normalize(input: Normalized): Normalized {
    const { text } = input;
    if (PRINTABLE_ASCII.test(text)) return this.lowercase ? withText(input, text.toLowerCase()) : input;
    if (this.mapsUnitForUnit(text)) {
      const spaced = this.cleanText ? text.replace(/[\t\n\r]/g, ' ') : text;
      return withText(input, this.lowercase ? spaced.toLowerCase() : spaced);
    }
    return mapCodePoints(input, (cp) => this.mapChar(cp));
  }

  /**
   * True when normalizing changes nothing but ASCII units, each into one unit (\t \n \r → space,
   * A-Z → a-z): then the text keeps its length and alignment, and replace + toLowerCase give the
   * same result as mapping each code point (a character BERT keeps is one toLowerCase keeps too).
   * Prose with curly quotes and dashes takes this path instead of mapCodePoints.
   */
  private mapsUnitForUnit(text: string): boolean {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x80) {
        if ((c < 32 || c === 127) && this.cleanText && c !== 9 && c !== 10 && c !== 13) return false;
        continue;
      }
      const cp = c >= 0xd800 && c <= 0xdbff && i + 1 < text.length ? text.codePointAt(i)! : c;
      if (this.mapChar(cp) !== null) return false;
      if (cp > 0xffff) i++;
    }
    return true;
  }

  private readonly charCache = new Map<number, string | null>();

  /** All four BERT steps for one code point, in HF's order (clean, CJK, strip accents, lowercase); cached. */
  private mapChar(cp: number): string | null {
    if (cp < 0x80) {
      if (cp === 9 || cp === 10 || cp === 13) return this.cleanText ? ' ' : null;
      if (cp < 32 || cp === 127) return this.cleanText ? '' : null;
      return this.lowercase && cp >= 65 && cp <= 90 ? String.fromCharCode(cp + 32) : null;
    }
    let out = this.charCache.get(cp);
    if (out === undefined) {
      out = this.mapNonAscii(cp);
      this.charCache.set(cp, out);
    }
    return out;
  }

  private mapNonAscii(cp: number): string | null {
    const ch = String.fromCodePoint(cp);
    if (this.cleanText) {
      const cleaned = cleanChar(cp);
      if (cleaned !== null) return cleaned;
    }
    if (this.handleChineseChars && isChineseChar(cp)) return ` ${ch} `;
    let out = ch;
    if (this.stripAccents ?? this.lowercase) {
      let kept = '';
      for (const c of ch.normalize('NFD')) if (!hasFlag(c.codePointAt(0)!, NONSPACING_MARK)) kept += c;
      out = kept;
    }
    if (this.lowercase) {
      let lower = '';
      for (const c of out) lower += c.toLowerCase();
      out = lower;
    }
    return out === ch ? null : out;
  }

  toJSON(): JSONObject {
    return { type: 'BertNormalizer', clean_text: this.cleanText, handle_chinese_chars: this.handleChineseChars, strip_accents: this.stripAccents, lowercase: this.lowercase };
  }
}

function cleanChar(cp: number): string | null {
  if (cp === 0 || cp === 0xfffd || hasFlag(cp, CONTROL)) return '';
  if (cp !== 32 && hasFlag(cp, WHITESPACE)) return ' ';
  return null;
}

function lowercaseChars(input: Normalized): Normalized {
  if (PRINTABLE_ASCII.test(input.text)) return withText(input, input.text.toLowerCase());
  return mapCodePoints(input, (cp) => {
    if (cp < 0x80) return cp >= 65 && cp <= 90 ? String.fromCharCode(cp + 32) : null;
    const ch = String.fromCodePoint(cp);
    const lower = ch.toLowerCase();
    return lower === ch ? null : lower;
  });
}

export class Lowercase implements Normalizer {
  normalize(input: Normalized): Normalized {
    return lowercaseChars(input);
  }
  toJSON(): JSONObject {
    return { type: 'Lowercase' };
  }
}

/** Removes non-spacing marks (apply after NFD/NFKD, as in HF). */
export class StripAccents implements Normalizer {
  normalize(input: Normalized): Normalized {
    if (PRINTABLE_ASCII.test(input.text)) return input;
    return mapCodePoints(input, (cp) => (hasFlag(cp, NONSPACING_MARK) ? '' : null));
  }
  toJSON(): JSONObject {
    return { type: 'StripAccents' };
  }
}

export type UnicodeForm = 'NFC' | 'NFD' | 'NFKC' | 'NFKD';

/**
 * Unicode normalization. Decompositions align each produced unit to its source character;
 * compositions align the result to the whole composed cluster (HF aligns it to the first
 * character only, so offsets can differ on composed clusters).
 */
export class UnicodeNormalizer implements Normalizer {
  constructor(readonly form: UnicodeForm) {}

  normalize(input: Normalized): Normalized {
    if (PRINTABLE_ASCII.test(input.text) || input.text.normalize(this.form) === input.text) return input;
    if (this.form === 'NFD' || this.form === 'NFKD') {
      return mapCodePoints(input, (cp) => {
        const ch = String.fromCodePoint(cp);
        const out = ch.normalize(this.form);
        return out === ch ? null : out;
      });
    }
    return composeClusters(input, this.form);
  }

  toJSON(): JSONObject {
    return { type: this.form };
  }
}

function composeClusters(input: Normalized, form: UnicodeForm): Normalized {
  const clusters = input.text.match(/\P{M}\p{M}*|\p{M}+/gsu) ?? [];
  const parts: string[] = [];
  const align: number[] = [];
  let at = 0;
  for (const cluster of clusters) {
    const out = cluster.normalize(form);
    const start = input.align ? input.align[2 * at] : at;
    const endUnit = at + cluster.length - 1;
    const end = input.align ? input.align[2 * endUnit + 1] : endUnit + 1;
    if (out === cluster) {
      for (let k = 0; k < cluster.length; k++) align.push(input.align ? input.align[2 * (at + k)] : at + k, input.align ? input.align[2 * (at + k) + 1] : at + k + 1);
    } else {
      for (let k = 0; k < out.length; k++) align.push(start, end);
    }
    parts.push(out);
    at += cluster.length;
  }
  return { text: parts.join(''), align: Int32Array.from(align) };
}

export class Strip implements Normalizer {
  constructor(readonly left = true, readonly right = true) {}
  normalize(input: Normalized): Normalized {
    const { text } = input;
    let start = 0;
    let end = text.length;
    while (this.left && start < end && hasFlag(text.charCodeAt(start), WHITESPACE)) start++;
    while (this.right && end > start && hasFlag(text.charCodeAt(end - 1), WHITESPACE)) end--;
    if (start === 0 && end === text.length) return input;
    const align = new Int32Array(2 * (end - start));
    for (let i = start; i < end; i++) {
      align[2 * (i - start)] = input.align ? input.align[2 * i] : i;
      align[2 * (i - start) + 1] = input.align ? input.align[2 * i + 1] : i + 1;
    }
    return { text: text.slice(start, end), align };
  }
  toJSON(): JSONObject {
    return { type: 'Strip', strip_left: this.left, strip_right: this.right };
  }
}

export class Prepend implements Normalizer {
  constructor(readonly prepend: string) {}
  normalize(input: Normalized): Normalized {
    if (input.text.length === 0) return input;
    const n = this.prepend.length;
    const align = new Int32Array(2 * (n + input.text.length));
    const firstStart = input.align ? input.align[0] : 0;
    const firstEnd = input.align ? input.align[1] : 1;
    for (let k = 0; k < n; k++) {
      align[2 * k] = firstStart;
      align[2 * k + 1] = firstEnd;
    }
    for (let i = 0; i < input.text.length; i++) {
      align[2 * (n + i)] = input.align ? input.align[2 * i] : i;
      align[2 * (n + i) + 1] = input.align ? input.align[2 * i + 1] : i + 1;
    }
    return { text: this.prepend + input.text, align };
  }
  toJSON(): JSONObject {
    return { type: 'Prepend', prepend: this.prepend };
  }
}

/** Replaces every occurrence of a literal string (HF `Replace` with a `String` pattern). */
export class Replace implements Normalizer {
  constructor(readonly pattern: string, readonly content: string) {}
  normalize(input: Normalized): Normalized {
    if (!input.text.includes(this.pattern)) return input;
    const { text } = input;
    const parts: string[] = [];
    const align: number[] = [];
    const push = (s: string, start: number, end: number) => {
      parts.push(s);
      for (let k = 0; k < s.length; k++) align.push(start, end);
    };
    let i = 0;
    while (i < text.length) {
      if (text.startsWith(this.pattern, i)) {
        const start = input.align ? input.align[2 * i] : i;
        const last = i + this.pattern.length - 1;
        const end = input.align ? input.align[2 * last + 1] : last + 1;
        push(this.content, start, end);
        i += this.pattern.length;
      } else {
        push(text[i], input.align ? input.align[2 * i] : i, input.align ? input.align[2 * i + 1] : i + 1);
        i++;
      }
    }
    return { text: parts.join(''), align: Int32Array.from(align) };
  }
  toJSON(): JSONObject {
    return { type: 'Replace', pattern: { String: this.pattern }, content: this.content };
  }
}

export class NormalizerSequence implements Normalizer {
  constructor(readonly normalizers: Normalizer[]) {}
  normalize(input: Normalized): Normalized {
    let out = input;
    for (const n of this.normalizers) out = n.normalize(out);
    return out;
  }
  toJSON(): JSONObject {
    return { type: 'Sequence', normalizers: this.normalizers.map((n) => n.toJSON()) };
  }
}

const NORMALIZER_TYPES = ['BertNormalizer', 'Lowercase', 'StripAccents', 'NFC', 'NFD', 'NFKC', 'NFKD', 'Strip', 'Prepend', 'Replace', 'Sequence'];

export function normalizerFromJSON(value: unknown, jsonPath: string): Normalizer {
  const { obj, type } = expectType(value, jsonPath);
  switch (type) {
    case 'BertNormalizer':
      return new BertNormalizer({
        cleanText: optBool(obj, 'clean_text', jsonPath, true),
        handleChineseChars: optBool(obj, 'handle_chinese_chars', jsonPath, true),
        stripAccents: obj.strip_accents === null || obj.strip_accents === undefined ? null : optBool(obj, 'strip_accents', jsonPath, false),
        lowercase: optBool(obj, 'lowercase', jsonPath, true),
      });
    case 'Lowercase':
      return new Lowercase();
    case 'StripAccents':
      return new StripAccents();
    case 'NFC':
    case 'NFD':
    case 'NFKC':
    case 'NFKD':
      return new UnicodeNormalizer(type);
    case 'Strip':
      return new Strip(optBool(obj, 'strip_left', jsonPath, true), optBool(obj, 'strip_right', jsonPath, true));
    case 'Prepend':
      if (typeof obj.prepend !== 'string') throw new TokenizerJSONError(`${jsonPath}.prepend`, 'expected a string');
      return new Prepend(obj.prepend);
    case 'Replace': {
      const pattern = obj.pattern?.String;
      if (typeof pattern !== 'string') throw new TokenizerJSONError(`${jsonPath}.pattern`, 'only {"String": ...} patterns are supported');
      if (typeof obj.content !== 'string') throw new TokenizerJSONError(`${jsonPath}.content`, 'expected a string');
      return new Replace(pattern, obj.content);
    }
    case 'Sequence':
      return new NormalizerSequence(expectArray(obj.normalizers, `${jsonPath}.normalizers`).map((n, i) => normalizerFromJSON(n, `${jsonPath}.normalizers[${i}]`)));
    default:
      return unknownType(jsonPath, type, NORMALIZER_TYPES);
  }
}
