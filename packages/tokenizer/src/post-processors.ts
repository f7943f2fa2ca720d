/**
 * Post-processors: add special tokens around one sequence or a pair (BERT's
 * `[CLS] A [SEP] B [SEP]` with type ids), or adjust offsets (byte-level trimming).
 */
import { Enc } from './encoding';
import { expectArray, expectObject, expectType, JSONObject, optBool, TokenizerJSONError, unknownType } from './json-path';

export interface PostProcessor {
  /** Number of special tokens added for one sequence / a pair. */
  addedTokens(isPair: boolean): number;
  /** Turns the per-sequence encodings into the final list of pieces to merge. */
  processEncodings(encodings: Enc[], addSpecialTokens: boolean): Enc[];
  toJSON(): JSONObject;
}

export type TemplatePiece = { SpecialToken: { id: string; type_id: number } } | { Sequence: { id: 'A' | 'B'; type_id: number } };

export interface SpecialTokenSpec {
  id: string;
  ids: number[];
  tokens: string[];
}

/** Sets sequence ids on pairs (HF's default processing). */
export function defaultProcess(encodings: Enc[]): Enc[] {
  if (encodings.length > 1) encodings.forEach((e, i) => e.setSequenceId(i));
  return encodings;
}

export class TemplateProcessing implements PostProcessor {
  constructor(
    readonly single: TemplatePiece[],
    readonly pair: TemplatePiece[],
    readonly specialTokens: Record<string, SpecialTokenSpec>,
  ) {}

  /** Builds from HF's string form, e.g. `"[CLS] $A [SEP]"` and `"[CLS] $A [SEP] $B:1 [SEP]:1"`. */
  static fromStrings(single: string, pair: string, specialTokens: [string, number][]): TemplateProcessing {
    const specials: Record<string, SpecialTokenSpec> = {};
    for (const [token, id] of specialTokens) specials[token] = { id: token, ids: [id], tokens: [token] };
    return new TemplateProcessing(parseTemplate(single), parseTemplate(pair), specials);
  }

  addedTokens(isPair: boolean): number {
    let n = 0;
    for (const piece of isPair ? this.pair : this.single) if ('SpecialToken' in piece) n += this.specialTokens[piece.SpecialToken.id]?.ids.length ?? 0;
    return n;
  }

  processEncodings(encodings: Enc[], addSpecialTokens: boolean): Enc[] {
    const template = encodings.length === 2 ? this.pair : this.single;
    const out: Enc[] = [];
    for (const piece of template) {
      if ('Sequence' in piece) {
        const i = piece.Sequence.id === 'A' ? 0 : 1;
        const encoding = encodings[i];
        encoding.setTypeIds(piece.Sequence.type_id);
        encoding.setSequenceId(i);
        // Shared unless the template uses the sequence twice (merging never mutates its pieces).
        out.push(out.includes(encoding) ? encoding.clone() : encoding);
      } else if (addSpecialTokens) {
        const spec = this.specialTokens[piece.SpecialToken.id];
        const e = new Enc();
        spec.ids.forEach((id, k) => e.push(id, spec.tokens[k], piece.SpecialToken.type_id, null, 0, 0, 1));
        out.push(e);
      }
    }
    return out;
  }

  toJSON(): JSONObject {
    return { type: 'TemplateProcessing', single: this.single, pair: this.pair, special_tokens: this.specialTokens };
  }
}

function parseTemplate(template: string): TemplatePiece[] {
  return template
    .split(/\s+/)
    .filter(Boolean)
    .map((part): TemplatePiece => {
      const [name, typeId] = part.split(':');
      const type_id = typeId === undefined ? 0 : Number(typeId);
      if (name.startsWith('$')) {
        const id = name === '$' || name === '$A' || name === '$0' ? 'A' : name === '$B' || name === '$1' ? 'B' : null;
        if (!id) throw new TokenizerJSONError('post_processor', `bad template piece ${part}`);
        return { Sequence: { id, type_id: name === '$1' && typeId === undefined ? 1 : type_id } };
      }
      return { SpecialToken: { id: name, type_id } };
    });
}

