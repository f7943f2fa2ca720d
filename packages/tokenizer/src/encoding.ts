/**
 * The mutable encoding the pipeline works on, with HF's semantics for truncation (windows with a
 * stride become `overflowing`), merging (pairs, special tokens) and padding. `toEncoding` turns it
 * into the contract's plain Encoding.
 */
import { PretrainError, type Encoding } from '@pretrain/core/lite';

export type TruncationStrategy = 'longest_first' | 'only_first' | 'only_second';
export type Direction = 'right' | 'left';

export interface TruncationOptions {
  maxLength: number;
  strategy?: TruncationStrategy;
  /** Tokens shared by consecutive overflowing windows. */
  stride?: number;
  direction?: Direction;
}

export interface PaddingOptions {
  /** 'longest': to the longest in the batch; 'max_length': to `maxLength`. */
  strategy?: 'longest' | 'max_length';
  maxLength?: number;
  direction?: Direction;
  padToMultipleOf?: number;
  padId?: number;
  padTypeId?: number;
  padToken?: string;
}

export class Enc {
  ids: number[] = [];
  typeIds: number[] = [];
  tokens: string[] = [];
  words: (number | null)[] = [];
  offsets: [number, number][] = [];
  specialTokensMask: number[] = [];
  attentionMask: number[] = [];
  overflowing: Enc[] = [];
  /** sequence id → [start, end) token range; empty means one sequence covering everything. */
  sequenceRanges = new Map<number, [number, number]>();

  get length(): number {
    return this.ids.length;
  }

  push(id: number, token: string, typeId: number, word: number | null, start: number, end: number, special: number): void {
    this.ids.push(id);
    this.tokens.push(token);
    this.typeIds.push(typeId);
    this.words.push(word);
    this.offsets.push([start, end]);
    this.specialTokensMask.push(special);
    this.attentionMask.push(1);
  }

  private unshiftToken(from: Enc, k: number): void {
    this.ids.unshift(from.ids[k]);
    this.typeIds.unshift(from.typeIds[k]);
    this.tokens.unshift(from.tokens[k]);
    this.words.unshift(from.words[k]);
    this.offsets.unshift(from.offsets[k]);
    this.specialTokensMask.unshift(from.specialTokensMask[k]);
    this.attentionMask.unshift(from.attentionMask[k]);
  }

  clone(): Enc {
    const c = this.slice(0, this.length);
    c.overflowing = this.overflowing.map((o) => o.clone());
    c.sequenceRanges = new Map([...this.sequenceRanges].map(([k, r]) => [k, [r[0], r[1]]]));
    return c;
  }

  private slice(start: number, stop: number): Enc {
    const e = new Enc();
    e.ids = this.ids.slice(start, stop);
    e.typeIds = this.typeIds.slice(start, stop);
    e.tokens = this.tokens.slice(start, stop);
    e.words = this.words.slice(start, stop);
    e.offsets = this.offsets.slice(start, stop).map((o) => [o[0], o[1]]);
    e.specialTokensMask = this.specialTokensMask.slice(start, stop);
    e.attentionMask = this.attentionMask.slice(start, stop);
    return e;
  }

  setSequenceId(id: number): void {
    this.sequenceRanges.set(id, [0, this.length]);
    for (const o of this.overflowing) o.setSequenceId(id);
  }

  setTypeIds(typeId: number): void {
    this.typeIds.fill(typeId);
    for (const o of this.overflowing) o.setTypeIds(typeId);
  }

  /**
   * Keeps the first (right) or last (left) `maxLength` tokens, extended to whole words, and drops
   * the rest: HF stops tokenizing a sequence once it has max_length tokens.
   */
  cut(maxLength: number, direction: Direction): void {
    const total = this.length;
    if (total <= maxLength) return;
    if (direction === 'right') {
      let end = maxLength;
      const word = this.words[end - 1];
      while (end < total && word !== null && this.words[end] === word) end++;
      Object.assign(this, this.slice(0, end));
    } else {
      let start = total - maxLength;
      const word = this.words[start];
      while (start > 0 && word !== null && this.words[start - 1] === word) start--;
      const kept = this.slice(start, total);
      // HF numbers the kept words from 0 again.
      const first = kept.words.find((w) => w !== null) ?? 0;
      kept.words = kept.words.map((w) => (w === null ? null : w - first));
      Object.assign(this, kept);
    }
  }

