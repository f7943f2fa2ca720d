/**
 * Helpers that compare our encodings with HF's Rust `tokenizers` (npm, dev dependency only).
 * HF reports offsets in code points; we report UTF-16 units, so HF's are converted first.
 */
import type { Encoding } from '@pretrain/core';

export const hf = require('tokenizers');

export type HFTokenizer = any;

/** UTF-16 index of each code point (plus the end), for a well-formed copy of `text`. */
function codePointToUnit(text: string): number[] {
  const map: number[] = [];
  for (let i = 0; i < text.length; ) {
    map.push(i);
    const c = text.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00 ? 2 : 1;
  }
  map.push(text.length);
  return map;
}

/** HF encoding → our Encoding shape, offsets converted to UTF-16 units of `texts[sequenceId]`. */
export function fromHF(e: any, texts: string[]): Encoding {
  const maps = texts.map(codePointToUnit);
  const sequenceIds: (number | null)[] = e.getSequenceIds().map((x: number | null | undefined) => x ?? null);
  const offsets = (e.getOffsets() as number[][]).map(([s, t], i): [number, number] => {
    const seq = sequenceIds[i];
    if (seq === null) return [s, t];
    const map = maps[seq] ?? maps[0];
    return [map[s], map[t]];
  });
  return {
    ids: e.getIds(),
    tokens: e.getTokens(),
    typeIds: e.getTypeIds(),
    attentionMask: e.getAttentionMask(),
    specialTokensMask: e.getSpecialTokensMask(),
    wordIds: e.getWordIds().map((x: number | null | undefined) => x ?? null),
    sequenceIds,
    offsets,
    overflowing: (e.getOverflowing() as any[]).map((o) => fromHF(o, texts)),
  };
}

const FIELDS: (keyof Encoding)[] = ['ids', 'tokens', 'typeIds', 'attentionMask', 'specialTokensMask', 'wordIds', 'sequenceIds', 'offsets'];

/** First difference between two encodings (overflowing windows included), or null. */
export function diffEncodings(ours: Encoding, theirs: Encoding, fields: (keyof Encoding)[] = FIELDS, where = ''): string | null {
  for (const field of fields) {
    const a = JSON.stringify(ours[field]);
    const b = JSON.stringify(theirs[field]);
    if (a !== b) return `${where}${field}: ours ${a.slice(0, 400)} vs HF ${b.slice(0, 400)} (tokens ours ${JSON.stringify(ours.tokens).slice(0, 300)} HF ${JSON.stringify(theirs.tokens).slice(0, 300)})`;
  }
  if (ours.overflowing.length !== theirs.overflowing.length) return `${where}overflowing: ours ${ours.overflowing.length} windows vs HF ${theirs.overflowing.length}`;
  for (let k = 0; k < ours.overflowing.length; k++) {
    const d = diffEncodings(ours.overflowing[k], theirs.overflowing[k], fields, `${where}overflowing[${k}].`);
    if (d) return d;
  }
  return null;
}

/** Well-formed text (lone surrogates → U+FFFD), the string HF actually sees. */
export function wellFormed(text: string): string {
  return text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}