/** HF `BertProcessing`: `[CLS] A [SEP]` / `[CLS] A [SEP] B [SEP]` with type ids 0/1. */
export class BertProcessing implements PostProcessor {
  private readonly template: TemplateProcessing;
  constructor(
    readonly sep: [string, number],
    readonly cls: [string, number],
  ) {
    this.template = TemplateProcessing.fromStrings(`${cls[0]} $A:0 ${sep[0]}:0`, `${cls[0]}:0 $A:0 ${sep[0]}:0 $B:1 ${sep[0]}:1`, [cls, sep]);
  }
  addedTokens(isPair: boolean): number {
    return isPair ? 3 : 2;
  }
  processEncodings(encodings: Enc[], addSpecialTokens: boolean): Enc[] {
    return this.template.processEncodings(encodings, addSpecialTokens);
  }
  toJSON(): JSONObject {
    return { type: 'BertProcessing', sep: this.sep, cls: this.cls };
  }
}

/** Trims the spaces a byte-level token starts or ends with out of its offsets (when enabled). */
export class ByteLevelProcessing implements PostProcessor {
  constructor(
    readonly addPrefixSpace = true,
    readonly trimOffsets = true,
    readonly useRegex = true,
  ) {}
  addedTokens(): number {
    return 0;
  }
  processEncodings(encodings: Enc[]): Enc[] {
    if (this.trimOffsets) for (const e of encodings) trimByteLevelOffsets(e, this.addPrefixSpace);
    return defaultProcess(encodings);
  }
  toJSON(): JSONObject {
    return { type: 'ByteLevel', add_prefix_space: this.addPrefixSpace, trim_offsets: this.trimOffsets, use_regex: this.useRegex };
  }
}

function isSpaceChar(ch: string): boolean {
  return ch === '\u0120' || /^\s$/u.test(ch);
}

function trimByteLevelOffsets(e: Enc, addPrefixSpace: boolean): void {
  e.tokens.forEach((token, i) => {
    const chars = [...token];
    let leading = 0;
    while (leading < chars.length && isSpaceChar(chars[leading])) leading++;
    let trailing = 0;
    while (trailing < chars.length && isSpaceChar(chars[chars.length - 1 - trailing])) trailing++;
    const o = e.offsets[i];
    if (leading > 0) {
      const isFirst = i === 0 || o[0] === 0;
      if (!(isFirst && addPrefixSpace && leading === 1)) o[0] = Math.min(o[0] + leading, o[1]);
    }
    if (trailing > 0 && o[1] >= trailing) o[1] = Math.max(o[1] - trailing, o[0]);
  });
  for (const o of e.overflowing) trimByteLevelOffsets(o, addPrefixSpace);
}

/** HF `RobertaProcessing`: `<s> A </s>` / `<s> A </s> </s> B </s>`, all type ids 0. */
export class RobertaProcessing implements PostProcessor {
  private readonly template: TemplateProcessing;
  private readonly byteLevel: ByteLevelProcessing;
  constructor(
    readonly sep: [string, number],
    readonly cls: [string, number],
    readonly trimOffsets = true,
    readonly addPrefixSpace = true,
  ) {
    this.template = TemplateProcessing.fromStrings(`${cls[0]} $A:0 ${sep[0]}`, `${cls[0]} $A:0 ${sep[0]} ${sep[0]} $B:0 ${sep[0]}`, [cls, sep]);
    this.byteLevel = new ByteLevelProcessing(addPrefixSpace, trimOffsets);
  }
  addedTokens(isPair: boolean): number {
    return isPair ? 4 : 2;
  }
  processEncodings(encodings: Enc[], addSpecialTokens: boolean): Enc[] {
    if (this.trimOffsets) this.byteLevel.processEncodings(encodings);
    return this.template.processEncodings(encodings, addSpecialTokens);
  }
  toJSON(): JSONObject {
    return { type: 'RobertaProcessing', sep: this.sep, cls: this.cls, trim_offsets: this.trimOffsets, add_prefix_space: this.addPrefixSpace };
  }
}