  /** HF `Encoding::truncate`: keeps the first window, the others (overlapping by `stride`) go to overflowing. */
  truncate(maxLength: number, stride: number, direction: Direction): void {
    const total = this.length;
    if (maxLength >= total) return;
    if (maxLength === 0) {
      const whole = this.clone();
      const empty = new Enc();
      empty.overflowing = [whole];
      Object.assign(this, empty);
      return;
    }
    if (stride >= maxLength) {
      throw new PretrainError(`truncation stride (${stride}) must be smaller than the space left for the sequence (${maxLength} tokens: max_length minus special tokens)`);
    }
    const ranges = windowRanges(total, maxLength, maxLength - stride, direction);
    const parts = ranges.map(([s, e]) => this.slice(s, e));
    const first = parts[0];
    first.overflowing = parts.slice(1);
    Object.assign(this, first);
  }

  /** HF `Encoding::merge` of a list: concatenation, with HF's overflowing combinations when there are any. */
  static mergeAll(pieces: Enc[]): Enc {
    if (pieces.length === 1 && pieces[0].overflowing.length === 0) return pieces[0];
    const merged = new Enc();
    if (pieces.some((p) => p.overflowing.length > 0)) {
      for (const piece of pieces) merged.mergeWith(piece);
      return merged;
    }
    const single = Enc.wrapSingle(pieces);
    if (single) return single;
    merged.ids = ([] as number[]).concat(...pieces.map((p) => p.ids));
    merged.typeIds = ([] as number[]).concat(...pieces.map((p) => p.typeIds));
    merged.tokens = ([] as string[]).concat(...pieces.map((p) => p.tokens));
    merged.words = ([] as (number | null)[]).concat(...pieces.map((p) => p.words));
    merged.offsets = ([] as [number, number][]).concat(...pieces.map((p) => p.offsets));
    merged.specialTokensMask = ([] as number[]).concat(...pieces.map((p) => p.specialTokensMask));
    merged.attentionMask = ([] as number[]).concat(...pieces.map((p) => p.attentionMask));
    let base = 0;
    for (const p of pieces) {
      for (const [id, [s, e]] of p.sequenceRanges) merged.sequenceRanges.set(id, [base + s, base + e]);
      base += p.length;
    }
    return merged;
  }

  /**
   * One real sequence between a few special tokens (`[CLS] A [SEP]`): the special tokens are
   * added to the sequence's own arrays instead of copying everything into new ones.
   */
  private static wrapSingle(pieces: Enc[]): Enc | null {
    let main = -1;
    for (let i = 0; i < pieces.length; i++) {
      if (pieces[i].sequenceRanges.size > 0 || pieces[i].length > 4) {
        if (main >= 0) return null;
        main = i;
      }
    }
    if (main < 0) return null;
    const target = pieces[main];
    const before = pieces.slice(0, main);
    const after = pieces.slice(main + 1);
    const shift = before.reduce((n, p) => n + p.length, 0);
    for (let b = before.length - 1; b >= 0; b--) {
      const p = before[b];
      for (let k = p.length - 1; k >= 0; k--) target.unshiftToken(p, k);
    }
    for (const p of after) for (let k = 0; k < p.length; k++) target.push(p.ids[k], p.tokens[k], p.typeIds[k], p.words[k], p.offsets[k][0], p.offsets[k][1], p.specialTokensMask[k]);
    for (const [id, [s, e]] of target.sequenceRanges) target.sequenceRanges.set(id, [s + shift, e + shift]);
    return target;
  }

  /** HF `Encoding::merge_with`, overflowing combinations included. */
  mergeWith(pair: Enc): void {
    const overflowings: Enc[] = [];
    for (const selfO of this.overflowing) {
      const n = selfO.clone();
      n.mergeWith(pair.clone());
      overflowings.push(n);
      for (const otherO of pair.overflowing) {
        const m = selfO.clone();
        m.mergeWith(otherO.clone());
        overflowings.push(m);
      }
    }
    for (const otherO of pair.overflowing) {
      const n = this.clone();
      n.mergeWith(otherO.clone());
      overflowings.push(n);
    }
    const base = this.length;
    for (const [id, [s, e]] of pair.sequenceRanges) this.sequenceRanges.set(id, [base + s, base + e]);
    appendAll(this.ids, pair.ids);
    appendAll(this.typeIds, pair.typeIds);
    appendAll(this.tokens, pair.tokens);
    appendAll(this.words, pair.words);
    appendAll(this.offsets, pair.offsets);
    appendAll(this.specialTokensMask, pair.specialTokensMask);
    appendAll(this.attentionMask, pair.attentionMask);
    this.overflowing = overflowings;
  }

  pad(target: number, padId: number, padTypeId: number, padToken: string, direction: Direction): void {
    for (const o of this.overflowing) o.pad(target, padId, padTypeId, padToken, direction);
    const n = target - this.length;
    if (n <= 0) return;
    // A single sequence without ranges still has its tokens in sequence 0; padding is in none.
    if (this.sequenceRanges.size === 0) this.sequenceRanges.set(0, [0, this.length]);
    const fill = <T>(arr: T[], value: T) => {
      const padding = new Array<T>(n).fill(value);
      return direction === 'left' ? [...padding, ...arr] : [...arr, ...padding];
    };
    this.ids = fill(this.ids, padId);
    this.typeIds = fill(this.typeIds, padTypeId);
    this.tokens = fill(this.tokens, padToken);
    this.words = fill<number | null>(this.words, null);
    this.attentionMask = fill(this.attentionMask, 0);
    this.specialTokensMask = fill(this.specialTokensMask, 1);
    this.offsets = direction === 'left' ? [...Array.from({ length: n }, (): [number, number] => [0, 0]), ...this.offsets] : [...this.offsets, ...Array.from({ length: n }, (): [number, number] => [0, 0])];
    if (direction === 'left') for (const [id, [s, e]] of this.sequenceRanges) this.sequenceRanges.set(id, [s + n, e + n]);
  }

  sequenceIds(): (number | null)[] {
    const out: (number | null)[] = new Array(this.length).fill(null);
    if (this.sequenceRanges.size === 0) return out.fill(0);
    const nSequences = this.sequenceRanges.size;
    for (let id = 0; id < nSequences; id++) {
      const [s, e] = this.sequenceRanges.get(id) ?? [0, this.length];
      for (let i = s; i < e; i++) out[i] = id;
    }
    return out;
  }

  toEncoding(): Encoding {
    return {
      ids: this.ids,
      tokens: this.tokens,
      typeIds: this.typeIds,
      attentionMask: this.attentionMask,
      specialTokensMask: this.specialTokensMask,
      wordIds: this.words,
      sequenceIds: this.sequenceIds(),
      offsets: this.offsets,
      overflowing: this.overflowing.map((o) => o.toEncoding()),
    };
  }
}

function appendAll<T>(target: T[], items: T[]): void {
  for (let i = 0; i < items.length; i++) target.push(items[i]);
}

function windowRanges(total: number, maxLength: number, step: number, direction: Direction): [number, number][] {
  const ranges: [number, number][] = [];
  if (direction === 'right') {
    for (let start = 0; start < total; start += step) {
      const stop = Math.min(start + maxLength, total);
      ranges.push([start, stop]);
      if (stop === total) break;
    }
  } else {
    for (let last = total - 1; last >= 0; last -= step) {
      const stop = last + 1;
      const start = Math.max(0, stop - maxLength);
      ranges.push([start, stop]);
      if (start === 0) break;
    }
  }
  return ranges;
}

/** HF `truncate_encodings`: how many tokens each sequence keeps for a pair. */
export function truncateEncodings(encoding: Enc, pair: Enc | null, params: Required<TruncationOptions>): void {
  const { maxLength, stride, direction, strategy } = params;
  if (maxLength === 0) {
    encoding.truncate(0, stride, direction);
    pair?.truncate(0, stride, direction);
    return;
  }
  const total = encoding.length + (pair?.length ?? 0);
  if (total <= maxLength) return;
  const toRemove = total - maxLength;
  if (strategy === 'longest_first') {
    if (!pair) {
      encoding.truncate(total - toRemove, stride, direction);
      return;
    }
    let n1 = encoding.length;
    let n2 = pair.length;
    const swap = n1 > n2;
    if (swap) [n1, n2] = [n2, n1];
    n2 = n1 > maxLength ? n1 : Math.max(n1, maxLength - n1);
    if (n1 + n2 > maxLength) {
      n1 = Math.floor(maxLength / 2);
      n2 = n1 + (maxLength % 2);
    }
    if (swap) [n1, n2] = [n2, n1];
    encoding.truncate(n1, stride, direction);
    pair.truncate(n2, stride, direction);
    return;
  }
  const target = strategy === 'only_first' ? encoding : pair;
  if (!target) throw new PretrainError('truncation strategy only_second needs a pair of sequences');
  if (target.length <= toRemove) {
    throw new PretrainError(`truncation: the ${strategy === 'only_first' ? 'first' : 'second'} sequence (${target.length} tokens) is too short to remove ${toRemove} tokens (strategy ${strategy})`);
  }
  target.truncate(target.length - toRemove, stride, direction);
}

/** HF `pad_encodings`: pads every encoding (and its overflowing windows) to one length. */
export function padEncodings(encodings: Enc[], params: PaddingOptions): void {
  if (encodings.length === 0) return;
  let length = params.strategy === 'max_length' ? (params.maxLength ?? 0) : Math.max(...encodings.map((e) => e.length));
  const multiple = params.padToMultipleOf ?? 0;
  if (multiple > 0 && length % multiple > 0) length += multiple - (length % multiple);
  for (const e of encodings) e.pad(length, params.padId ?? 0, params.padTypeId ?? 0, params.padToken ?? '[PAD]', params.direction ?? 'right');
}