export class PostProcessorSequence implements PostProcessor {
  constructor(readonly processors: PostProcessor[]) {}
  addedTokens(isPair: boolean): number {
    return this.processors.reduce((n, p) => n + p.addedTokens(isPair), 0);
  }
  processEncodings(encodings: Enc[], addSpecialTokens: boolean): Enc[] {
    let out = encodings;
    for (const p of this.processors) out = p.processEncodings(out, addSpecialTokens);
    return out;
  }
  toJSON(): JSONObject {
    return { type: 'Sequence', processors: this.processors.map((p) => p.toJSON()) };
  }
}

const PROCESSOR_TYPES = ['TemplateProcessing', 'BertProcessing', 'RobertaProcessing', 'ByteLevel', 'Sequence'];

function tokenPair(value: unknown, jsonPath: string): [string, number] {
  if (!Array.isArray(value) || value.length !== 2 || typeof value[0] !== 'string' || typeof value[1] !== 'number') {
    throw new TokenizerJSONError(jsonPath, 'expected ["token", id]');
  }
  return [value[0], value[1]];
}

function templateFromJSON(value: unknown, jsonPath: string): TemplatePiece[] {
  return expectArray(value, jsonPath).map((p, i) => {
    const piece = expectObject(p, `${jsonPath}[${i}]`);
    if (piece.SpecialToken && typeof piece.SpecialToken.id === 'string') return { SpecialToken: { id: piece.SpecialToken.id, type_id: piece.SpecialToken.type_id ?? 0 } };
    if (piece.Sequence && (piece.Sequence.id === 'A' || piece.Sequence.id === 'B')) return { Sequence: { id: piece.Sequence.id, type_id: piece.Sequence.type_id ?? 0 } };
    throw new TokenizerJSONError(`${jsonPath}[${i}]`, 'expected {"SpecialToken": {...}} or {"Sequence": {...}}');
  });
}

export function postProcessorFromJSON(value: unknown, jsonPath: string): PostProcessor {
  const { obj, type } = expectType(value, jsonPath);
  switch (type) {
    case 'TemplateProcessing': {
      const specials = expectObject(obj.special_tokens ?? {}, `${jsonPath}.special_tokens`);
      const single = templateFromJSON(obj.single, `${jsonPath}.single`);
      const pair = templateFromJSON(obj.pair, `${jsonPath}.pair`);
      for (const [where, template] of [['single', single], ['pair', pair]] as const) {
        template.forEach((piece, i) => {
          if ('SpecialToken' in piece && !specials[piece.SpecialToken.id]) throw new TokenizerJSONError(`${jsonPath}.${where}[${i}]`, `special token ${piece.SpecialToken.id} is missing from special_tokens`);
        });
      }
      return new TemplateProcessing(single, pair, specials as Record<string, SpecialTokenSpec>);
    }
    case 'BertProcessing':
      return new BertProcessing(tokenPair(obj.sep, `${jsonPath}.sep`), tokenPair(obj.cls, `${jsonPath}.cls`));
    case 'RobertaProcessing':
      return new RobertaProcessing(tokenPair(obj.sep, `${jsonPath}.sep`), tokenPair(obj.cls, `${jsonPath}.cls`), optBool(obj, 'trim_offsets', jsonPath, true), optBool(obj, 'add_prefix_space', jsonPath, true));
    case 'ByteLevel':
      return new ByteLevelProcessing(optBool(obj, 'add_prefix_space', jsonPath, true), optBool(obj, 'trim_offsets', jsonPath, true), optBool(obj, 'use_regex', jsonPath, true));
    case 'Sequence':
      return new PostProcessorSequence(expectArray(obj.processors, `${jsonPath}.processors`).map((p, i) => postProcessorFromJSON(p, `${jsonPath}.processors[${i}]`)));
    default:
      return unknownType(jsonPath, type, PROCESSOR_TYPES);
  }
}
